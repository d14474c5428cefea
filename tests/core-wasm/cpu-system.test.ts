// System-level CPU checks that per-instruction vectors cannot reach: paging and the TLB,
// rings and the TSS stack switch, SYSENTER, real mode, exception classes and double/triple
// faults, interrupts and HLT, port and MMIO traps. Each program in cpu-asm/ is assembled with
// nasm at test time (skipped without nasm), runs from flat 32-bit ring 0 (setupFlat32) and
// leaves results at RES and an exception log at LOG (see cpu-asm/prelude.inc). Every program
// runs twice: interpreted, and with the JIT at threshold 1 (each block translated the first
// time it runs), which must not change any result.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as L from "../../core-wasm/build/layout.ts";
import { instantiateCore, type Core } from "../../core-wasm/loader.ts";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const asmDir = new URL("./cpu-asm/", import.meta.url).pathname;
const LOG = 0x8000, RES = 0x8800, RAM = 8 << 20;

let nasm = true;
try { execFileSync("nasm", ["-v"]); } catch { nasm = false; }
const skip = nasm ? false : "nasm is not installed";

function assemble(name: string): Uint8Array {
  const out = join(mkdtempSync(join(tmpdir(), "vireo-cpu-")), name + ".bin");
  execFileSync("nasm", ["-f", "bin", "-I", asmDir, "-o", out, join(asmDir, name + ".asm")]);
  return readFileSync(out);
}

interface Machine {
  core: Core;
  cpu: { setupFlat32(e: number): void; getReg(i: number): number; setReg(i: number, v: number): void; run(n: number): number };
  res(i: number): number;
  log(): { vec: number; err: number; cr2: number; cs: number; esp: number; eip: number; eflags: number }[];
  traps: { kind: number; write: number; size: number; addr: number; data: number }[];
  intr: { pending: number };
}

let lastCore: Core | undefined;
function boot(name: string, jit: boolean, readData: (kind: number, addr: number) => number = () => 0xffffffff): Machine {
  const traps: Machine["traps"] = [];
  const intr = { pending: -1 };
  let core!: Core;
  core = instantiateCore(wasm, RAM, {
    trap() {
      const rp = core.runPage;
      const t = { kind: rp[L.TRAP_KIND >> 2]!, write: rp[L.TRAP_WRITE >> 2]!, size: rp[L.TRAP_SIZE >> 2]!,
        addr: rp[L.TRAP_ADDR >> 2]! >>> 0, data: rp[L.TRAP_DATA >> 2]! >>> 0 };
      traps.push(t);
      if (!t.write) rp[L.TRAP_DATA >> 2] = readData(t.kind, t.addr);
    },
    intack() {
      const v = intr.pending;
      intr.pending = -1;
      core.runPage[L.RUN_INTR >> 2] = 0;
      return v;
    },
    rdtsc: () => 0n,
  });
  if (jit) core.setJit(1);
  lastCore = core;
  core.ram.set(assemble(name), 0x1000);
  const cpu = core.exports as unknown as Machine["cpu"];
  cpu.setupFlat32(0x1000);
  cpu.setReg(4, 0x9000);
  const dv = new DataView(core.ram.buffer, core.ram.byteOffset, core.ram.byteLength);
  return {
    core, cpu, traps, intr,
    res: (i) => dv.getUint32(RES + 4 * i, true),
    log: () => Array.from({ length: dv.getUint32(LOG, true) }, (_, i) => {
      const b = LOG + 4 + 32 * i, g = (o: number) => dv.getUint32(b + o, true);
      return { vec: g(0), err: g(4), cr2: g(8), cs: g(12) & 0xffff, esp: g(16), eip: g(20), eflags: g(24) };
    }),
  };
}

/** Registers the test twice, interpreted and through the JIT; `jitTodo` marks a known JIT bug.
 *  The JIT run must also retire as many instructions as the interpreted one (the last core a
 *  test boots is compared; node:test runs a file's tests in order). */
function both(name: string, opts: { skip?: string | false; jitTodo?: string }, fn: (jit: boolean) => void): void {
  let interpreted: number | undefined;
  const instret = () => (lastCore!.exports.instret as () => number)();
  test(`${name} [interpreter]`, { skip: opts.skip }, () => {
    lastCore = undefined;
    fn(false);
    interpreted = instret();
  });
  test(`${name} [jit threshold 1]`, { skip: opts.skip, todo: opts.jitTodo }, () => {
    lastCore = undefined;
    fn(true);
    // Passing with nothing translated would prove nothing about the JIT.
    const st = lastCore!.jit.stats;
    assert.ok(st.blocks > 0 && st.inline > 0, `nothing translated: ${JSON.stringify(st)}`);
    if (interpreted !== undefined) assert.equal(instret(), interpreted, "instructions retired, as interpreted");
  });
}

