// Runs the checked-in CPU conformance vectors (tests/core-wasm/vectors/*.json, produced on the
// real processor by tests/core-wasm/gen/generate.sh) against core.wasm. The file format is
// described at the top of gen/generate.mjs. Used by cpu-vectors.test.ts.
//
// Guest physical memory during a case (paging off, flat 32-bit protected mode, CPL 0, IF=0):
//   0x0E00  GDT: null, null, flat code 0x10, flat data 0x18 (the gates' selector must exist:
//           setupFlat32 leaves GDTR.limit 0, and delivering through a gate reads the GDT)
//   0x0F00  IDTR image for LIDT (limit 0xFF, base 0x2000); 0x0F08 GDTR image for LGDT
//   0x1000  the case: [LGDT [0x0F08]; LIDT [0x0F00] if the case faults] + instruction bytes + HLT
//   0x2000  IDT: 32 interrupt gates, selector 0x10, handler n at 0x3000 + 16n
//   0x3000  handler n: mov dword [0x5000], n; hlt
//   0x5000  exception marker
//   0x8000  second memory window for 16-bit addressing (67 prefix), when a case says so (wa)
//   0x00200000  memory window (the same linear address the native runner maps)
import { readFileSync, readdirSync } from "node:fs";
import * as L from "../../core-wasm/build/layout.ts";
import { instantiateCore, type Core } from "../../core-wasm/loader.ts";

export const CODE = 0x1000;
export const IDTR = 0x0f00;
export const GDTR = 0x0f08;
export const GDT = 0x0e00;
export const IDT = 0x2000;
export const HANDLERS = 0x3000;
export const MARKER = 0x5000;
export const WINDOW = 0x0020_0000;
export const CODE_SEL = 0x10; // the flat code selector setupFlat32 loads
const PROLOGUE = [0x0f, 0x01, 0x15, GDTR & 0xff, (GDTR >> 8) & 0xff, 0, 0, 0x0f, 0x01, 0x1d, IDTR & 0xff, (IDTR >> 8) & 0xff, 0, 0];
const RAM = 4 << 20;
const BUDGET = 1000;

export type Extra = { m?: number; u?: number; x?: number; xe?: number; xc?: number; wa?: number; mi?: string; mo?: (number | string)[] };
export type Row = [code: string, inp: number[], out: number[], extra?: Extra];
export interface VectorTest { name: string; mask: number; cases: Row[] }
export interface VectorFile { group: string; about: string; host: string; base: number[]; tests: VectorTest[] }

export const REGS = ["EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"];
const FLAG_NAMES: [number, string][] = [[0x1, "CF"], [0x4, "PF"], [0x10, "AF"], [0x40, "ZF"], [0x80, "SF"], [0x400, "DF"], [0x800, "OF"]];
export const DEFINABLE = 0xcd5;

export function flagNames(v: number): string {
  const on = FLAG_NAMES.filter(([b]) => v & b).map(([, n]) => n);
  return on.length ? on.join(" ") : "-";
}
const hx = (v: number) => "0x" + (v >>> 0).toString(16).padStart(8, "0");
const bytes = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

export function loadVectors(dir: URL): VectorFile[] {
  return readdirSync(dir).filter((f) => f.endsWith(".json")).sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, dir), "utf8")) as VectorFile);
}

/** The exports this harness drives (see the CPU in core-wasm/assembly/cpu/). */
interface CpuExports {
  setupFlat32(eip: number): void;
  getReg(i: number): number;
  setReg(i: number, v: number): void;
  run(budget: number): number;
}
export const REQUIRED = ["setupFlat32", "getReg", "setReg", "run"];

export function missingExports(wasm: WebAssembly.Module): string[] {
  const have = new Set(WebAssembly.Module.exports(wasm).map((e) => e.name));
  return REQUIRED.filter((n) => !have.has(n));
}

/** Run every case of test t; throws (assert.fail) listing the first few that differ. */
export function checkCases(runner: VectorRunner, file: VectorFile, t: VectorTest, show = 5): void {
  const failures: string[] = [];
  let failed = 0;
  for (const row of t.cases) {
    let diffs: string[];
    try {
      diffs = runner.check(file, t, row);
    } catch (e) {
      diffs = [`code ${row[0]}: core.wasm threw ${(e as Error).message}`];
      runner.reset();
    }
    if (diffs.length) {
      failed++;
      if (failures.length < show) failures.push(diffs.join("\n    "));
    }
  }
  if (failed) {
    throw new Error(`${failed} of ${t.cases.length} cases differ from the ${file.host}; first ${failures.length}:\n  ` +
      failures.join("\n  "));
  }
}

