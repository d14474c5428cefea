// Native executor for the CPU conformance vectors (build with gcc -m32; see generate.sh).
//
// Reads one case per line on stdin:
//   <code hex> <eflags> <eax> <ecx> <edx> <ebx> <esp> <ebp> <esi> <edi> <mem hex | addr:mem hex | ->
// (numbers in hex). For each case it copies <mem> to the fixed buffer at linear 0x00200000,
// runs the instruction bytes between a prologue that loads all eight GPRs and EFLAGS and an
// epilogue that stores them, and prints one line:
//   <eflags> <eax> ... <edi> <exception | -1> <fault offset | -1> <error code | -1> <mem hex after | ->
// A CPU exception (#DE from DIV, IDIV, AAM 0; or anything unexpected) arrives as a signal; the
// handler records the trap number and the registers at the fault from the signal context and
// resumes the host after the test. The case list is built by generate.mjs, which also turns
// these lines into the checked-in vectors.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define BUF_ADDR 0x00200000u
#define BUF_SIZE 0x00010000u /* 64 KiB: the memory window and room for a valid test ESP */
#define MAX_MEM 4096
#define LOW_ADDR 0x00008000u /* second mapping, reachable with 16-bit addressing (67 prefix) */
#define LOW_SIZE 0x00008000u

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

static struct {
  uint32_t regs[8];
  uint32_t eflags;
} in, out;
static uint32_t host_esp;
static uint8_t *page;          /* RWX page holding prologue + test + epilogue */
static uint32_t fault_resume;  /* address of the "popfd; popad; ret" tail */
static uint32_t test_start;    /* address of the first test byte */
static volatile int fault_trap, fault_eip, fault_err;

static void put8(uint8_t **p, uint8_t b) { *(*p)++ = b; }
static void put32(uint8_t **p, uint32_t v) { memcpy(*p, &v, 4); *p += 4; }

// Assembles the harness around the test bytes. Only MOV touches state between the loads and
// the test, and between the test and the PUSHFD, so the flags the test leaves are the ones we
// record.
static void build(const uint8_t *code, int len) {
  static const uint8_t modrm_disp32[8] = {0x05, 0x0D, 0x15, 0x1D, 0x25, 0x2D, 0x35, 0x3D};
  uint8_t *p = page;
  put8(&p, 0x60);                                  /* pushad */
  put8(&p, 0x9C);                                  /* pushfd */
  put8(&p, 0x89); put8(&p, 0x25); put32(&p, (uint32_t)&host_esp); /* mov [host_esp], esp */
  put8(&p, 0xFF); put8(&p, 0x35); put32(&p, (uint32_t)&in.eflags); /* push dword [in.eflags] */
  put8(&p, 0x9D);                                  /* popfd */
  for (int r = 0; r < 8; r++) {                    /* mov r32, [in.regs[r]], ESP last */
    if (r == ESP) continue;
    put8(&p, 0x8B); put8(&p, modrm_disp32[r]); put32(&p, (uint32_t)&in.regs[r]);
  }
  put8(&p, 0x8B); put8(&p, modrm_disp32[ESP]); put32(&p, (uint32_t)&in.regs[ESP]);
  test_start = (uint32_t)p;
  memcpy(p, code, len);
  p += len;
  for (int r = 0; r < 8; r++) {                    /* mov [out.regs[r]], r32 */
    put8(&p, 0x89); put8(&p, modrm_disp32[r]); put32(&p, (uint32_t)&out.regs[r]);
  }
  put8(&p, 0x8B); put8(&p, 0x25); put32(&p, (uint32_t)&host_esp); /* mov esp, [host_esp] */
  put8(&p, 0x9C);                                  /* pushfd */
  put8(&p, 0x8F); put8(&p, 0x05); put32(&p, (uint32_t)&out.eflags); /* pop dword [out.eflags] */
  fault_resume = (uint32_t)p;
  put8(&p, 0x9D);                                  /* popfd */
  put8(&p, 0x61);                                  /* popad */
  put8(&p, 0xC3);                                  /* ret */
}