const hex = (v: number) => "0x" + (v >>> 0).toString(16);
function runToOff(m: Machine, budget = 200000): void {
  const exit = m.cpu.run(budget);
  assert.equal(exit, L.EXIT_POWEROFF, `run() exit ${exit} at EIP ${hex(m.cpu.getReg(8))}, log ${JSON.stringify(m.log())}`);
}

both("paging: 4 KiB and 4 MiB pages, #PF codes and CR2, A/D bits, WP, INVLPG, global pages", { skip }, (jit) => {
  const m = boot("paging", jit);
  runToOff(m);
  assert.equal(m.res(6), 0xd0e, "reached the end");
  assert.equal(new DataView(m.core.ram.buffer, m.core.ram.byteOffset).getUint32(0x400010, true), 0x12345678);
  assert.equal(m.res(0) & 0x60, 0x60, "4 MiB PDE accessed and dirty");
  assert.equal(m.res(1) & 0x60, 0x60, "PTE accessed and dirty after a WP=0 supervisor write");
  assert.equal(m.res(2), 0x610, "INVLPG drops the stale translation");
  assert.equal(m.res(3), 0x3000, "a global page survives a CR3 reload");
  assert.equal(m.res(4), 0x3010, "clearing CR4.PGE flushes global pages");
  assert.equal(m.res(5), 0x11111111, "a page-crossing store that faults writes nothing");
  const log = m.log().map((e) => [e.vec, e.err, hex(e.cr2)]);
  assert.deepEqual(log, [[14, 0, "0xc00123"], [14, 2, "0x401000"], [14, 3, "0x5000c"], [14, 3, "0x50000"]]);
});

both("instruction fetch across a page boundary: #PF on the second page at the instruction's first byte", { skip }, (jit) => {
  const m = boot("fetchpf", jit);
  runToOff(m);
  assert.equal(m.res(2), 0xd0e, "reached the end");
  // Each straddling instruction: #PF, error 0 (supervisor read, not present), CR2 the first
  // byte of the missing page, the saved EIP its first byte (the 66 prefix's for the last).
  const end = 0x72000;
  assert.deepEqual(m.log().map((e) => [e.vec, e.err, hex(e.cr2), hex(e.eip)]), [
    [14, 0, hex(end), hex(end - 1)], // 0F | 85 rel32
    [14, 0, hex(end), hex(end - 3)], // 0F 85 xx | xx xx xx
    [14, 0, hex(end), hex(end - 2)], // 0F B6 | ModRM
    [14, 0, hex(end), hex(end - 3)], // 8B 84 24 | disp32
    [14, 0, hex(end), hex(end - 1)], // 66 | 8B C1
  ]);
  assert.equal(hex(m.res(0)), "0xc0ffee11", "with the page present, MOV EAX, [ESP + disp32] across it");
  assert.equal(hex(m.res(1)), "0xcd", "MOVZX EAX, BL across it");
});

both("rings: IRET to ring 3, INT 0x80 through the TSS, #GP in ring 3, SYSENTER/SYSEXIT, RETF outward, call gate", { skip }, (jit) => {
  const m = boot("rings", jit);
  runToOff(m);
  assert.equal(m.res(16), 0xd0e, "reached the end");
  assert.deepEqual([0, 1].map((i) => m.res(i) & 0xffff), [0x23, 0x2b], "CS/SS in ring 3");
  const log = m.log();
  assert.deepEqual(log.map((e) => [hex(e.vec), e.err, hex(e.cs)]),
    [["0x80", 0, "0x23"], ["0xd", 0, "0x23"], ["0xd", 0, "0x23"], ["0xd", 0, "0x23"], ["0xd", 0x18, "0x23"], ["0xd", 0, "0x23"]]);
  // Handler ESP: ESP0 - 5 pushed dwords (SS ESP EFLAGS CS EIP) - error - vector - EAX - EBX.
  assert.equal(log[0]!.esp, 0xa000 - 4 * 9);
  assert.deepEqual([2, 3, 4].map((i) => m.res(i) & (i === 4 ? 0xffffffff : 0xffff)), [0x23, 0x2b, 0x7000], "after SYSEXIT");
  assert.deepEqual([5, 6, 7].map((i) => m.res(i) & (i === 7 ? 0xffffffff : 0xffff)), [0x10, 0x18, 0xa800], "after SYSENTER");
  assert.deepEqual([8, 9, 10, 11].map((i) => m.res(i)), [0x23, 0x2b, 0x7000, 0xa000 - 20], "INT frame from ring 3");
  assert.deepEqual(m.traps.map((t) => [t.kind, t.addr]), [[L.TRAP_PIO, 0x81]], "only the permitted port was accessed");
  assert.equal(m.res(12) & 0xffff, 0x23, "RETF to ring 3");
  assert.equal(m.res(13) & 0xffff, 0x10, "call gate to ring 0");
  assert.deepEqual([m.res(14), m.res(15)], [0x23, 0x2b], "call gate pushed the outer CS and SS");
});