export class VectorRunner {
  private core!: Core;
  private cpu!: CpuExports;
  private view!: DataView;

  /** Whether the machine is still flat 32-bit ring 0 after the last case (see `reuse`). */
  private flat = false;

  /** jit: translate every block on its first run (core-wasm/jit/), so the vectors check the
   *  generated code instead of the interpreter. reuse: skip setupFlat32 (its TLB flush is most
   *  of a case's cost) while the last case ended in its HLT, which leaves the flat machine as
   *  it was; for cases that load no segment or system register (the native differential test). */
  constructor(private readonly wasm: WebAssembly.Module, private readonly jit = false, private readonly reuse = false) {
    this.reset();
  }

  /** A fresh core (after a case made the module throw, its state is not trusted). */
  reset(): void {
    this.flat = false;
    this.core = instantiateCore(this.wasm, RAM, { trap() {}, intack: () => 0, rdtsc: () => 0n });
    this.cpu = this.core.exports as unknown as CpuExports;
    this.view = new DataView(this.core.ram.buffer, this.core.ram.byteOffset, this.core.ram.byteLength);
    if (this.jit) this.core.setJit(1); // translate every block the first time it runs
  }

  private writeIdt(): void {
    const v = this.view;
    v.setUint16(GDTR, 4 * 8 - 1, true);
    v.setUint32(GDTR + 2, GDT, true);
    for (let i = 0; i < 16; i++) v.setUint8(GDT + i, 0);
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
      v.setUint8(g + 4, 0);
      v.setUint8(g + 5, 0x8e); // present, DPL 0, 32-bit interrupt gate
      v.setUint16(g + 6, h >>> 16, true);
      this.core.ram.set([0xc7, 0x05, ...le32(MARKER), n, 0, 0, 0, 0xf4], h);
    }
    v.setUint32(MARKER, 0xffffffff, true);
  }

  /** Runs one case; returns a description of every difference, or [] if it matches. */
  check(file: VectorFile, test: VectorTest, row: Row): string[] {
    const [codeHex, inp, out, extra = {}] = row;
    const ram = this.core.ram, cpu = this.cpu, v = this.view;
    const fault = extra.x !== undefined;
    const prefix = fault ? PROLOGUE : [];
    const code = [...prefix, ...bytes(codeHex)];
    ram.set([...code, 0xf4], CODE);
    if (fault) this.writeIdt();
    const wa = extra.wa ?? WINDOW;
    if (extra.mi) ram.set(bytes(extra.mi), wa);

    const regs = file.base.slice();
    for (let i = 1; i < inp.length; i += 2) regs[inp[i]!] = inp[i + 1]!;
    const want = regs.slice();
    for (let i = 1; i < out.length; i += 2) want[out[i]!] = out[i + 1]!;
    const inFlags = inp[0]!, wantFlags = out[0]!, mask = extra.m ?? test.mask, undef = extra.u ?? 0;

    if (this.reuse && this.flat) cpu.setReg(8, CODE);
    else cpu.setupFlat32(CODE);
    // This case's code and data replaced the last one's: its blocks are stale (as after DMA).
    if (this.jit) (cpu as unknown as { jitInvalidate(a: number, n: number): void }).jitInvalidate(0, RAM);
    for (let r = 0; r < 8; r++) cpu.setReg(r, regs[r]!);
    cpu.setReg(9, (inFlags | 0x2) >>> 0);
    const exit = cpu.run(BUDGET) >>> 0;

    const diffs: string[] = [];
    this.flat = exit === L.EXIT_POWEROFF;
    if (exit !== L.EXIT_POWEROFF) {
      const arg = this.core.runPage[L.RUN_EXIT_ARG >> 2]! >>> 0;
      const why = exit === L.EXIT_SHUTDOWN ? `triple fault (vector ${arg})` : exit === L.EXIT_BUDGET ? "budget spent (no HLT reached)" : `exit ${exit}`;
      diffs.push(`run() returned ${why}, expected HLT (EXIT_POWEROFF)`);
    }
    const got = Array.from({ length: 8 }, (_, r) => cpu.getReg(r) >>> 0);
    const gotFlags = cpu.getReg(9) >>> 0, gotEip = cpu.getReg(8) >>> 0;
    if (fault) {
      const marker = v.getUint32(MARKER, true);
      if (marker !== extra.x) diffs.push(marker === 0xffffffff ? `expected exception ${extra.x}, none raised` : `exception ${marker}, expected ${extra.x}`);
      // The handler ran on the same stack: [error code,] EIP, CS, EFLAGS at the fault.
      const ec = extra.xc !== undefined ? 4 : 0;
      want[4] = (regs[4]! - 12 - ec) >>> 0;
      const sp = got[4]! >>> 0;
      if (marker === extra.x && sp + 12 + ec <= RAM) {
        if (ec && v.getUint32(sp, true) !== extra.xc) diffs.push(`pushed error code ${hx(v.getUint32(sp, true))}, expected ${hx(extra.xc!)}`);
        const pEip = v.getUint32(sp + ec, true), pCs = v.getUint32(sp + ec + 4, true) & 0xffff, pFl = v.getUint32(sp + ec + 8, true);
        // A fault pushes the EIP of the instruction; a trap (INT3, INTO) the EIP after it.
        const wantEip = CODE + prefix.length + (extra.xe ?? 0);
        if (pEip !== wantEip) diffs.push(`pushed EIP ${hx(pEip)}, expected ${hx(wantEip)} (${extra.xe ? "after the trapping instruction" : "the faulting instruction"})`);
        if (pCs !== CODE_SEL) diffs.push(`pushed CS ${pCs.toString(16)}, expected ${CODE_SEL.toString(16)}`);
        const fd = (pFl ^ wantFlags) & mask & DEFINABLE;
        if (fd) diffs.push(`pushed EFLAGS: ${flagDiff(wantFlags, pFl, fd)}`);
      }
    } else if (gotEip !== CODE + code.length + 1) {
      diffs.push(`EIP ${hx(gotEip)}, expected ${hx(CODE + code.length + 1)} (after the HLT)`);
    }
    for (let r = 0; r < 8; r++) {
      if (undef & (1 << r)) continue;
      if (got[r] !== want[r]! >>> 0) diffs.push(`${REGS[r]} ${hx(got[r]!)}, expected ${hx(want[r]!)} (input ${hx(regs[r]!)})`);
    }
    const fd = (gotFlags ^ wantFlags) & mask & DEFINABLE;
    if (fd) diffs.push(`EFLAGS: ${flagDiff(wantFlags, gotFlags, fd)}`);
    // Architectural constants: bit 1 reads 1, bits 3, 5, 15 read 0; nothing here sets IF.
    if ((gotFlags & 0x802a) !== 0x2) diffs.push(`EFLAGS ${hx(gotFlags)}: reserved bits wrong (bit 1 must be 1, bits 3/5/15 0)`);
    if (gotFlags & 0x200) diffs.push(`EFLAGS ${hx(gotFlags)}: IF set`);
    if (extra.mi) {
      const wantMem = bytes(extra.mi), gotMem = ram.subarray(wa, wa + wantMem.length);
      const mo = extra.mo ?? [];
      for (let i = 0; i < mo.length; i += 2) wantMem.set(bytes(mo[i + 1] as string), mo[i] as number);
      const at: string[] = [];
      for (let i = 0; i < wantMem.length; i++) {
        if (gotMem[i] !== wantMem[i]) at.push(`+${i.toString(16)}: ${gotMem[i]!.toString(16)} expected ${wantMem[i]!.toString(16)}`);
      }
      if (at.length) diffs.push(`memory at ${hx(wa)}: ${at.length} byte(s) differ (${at.slice(0, 6).join(", ")}${at.length > 6 ? ", ..." : ""})`);
    }
    if (diffs.length) {
      const ins = [`flags ${flagNames(inFlags)}`];
      for (let r = 0; r < 8; r++) ins.push(`${REGS[r]}=${hx(regs[r]!)}`);
      diffs.unshift(`code ${codeHex}${fault ? ` (run as ${hexOf(Uint8Array.from(code))})` : ""}; in: ${ins.join(" ")}` +
        (extra.mi ? `; mem ${extra.mi.slice(0, 64)}${extra.mi.length > 64 ? "..." : ""}` : ""));
    }
    return diffs;
  }
}

function flagDiff(want: number, got: number, diff: number): string {
  return FLAG_NAMES.filter(([b]) => diff & b).map(([b, n]) => `${n}=${got & b ? 1 : 0} expected ${want & b ? 1 : 0}`).join(", ");
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}