static void on_fault(int sig, siginfo_t *si, void *ctx) {
  (void)sig; (void)si;
  ucontext_t *uc = ctx;
  greg_t *g = uc->uc_mcontext.gregs;
  fault_trap = (int)g[REG_TRAPNO];
  fault_err = (int)g[REG_ERR];
  fault_eip = (int)((uint32_t)g[REG_EIP] - test_start);
  out.regs[EAX] = g[REG_EAX]; out.regs[ECX] = g[REG_ECX];
  out.regs[EDX] = g[REG_EDX]; out.regs[EBX] = g[REG_EBX];
  out.regs[ESP] = g[REG_ESP]; out.regs[EBP] = g[REG_EBP];
  out.regs[ESI] = g[REG_ESI]; out.regs[EDI] = g[REG_EDI];
  out.eflags = g[REG_EFL];
  g[REG_ESP] = host_esp;
  g[REG_EIP] = fault_resume;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int unhex(const char *s, uint8_t *dst, int max) {
  if (strcmp(s, "-") == 0) return 0;
  int n = (int)strlen(s);
  if (n % 2 || n / 2 > max) return -1;
  for (int i = 0; i < n / 2; i++) {
    int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    dst[i] = (uint8_t)(hi << 4 | lo);
  }
  return n / 2;
}

int main(void) {
  page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint8_t *buf = mmap((void *)BUF_ADDR, BUF_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  uint8_t *low = mmap((void *)LOW_ADDR, LOW_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (page == MAP_FAILED || buf != (uint8_t *)BUF_ADDR || low != (uint8_t *)LOW_ADDR) {
    fprintf(stderr, "runner: mmap failed\n");
    return 1;
  }
  // Tests may leave ESP pointing anywhere, so signals run on their own stack.
  static uint8_t altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGTRAP, &sa, NULL);

  static char line[65536], codehex[4096], memhex[2 * MAX_MEM + 8];
  static uint8_t code[2048], mem[MAX_MEM];
  while (fgets(line, sizeof line, stdin)) {
    uint32_t v[9];
    if (sscanf(line, "%4095s %x %x %x %x %x %x %x %x %x %8199s", codehex, &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7], &v[8], memhex) != 11) {
      fprintf(stderr, "runner: bad line: %s", line);
      return 1;
    }
    // The memory token is "<hex>" for the window at BUF_ADDR or "<addr>:<hex>" for another one.
    uint8_t *win = buf;
    char *mtok = memhex, *colon = strchr(memhex, ':');
    if (colon) {
      *colon = 0;
      uint32_t a = (uint32_t)strtoul(memhex, NULL, 16);
      int in_low = a >= LOW_ADDR && a + MAX_MEM <= LOW_ADDR + LOW_SIZE;
      int in_buf = a >= BUF_ADDR && a + MAX_MEM <= BUF_ADDR + BUF_SIZE;
      if (!in_low && !in_buf) {
        fprintf(stderr, "runner: bad window %s\n", memhex);
        return 1;
      }
      win = (uint8_t *)a;
      mtok = colon + 1;
    }
    int clen = unhex(codehex, code, sizeof code);
    int mlen = unhex(mtok, mem, MAX_MEM);
    if (clen <= 0 || mlen < 0) {
      fprintf(stderr, "runner: bad hex: %s", line);
      return 1;
    }
    in.eflags = v[0];
    for (int r = 0; r < 8; r++) in.regs[r] = v[1 + r];
    memset(win, 0, MAX_MEM);
    memcpy(win, mem, mlen);
    build(code, clen);
    fault_trap = -1;
    fault_eip = -1;
    ((void (*)(void))page)();
    __asm__ volatile("fninit"); /* x87 cases leave their state behind; the host starts clean */
    printf("%x", out.eflags);
    for (int r = 0; r < 8; r++) printf(" %x", out.regs[r]);
    printf(" %d %d %d ", fault_trap, fault_eip, fault_trap >= 0 ? fault_err : -1);
    if (mlen == 0) printf("-");
    for (int i = 0; i < mlen; i++) printf("%02x", win[i]);
    printf("\n");
  }
  return 0;
}
