// Native executor for CPU cases on an x86-64 host that cannot run 32-bit code (IA32 emulation
// disabled in the kernel, as on this project's machine): the same job and the same line protocol
// as runner.c, but the case runs in 64-bit mode. Build: gcc -O2 (no -m32).
//
// Why this is sound for the cases fed to it: in 64-bit mode, an instruction without a REX prefix
// and with an 8/16/32-bit operand size computes the same result and flags as in 32-bit mode (SDM
// Vol. 1 §3.2.1, Vol. 2 §2.2.1), with three differences the case generators keep out of its way:
//  - some opcodes mean something else or are invalid (40-4F are REX; 06/07/0E/16/17/1E/1F, 27,
//    2F, 37, 3F, 60-62, 82, 9A, C4/C5, CE, D4-D6, EA are invalid; 63 is MOVSXD), and PUSH/POP/
//    CALL/RET and every stack access use 64-bit slots: none of these is sent here
//    (core-wasm/x86/opcodes.ts marks them with `x64`);
//  - ModRM mod=00 rm=101 is RIP-relative instead of [disp32]: cases address memory through a
//    base register or the SIB form of [disp32] (SIB base=101, no index), identical in both modes;
//  - a 32-bit destination zero-extends into its 64-bit register: only the low 32 bits are
//    compared. Every register is loaded zero-extended, so [reg+disp] with a small disp is the
//    same address in both modes; string instructions get a 67 prefix from the generator, making
//    ESI/EDI/ECX (not RSI/RDI/RCX) the pointers and counter, as in 32-bit code.
//
// Reads one case per line on stdin:
//   <code hex> <eflags> <eax> <ecx> <edx> <ebx> <esp> <ebp> <esi> <edi> <mem hex | addr:mem hex | ->
// and prints <eflags> <eax> ... <edi> <exception | -1> <fault offset | -1> <error code | -1>
// <mem hex after | -> (see runner.c). The memory window is at linear 0x00200000 (below 4 GiB,
// so a 32-bit register can point into it). Exceptions arrive as signals; the handler records
// the trap number and the registers at the fault from the signal context.
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define BUF_ADDR 0x00200000u
#define BUF_SIZE 0x00010000u /* 64 KiB: the memory window and room for a valid test ESP */
#define MAX_MEM 4096
#define STATE_ADDR 0x00100000u /* the harness state, reachable with a 32-bit absolute address */
#define CODE_ADDR 0x00110000u

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

struct state {
  uint32_t in_regs[8];
  uint32_t out_regs[8];
  uint64_t in_eflags, out_eflags, host_rsp;
};
static struct state *st;
static uint8_t *page;
static uint64_t fault_resume, test_start;
static volatile int fault_trap, fault_eip, fault_err;

static void put8(uint8_t **p, uint8_t b) { *(*p)++ = b; }
static void put32(uint8_t **p, uint32_t v) { memcpy(*p, &v, 4); *p += 4; }
#define ABS(field) ((uint32_t)(STATE_ADDR + offsetof(struct state, field)))
/* ModRM reg,[SIB] + SIB "no base, no index" + disp32: an absolute address in 64-bit mode. */
static void absmem(uint8_t **p, int reg, uint32_t addr) { put8(p, (uint8_t)(reg << 3 | 4)); put8(p, 0x25); put32(p, addr); }

// The harness around the test bytes: save the host's callee-saved registers and flags, load
// EFLAGS and the eight registers (32-bit loads: the upper halves become zero), run the test,
// store the registers, then EFLAGS after switching back to the host stack. Only MOVs run between
// the test and the PUSHFQ, so the flags recorded are the test's.
static void build(const uint8_t *code, int len) {
  uint8_t *p = page;
  put8(&p, 0x53);                                   /* push rbx */
  put8(&p, 0x55);                                   /* push rbp */
  put8(&p, 0x9C);                                   /* pushfq */
  put8(&p, 0x48); put8(&p, 0x89); absmem(&p, 4, ABS(host_rsp)); /* mov [host_rsp], rsp */
  put8(&p, 0xFF); absmem(&p, 6, ABS(in_eflags));    /* push qword [in_eflags] */
  put8(&p, 0x9D);                                   /* popfq */
  for (int r = 0; r < 8; r++) {                     /* mov r32, [in_regs[r]], ESP last */
    if (r == ESP) continue;
    put8(&p, 0x8B); absmem(&p, r, ABS(in_regs) + 4 * r);
  }
  put8(&p, 0x8B); absmem(&p, ESP, ABS(in_regs) + 4 * ESP);
  test_start = (uint64_t)p;
  memcpy(p, code, len);
  p += len;
  for (int r = 0; r < 8; r++) {                     /* mov [out_regs[r]], r32 */
    put8(&p, 0x89); absmem(&p, r, ABS(out_regs) + 4 * r);
  }
  put8(&p, 0x48); put8(&p, 0x8B); absmem(&p, 4, ABS(host_rsp)); /* mov rsp, [host_rsp] */
  put8(&p, 0x9C);                                   /* pushfq */
  put8(&p, 0x8F); absmem(&p, 0, ABS(out_eflags));   /* pop qword [out_eflags] */
  fault_resume = (uint64_t)p;
  put8(&p, 0x9D);                                   /* popfq */
  put8(&p, 0x5D);                                   /* pop rbp */
  put8(&p, 0x5B);                                   /* pop rbx */
  put8(&p, 0xC3);                                   /* ret */
}

