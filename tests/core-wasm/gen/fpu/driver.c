/* Runs the generated x87 cases natively (gcc -m32). stdin: per case 256 bytes of memory and
 * a u32 EFLAGS; stdout: per case the 512-byte buffer (0..255 the case's memory, 256.. its final
 * FNSAVE image), u32 EFLAGS, u32 EAX, u32 1 if a SIGFPE (#MF) ended the case. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void case_fn(uint8_t *buf, uint32_t eflags, uint32_t *out);
extern case_fn *case_table[];
extern uint32_t case_count;

static sigjmp_buf jb;
static void on_fpe(int sig) { (void)sig; siglongjmp(jb, 1); }

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fpe;
  sigaction(SIGFPE, &sa, 0);
  static uint8_t buf[512] __attribute__((aligned(16)));
  for (uint32_t i = 0; i < case_count; i++) {
    uint32_t eflags, out[3] = {0, 0, 0};
    memset(buf, 0, sizeof buf);
    if (fread(buf, 1, 256, stdin) != 256 || fread(&eflags, 4, 1, stdin) != 1) return 1;
    if (sigsetjmp(jb, 1) == 0) case_table[i](buf, eflags, out);
    else out[2] = 1;
    fwrite(buf, 1, 512, stdout);
    fwrite(out, 4, 3, stdout);
  }
  return 0;
}
