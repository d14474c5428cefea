// The differential CPU runner of the fuzzer (jit.fuzz.test.ts): one case (x86-gen.ts) run from
// the same state by the interpreter and by the JIT, then everything compared: registers, EIP,
// the defined arithmetic flags and DF, the first 192 KiB of memory (code, stack, data, IDT),
// the fault taken (vector, error code and pushed state, CR2), the instructions retired, and
// the retired count at the end of every run() slice.
//
// The machine: flat 32-bit protected mode, CPL 0, paging on, identity mapped, IF = 0.
//   0x0E00  GDT: null, null, flat code 0x10, flat data 0x18
//   0x0F00  IDTR image (base 0x2000, 32 gates); 0x0F08 GDTR image
//   0x2000  IDT: interrupt gates to handler n at 0x3000 + 16n: mov dword [0x5000], n; hlt
//   0x5000  the vector taken (0xFFFFFFFF: none)
//   0x6000  stack pages (ESP starts at 0x7800)
//   0x10000 code (two pages; a case may start at 0x10FF0 so its first block crosses a page)
//   0x1F000 random bytes; 0x20000 the data page (random), reached through the pointer register
//   0x21000 not present: loads and stores there (or across into it) raise #PF
//   0x30000 page directory, 0x31000 page table (the first 2 MiB; the rest not present)
import * as L from "../../core-wasm/build/layout.ts";
import { instantiateCore, type Core } from "../../core-wasm/loader.ts";

export const GDT = 0x0e00, IDTR = 0x0f00, GDTR = 0x0f08, IDT = 0x2000, HANDLERS = 0x3000, MARKER = 0x5000;
export const STACK_TOP = 0x7800, DATA = 0x20000, UNMAPPED = 0x21000;
const PD = 0x30000, PT = 0x31000, RAM = 2 << 20, COMPARED = 0x30000, CODE_SEL = 0x10;
/** Vectors that push an error code. */
const ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17]);
const DEFINABLE = 0xcd5; // CF PF AF ZF SF DF OF
/** Instructions a case may retire at most (loops are bounded; this only stops a runaway). */
const MAX_INSTR = 20000;

/** What a run ended with. */
export interface Outcome {
  regs: number[];
  eip: number;
  flags: number;
  cr2: number;
  vector: number;
  instret: number;
  slices: number[];
  exit: number;
  mem: Uint8Array;
}

interface CpuExports {
  setupFlat32(eip: number): void;
  getReg(i: number): number;
  setReg(i: number, v: number): void;
  run(budget: number): number;
  instret(): number;
  jitInvalidate(phys: number, len: number): void;
}

const bytesOf = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
const hx = (v: number) => "0x" + (v >>> 0).toString(16).padStart(8, "0");

/** xorshift32: the case's memory bytes from its seed. */
function fill(ram: Uint8Array, from: number, len: number, seed: number): void {
  let x = seed | 1;
  for (let i = 0; i < len; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    ram[from + i] = x; ram[from + i + 1] = x >>> 8; ram[from + i + 2] = x >>> 16; ram[from + i + 3] = x >>> 24;
  }
}

/** One core, reused from case to case: the interpreter (threshold 0) or the JIT. */
export class Machine {
  readonly core: Core;
  private readonly cpu: CpuExports;
  private readonly view: DataView;

  constructor(wasm: WebAssembly.Module, private readonly jit: boolean) {
    this.core = instantiateCore(wasm, RAM, { trap() {}, intack: () => 0, rdtsc: () => 0n });
    this.cpu = this.core.exports as unknown as CpuExports;
    this.view = new DataView(this.core.ram.buffer, this.core.ram.byteOffset, this.core.ram.byteLength);
  }

  private setup(code: Uint8Array, base: number, memSeed: number): void {
    const ram = this.core.ram, v = this.view;
    ram.fill(0, 0, PT + 0x1000);
    v.setUint16(GDTR, 4 * 8 - 1, true);
    v.setUint32(GDTR + 2, GDT, true);
    v.setUint32(GDT + 0x10, 0x0000ffff, true); // flat 32-bit code, DPL 0
    v.setUint32(GDT + 0x14, 0x00cf9b00, true);
    v.setUint32(GDT + 0x18, 0x0000ffff, true); // flat 32-bit data, DPL 0
    v.setUint32(GDT + 0x1c, 0x00cf9300, true);
    v.setUint16(IDTR, 32 * 8 - 1, true);
    v.setUint32(IDTR + 2, IDT, true);
    for (let n = 0; n < 32; n++) {
      const h = HANDLERS + 16 * n, g = IDT + 8 * n;
      v.setUint16(g, h & 0xffff, true);
      v.setUint16(g + 2, CODE_SEL, true);
      v.setUint8(g + 5, 0x8e); // present, DPL 0, 32-bit interrupt gate
      v.setUint16(g + 6, h >>> 16, true);
      ram.set([0xc7, 0x05, MARKER & 0xff, MARKER >> 8, 0, 0, n, 0, 0, 0, 0xf4], h);
    }
    v.setUint32(MARKER, 0xffffffff, true);
    fill(ram, 0x6000, 0x2000, memSeed ^ 0x1234567);
    fill(ram, 0x1f000, 0x2000, memSeed);
    ram.set(code, base);
    v.setUint32(PD, PT | 3, true);
    for (let pg = 0; pg < RAM >> 12; pg++) if (pg << 12 !== UNMAPPED) v.setUint32(PT + 4 * pg, (pg << 12) | 3, true);
  }