both("real mode: 16-bit ops and addressing, IVT interrupt, far call, 66 prefix, REP STOSW", { skip }, (jit) => {
  const m = boot("realmode", jit);
  runToOff(m);
  assert.equal(m.res(10), 0xd0e, "reached the end");
  assert.equal(m.res(0), 0x00012340, "MUL BX");
  assert.equal(m.res(1), 0x3030beef, "[BX+SI+disp] and INT 30h handler");
  assert.equal(m.res(2) & 0xffff, 0xfa, "far call");
  assert.equal(m.res(4), 0x89abcdef, "66 prefix");
  assert.deepEqual([m.res(8), m.res(9) & 0xffff], [0x5a5a5a5a, 0x5a5a], "REP STOSW through ES");
  assert.equal(m.cpu.getReg(16) & 1, 0, "CR0.PE clear");
});

both("exceptions: classes, error codes, trap EIPs, double fault, then triple fault", { skip }, (jit) => {
  const m = boot("faults", jit);
  const exit = m.cpu.run(200000);
  assert.equal(exit, L.EXIT_SHUTDOWN, "the final fault triple-faults");
  assert.equal(m.res(0), 0xd0e, "the double fault was handled");
  const log = m.log();
  assert.deepEqual(log.map((e) => [e.vec, e.err]),
    [[6, 0], [0, 0], [3, 0], [13, 0x1000], [4, 0], [5, 0], [13, 0x38], [11, 0x40], [8, 0]]);
  // INT3 and INTO are traps: the pushed EIP is the next instruction (INT3 is one byte).
  const bin = assemble("faults");
  assert.equal(bin[log[2]!.eip - 1 - 0x1000], 0xcc, "INT3 pushes the address after it");
  assert.equal(bin[log[4]!.eip - 1 - 0x1000], 0xce, "INTO pushes the address after it");
});

both("CS limit: fetching past it raises #GP(0) at the instruction that crosses it", { skip }, (jit) => {
  const m = boot("cslimit", jit);
  runToOff(m); // the #GP handler halts with IF=0 (resume is 0)
  const log = m.log();
  assert.deepEqual(log.map((e) => [e.vec, e.err, e.cs]), [[13, 0, 0x48]]);
  const bin = assemble("cslimit");
  assert.deepEqual([...bin.subarray(log[0]!.eip - 0x1000, log[0]!.eip - 0x1000 + 5)], [0xb8, 0x78, 0x56, 0x34, 0x12], "EIP of the MOV that crosses the limit");
  assert.deepEqual([m.res(0), m.res(1)], [1, 0], "the code inside the limit ran, the code after the fault did not");
});

both("CS base not page-aligned: a jump below offset 0 (wrapping past the limit) raises #GP(0)", { skip }, (jit) => {
  const m = boot("csbase", jit);
  const exit = m.cpu.run(200000); // the #GP handler halts with IF=0 (resume is 0)
  assert.equal(exit, L.EXIT_POWEROFF, `run() exit ${exit}, log ${JSON.stringify(m.log())}`);
  assert.deepEqual(m.log().map((e) => [e.vec, e.err, e.cs]), [[13, 0, 0x48]]);
  assert.deepEqual([m.res(0), m.res(1)], [1, 0], "the code below the segment's base did not run");
});