static void on_fault(int sig, siginfo_t *si, void *ctx) {
  (void)sig; (void)si;
  ucontext_t *uc = ctx;
  greg_t *g = uc->uc_mcontext.gregs;
  fault_trap = (int)g[REG_TRAPNO];
  fault_err = (int)g[REG_ERR];
  fault_eip = (int)((uint64_t)g[REG_RIP] - test_start);
  st->out_regs[EAX] = (uint32_t)g[REG_RAX]; st->out_regs[ECX] = (uint32_t)g[REG_RCX];
  st->out_regs[EDX] = (uint32_t)g[REG_RDX]; st->out_regs[EBX] = (uint32_t)g[REG_RBX];
  st->out_regs[ESP] = (uint32_t)g[REG_RSP]; st->out_regs[EBP] = (uint32_t)g[REG_RBP];
  st->out_regs[ESI] = (uint32_t)g[REG_RSI]; st->out_regs[EDI] = (uint32_t)g[REG_RDI];
  st->out_eflags = (uint64_t)g[REG_EFL];
  g[REG_RSP] = (greg_t)st->host_rsp;
  g[REG_RIP] = (greg_t)fault_resume;
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
  st = mmap((void *)STATE_ADDR, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  page = mmap((void *)CODE_ADDR, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  uint8_t *buf = mmap((void *)BUF_ADDR, BUF_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (st != (void *)STATE_ADDR || page != (void *)CODE_ADDR || buf != (uint8_t *)BUF_ADDR) {
    fprintf(stderr, "runner64: mmap at a fixed low address failed\n");
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
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);

  static char line[65536], codehex[4096], memhex[2 * MAX_MEM + 8];
  static uint8_t code[2048], mem[MAX_MEM];
  while (fgets(line, sizeof line, stdin)) {
    uint32_t v[9];
    if (strcmp(line, "sync\n") == 0) { fflush(stdout); continue; } /* a batch ends: answer now */
    if (sscanf(line, "%4095s %x %x %x %x %x %x %x %x %x %8199s", codehex, &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7], &v[8], memhex) != 11) {
      fprintf(stderr, "runner64: bad line: %s", line);
      return 1;
    }
    uint8_t *win = buf;
    char *mtok = memhex, *colon = strchr(memhex, ':');
    if (colon) {
      *colon = 0;
      uint32_t a = (uint32_t)strtoul(memhex, NULL, 16);
      if (a < BUF_ADDR || a + MAX_MEM > BUF_ADDR + BUF_SIZE) {
        fprintf(stderr, "runner64: window %s is not mapped here\n", memhex);
        return 1;
      }
      win = (uint8_t *)(uintptr_t)a;
      mtok = colon + 1;
    }
    int clen = unhex(codehex, code, sizeof code);
    int mlen = unhex(mtok, mem, MAX_MEM);
    if (clen <= 0 || mlen < 0) {
      fprintf(stderr, "runner64: bad hex: %s", line);
      return 1;
    }
    st->in_eflags = v[0];
    for (int r = 0; r < 8; r++) st->in_regs[r] = v[1 + r];
    memset(win, 0, MAX_MEM);
    memcpy(win, mem, mlen);
    build(code, clen);
    fault_trap = -1;
    fault_eip = -1;
    ((void (*)(void))page)();
    __asm__ volatile("fninit"); /* x87 cases leave their state behind; the host starts clean */
    printf("%x", (uint32_t)st->out_eflags);
    for (int r = 0; r < 8; r++) printf(" %x", st->out_regs[r]);
    printf(" %d %d %d ", fault_trap, fault_eip, fault_trap >= 0 ? fault_err : -1);
    if (mlen == 0) printf("-");
    for (int i = 0; i < mlen; i++) printf("%02x", win[i]);
    printf("\n");
  }
  return 0;
}