  /** Run a case from its start to the HLT (its own or a fault handler's). */
  run(c: { code: string; base: number; regs: number[]; flags: number; memSeed: number; threshold: number; slice: number }): Outcome {
    const cpu = this.cpu;
    this.setup(bytesOf(c.code), c.base, c.memSeed);
    cpu.setupFlat32(c.base);
    if (this.jit) {
      // A new case in the same RAM: its code pages changed behind the core (as after DMA).
      this.core.setJit(c.threshold);
      cpu.jitInvalidate(0, RAM);
    }
    cpu.setReg(18, PD);
    cpu.setReg(16, 0x80000011); // PG | ET | PE
    cpu.setReg(17, 0);
    for (let r = 0; r < 8; r++) cpu.setReg(r, c.regs[r]!);
    cpu.setReg(9, (c.flags | 2) >>> 0);
    const start = cpu.instret();
    const slices: number[] = [];
    let exit: number = L.EXIT_BUDGET;
    while (exit === L.EXIT_BUDGET && cpu.instret() - start < MAX_INSTR) {
      exit = cpu.run(c.slice) >>> 0;
      slices.push(cpu.instret() - start);
    }
    return {
      regs: Array.from({ length: 8 }, (_, r) => cpu.getReg(r) >>> 0), eip: cpu.getReg(8) >>> 0, flags: cpu.getReg(9) >>> 0,
      cr2: cpu.getReg(17) >>> 0, vector: this.view.getUint32(MARKER, true) | 0, instret: cpu.instret() - start, slices, exit,
      mem: this.core.ram.slice(0, COMPARED),
    };
  }
}

const REGS = ["EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"];

/** Every difference between the interpreter's outcome `a` and the JIT's `b`, as text. */
export function compare(a: Outcome, b: Outcome, undefEnd: number, undefAny: number): string[] {
  const d: string[] = [];
  if (a.exit !== b.exit) d.push(`run() exit ${a.exit} (interpreter) vs ${b.exit} (jit)`);
  if (a.vector !== b.vector) d.push(`exception vector ${a.vector} vs ${b.vector}`);
  for (let r = 0; r < 8; r++) if (a.regs[r] !== b.regs[r]) d.push(`${REGS[r]} ${hx(a.regs[r]!)} vs ${hx(b.regs[r]!)}`);
  if (a.eip !== b.eip) d.push(`EIP ${hx(a.eip)} vs ${hx(b.eip)}`);
  // After a fault the flags are those at the fault, which may be anywhere in the sequence.
  const faulted = a.vector !== -1;
  const mask = DEFINABLE & ~(faulted ? undefAny : undefEnd);
  if ((a.flags ^ b.flags) & mask) d.push(`EFLAGS ${hx(a.flags)} vs ${hx(b.flags)} (compared bits ${hx(mask)})`);
  if (((a.flags ^ b.flags) & ~DEFINABLE) !== 0) d.push(`EFLAGS system bits ${hx(a.flags)} vs ${hx(b.flags)}`);
  if (faulted && a.cr2 !== b.cr2) d.push(`CR2 ${hx(a.cr2)} vs ${hx(b.cr2)}`);
  if (a.instret !== b.instret) d.push(`instructions retired ${a.instret} vs ${b.instret}`);
  if (a.slices.join() !== b.slices.join()) d.push(`retired at each run() return: ${a.slices.slice(0, 12).join(",")} vs ${b.slices.slice(0, 12).join(",")}`);
  // Memory, but the pushed EFLAGS of a fault only in its defined bits.
  const am = a.mem, bm = b.mem;
  let flagsAt = -1;
  if (faulted && a.vector === b.vector && a.regs[4] === b.regs[4]) flagsAt = a.regs[4]! + (ERROR_CODE.has(a.vector) ? 12 : 8);
  const diffs: string[] = [];
  let n = 0;
  for (let i = 0; i < am.length; i++) {
    if (am[i] === bm[i]) continue;
    if (i >= flagsAt && i < flagsAt + 4) {
      const k = i - flagsAt, m = ((DEFINABLE & ~undefAny) >>> (8 * k)) & 0xff;
      if (((am[i]! ^ bm[i]!) & m) === 0) continue;
    }
    if (n++ < 8) diffs.push(`${hx(i)}: ${am[i]!.toString(16)} vs ${bm[i]!.toString(16)}`);
  }
  if (n) d.push(`memory: ${n} byte(s) differ (${diffs.join(", ")}${n > 8 ? ", ..." : ""})`);
  return d;
}