both("REP MOVS/STOS: fills, overlapping MOVSB, misaligned MOVSD across pages, #PF progress", { skip }, (jit) => {
  const m = boot("string", jit);
  runToOff(m);
  assert.deepEqual([m.res(0), m.res(1)].map(hex), ["0x11111111", "0x0"], "REP STOSB");
  assert.deepEqual([m.res(2), m.res(3)].map(hex), ["0xabababab", "0x0"], "overlapping MOVSB replicates");
  assert.deepEqual([m.res(4), m.res(5), m.res(6)].map(hex), ["0x0", hex(0x100000 + 0x10ffe + 0x1800), "0x0"], "misaligned MOVSD");
  assert.deepEqual(m.log().map((e) => [e.vec, e.err, hex(e.cr2)]), [[14, 2, "0x161000"]]);
  assert.deepEqual([m.res(7), m.res(8), m.res(9)].map(hex), ["0x400", "0x161000", "0x5a5a5a5a"], "progress at the #PF");
});

both("interrupts: STI shadow, HLT with IF=1, delivery after HLT; MMIO and port traps", { skip }, (jit) => {
  const m = boot("irq", jit, (kind, addr) => (kind === L.TRAP_MMIO ? 0xcafef00d : 0xbeef));
  m.core.runPage[L.RUN_INTR >> 2] = 1; // already pending: STI's shadow must still let HLT run
  m.intr.pending = 0x20;
  assert.equal(m.cpu.run(100000), L.EXIT_HLT);
  const hltEnd = m.cpu.getReg(8);
  assert.equal(m.cpu.run(100000), L.EXIT_POWEROFF);
  assert.equal(m.res(4), 0xd0e, "reached the end");
  assert.equal(m.res(0), hltEnd, "the interrupt returns to the instruction after HLT");
  assert.equal(m.res(1), 0x1111);
  assert.equal(m.res(2), 0xcafef00d, "MMIO read result");
  assert.equal(m.res(3) & 0xffff, 0xbeef, "IN AX, DX");
  assert.deepEqual(m.traps.map((t) => [t.kind, t.write, t.size, hex(t.addr)]), [
    [L.TRAP_MMIO, 0, 4, "0x7ff00010"], [L.TRAP_MMIO, 1, 2, "0x7ff00020"], [L.TRAP_PIO, 1, 1, "0x3f8"], [L.TRAP_PIO, 0, 2, "0x3f8"],
  ]);
  assert.equal(m.traps[1]!.data, 0x1234);
  assert.equal(m.traps[2]!.data, 0x41);
  assert.equal(m.core.runPage[L.RUN_STAT_MMIO >> 2], 2);
  assert.equal(m.core.runPage[L.RUN_STAT_PIO >> 2], 2);
  assert.equal(m.core.runPage[L.RUN_STAT_INTS >> 2], 1);
});

both("APIC base MSR and CPUID.APIC only with RUN_APIC_BASE set; WRMSR 0x1B is a TRAP_MSR; PAUSE exits on request", { skip }, (jit) => {
  // A PIC-only board: no APIC bit, RDMSR and both WRMSRs #GP, PAUSE is a plain NOP.
  const off = boot("apicmsr", jit);
  runToOff(off);
  assert.equal(off.res(0) & (1 << 9), 0, "CPUID.1:EDX.APIC clear");
  assert.equal(off.res(1), 0x5a5a5a5a, "RDMSR faulted");
  assert.deepEqual(off.log().map((e) => [e.vec, e.err]), [[13, 0], [13, 0], [13, 0], [13, 0]]);
  assert.equal(off.traps.length, 0);
  assert.equal(off.res(4), 0xd0e);

  const on = boot("apicmsr", jit);
  on.core.runPage[L.RUN_APIC_BASE >> 2] = (0xfee00900 | 0);
  on.core.runPage[L.RUN_PAUSE_EXIT >> 2] = 1;
  assert.equal(on.cpu.run(200000), L.EXIT_PAUSE);
  assert.equal(on.res(4), 0, "stopped right after PAUSE");
  runToOff(on);
  assert.equal(on.res(0) & (1 << 9), 1 << 9, "CPUID.1:EDX.APIC set");
  assert.equal(on.res(1), 0xfee00900);
  assert.equal(on.res(2), 0);
  assert.equal(on.res(3), 0xfee00900, "BSP is read-only");
  assert.deepEqual(on.traps.map((t) => [t.kind, t.write, hex(t.addr), hex(t.data)]), [[L.TRAP_MSR, 1, "0x1b", "0xfee00900"]]);
  assert.deepEqual(on.log().map((e) => e.vec), [13], "the reserved x2APIC bit #GPs");
  assert.equal(on.res(4), 0xd0e);
});

test("reset: real mode at F000:FFF0, the first fetch is an MMIO read of 0xFFFFFFF0", () => {
  const traps: number[] = [];
  let core!: Core;
  core = instantiateCore(wasm, RAM, {
    trap() {
      traps.push(core.runPage[L.TRAP_ADDR >> 2]! >>> 0);
      core.runPage[L.TRAP_DATA >> 2] = 0xf4; // HLT
    },
    intack: () => 0,
    rdtsc: () => 0n,
  });
  const cpu = core.exports as unknown as Machine["cpu"] & { reset(): void };
  cpu.reset();
  assert.deepEqual([8, 9, 11, 16].map((i) => hex(cpu.getReg(i))), ["0xfff0", "0x2", "0xf000", "0x60000010"]);
  assert.equal(cpu.getReg(2) & 0xf00, 0x600, "EDX holds the family-6 signature");
  assert.equal(cpu.run(10), L.EXIT_POWEROFF, "HLT with IF=0");
  assert.deepEqual(traps.map(hex), ["0xfffffff0"]);
  assert.equal(cpu.getReg(8), 0xfff1);
});

both("tasks: CALL to a TSS and IRET back (NT, back link), #DF through a task gate", { skip }, (jit) => {
  const m = boot("task", jit);
  runToOff(m);
  assert.equal(m.res(8), 0xd0e, "the double-fault task ran");
  assert.equal(m.res(0) & 0x4000, 0x4000, "NT set in the called task");
  assert.equal(m.res(1), 0x30, "back link to the caller's TSS");
  assert.equal(m.res(2), 0x1234, "IRET restored the caller's registers");
  assert.equal(m.res(3) & 0x4000, 0, "NT clear again");
  assert.equal(m.res(4), 0, "#DF error code on the new stack");
  const bin = assemble("task");
  assert.deepEqual([...bin.subarray(m.res(5) - 0x1000, m.res(5) - 0x1000 + 2)], [0xa1, 0x00], "saved EIP is the faulting MOV");
  assert.equal(m.res(6), 0x5151, "interrupted ESI saved in the old TSS");
  assert.equal(m.res(7), 0x100000, "CR2");
});

// The expectations come from the SDM text (Vol. 3 §17.3.1.4 single-step, §6.8.3 the MOV SS /
// POP SS shadow, Vol. 2 STI): this host cannot run ring-0 code, and no other x86 machine was
// available to record them. DR6 reads 0xFFFF0FF0 before any debug exception; a single-step
// trap sets BS (bit 14) and leaves the rest.
both("single-step: a #DB after each REP iteration, none after MOV SS / POP SS, one after STI; DR6.BS", { skip }, (jit) => {
  const m = boot("singlestep", jit);
  runToOff(m);
  assert.equal(m.res(0x12), 0xd0e, "reached the end");
  assert.equal(hex(m.res(0x11)), "0xffff0ff0", "DR6 at reset");
  const dv = new DataView(m.core.ram.buffer, m.core.ram.byteOffset);
  const log = Array.from({ length: m.res(0) }, (_, i) => {
    const g = (o: number) => dv.getUint32(0x8900 + 16 * i + o, true);
    return [hex(g(0)), g(4), hex(g(8)), g(12) & 0x100 ? "TF" : "-"];
  });
  // The program's labels (singlestep.asm), in order.
  const [r1, r1end, r2end, m1, m2, r3, r3end, s1, s2, s3, s4, s5, s6, s7, s8] = Array.from({ length: 15 }, (_, i) => hex(m.res(1 + i)));
  const dr6 = "0xffff4ff0";
  const ecx2 = [2, dr6, "TF"];
  assert.deepEqual(log, [
    [r1, 2, dr6, "TF"], [r1, 1, dr6, "TF"], [r1end, 0, dr6, "TF"], // REP MOVSB, ECX 3: EIP stays on it
    [r2end, 0, dr6, "TF"], // REP STOSB with ECX 0
    [m1, 4, dr6, "TF"], [m2, 4, dr6, "TF"], [r3, 4, dr6, "TF"], // MOV ECX; MOV ESI; MOV EDI
    [r3, 3, dr6, "TF"], [r3end, 2, dr6, "TF"], // REPE CMPSB stops at the second byte
    [s1, ...ecx2], // MOV AX, SS
    [s2, ...ecx2], // MOV SS, AX; INC EBX: one trap, after INC
    [s3, ...ecx2], // PUSH SS
    [s4, ...ecx2], // POP SS; NOP: one trap, after NOP
    [s5, ...ecx2], // CLI
    [s6, ...ecx2], // STI: its trap is not held back
    [s7, ...ecx2], // NOP
    [hex(Number(s7) + 1), ...ecx2], // PUSHFD (at s7)
    [hex(Number(s7) + 1 + 7), ...ecx2], // AND [ESP], ~TF
    [s8, 2, dr6, "-"], // POPFD that clears TF: EFLAGS pushed with TF clear
  ]);
});

both("written pages: marked where a TLB entry that allows writes is filled; a page only read, never (incremental snapshots)", { skip }, (jit) => {
  const m = boot("dirty", jit);
  const e = m.core.exports;
  const marks = new Uint8Array(m.core.memory.buffer, L.DIRTY_PAGES_BASE, RAM / 4096);
  const marked = () => [...marks.keys()].filter((p) => marks[p] !== 0).map(hex);
  const round = () => {
    e.dirtyPagesClear();
    assert.deepEqual(marked(), [], "cleared");
    assert.equal(m.cpu.run(200000), L.EXIT_POWEROFF);
    return marked();
  };
  assert.equal(m.cpu.run(200000), L.EXIT_POWEROFF, "paging on");
  // The page table (A bits the walk set; the directory's was set before), the plain store,
  // REP STOSD, the read-modify-write, both pages of the crossing store; not 0x50 and 0x51,
  // only read.
  assert.deepEqual(round(), ["0x21", "0x40", "0x60", "0x61", "0x62", "0x63"]);
  assert.deepEqual(round(), ["0x50"], "a page read before, then written");
  assert.deepEqual(round(), [], "nothing written");
  assert.equal(new DataView(m.core.ram.buffer, m.core.ram.byteOffset).getUint32(0x50004, true), 2);
});

both("P6 MSRs (SDM Vol. 4 P6 table): platform id, microcode signature loaded by CPUID.1, 40-bit counters, INST_RETIRED", { skip }, (jit) => {
  const m = boot("p6msr", jit);
  runToOff(m);
  assert.equal(m.res(17), 0xd0e, "reached the end");
  assert.deepEqual([m.res(0), m.res(1)].map(hex), ["0x0", "0x0"], "IA32_PLATFORM_ID: platform 0 (bits 52:50)");
  assert.deepEqual([m.res(2), m.res(3)].map(hex), ["0x11111111", "0x22222222"], "IA32_BIOS_SIGN_ID keeps a write");
  assert.deepEqual([m.res(4), m.res(5)].map(hex), ["0x11111111", "0x0"], "CPUID.1 loads the update revision (none: 0) into 63:32");
  assert.equal(m.res(6), 0xc0de, "a BIOS_UPDT_TRIG write does not fault");
  assert.deepEqual([m.res(7), m.res(8)], [0, 0], "event selects clear at reset");
  assert.deepEqual([m.res(9), m.res(10)].map(hex), ["0x80000001", "0xff"], "PerfCtr0: bit 31 sign-extended into 39:32");
  assert.deepEqual([m.res(11), m.res(12)].map(hex), ["0x7fffffff", "0x0"], "PerfCtr1: bits 39:32 from bit 31, not EDX");
  assert.deepEqual(m.log().map((e) => [e.vec, e.err]), [[13, 0], [13, 0], [13, 0], [13, 0]], "#GP: WRMSR 0x17, RDMSR 0x79, a reserved select bit, RDPMC 2");
  assert.equal(m.res(13), 5, "INST_RETIRED: RDMSR, MOV and three NOPs between the reads");
  assert.equal(m.res(14), 0, "a user-mode-only count does not advance in ring 0");
  assert.equal(m.res(15), 21, "counter 1 from EN set (that WRMSR not counted) to its read, through a select change");
  assert.equal(m.res(16), 0, "EN clear stops both counters");
  // 21 at its read, then that RDMSR, a store, three register loads and the WRMSR that clears EN.
  assert.deepEqual([m.res(18), m.res(19)], [27, 0], "RDPMC 1: the stopped counter 1, 40 bits in EDX:EAX");
  assert.equal(m.res(20) & 0x100, 0x100, "CR4.PCE set");
});
