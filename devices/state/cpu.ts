// The vCPU as a snapshot component: the core's architectural state, named field by field. The
// globals are the core's own exports (core-wasm/assembly/machine-state.ts) but for the lazy
// flags, which live in its scratch memory (LAZY_BASE), as do the register file and segment
// caches; the x87 registers are read through fpuReg*, and the run page's interrupt lines. After a load the core drops what derives from them (TLB, fetch window,
// translated blocks: machine-state.ts stateLoaded) — the JIT's code is never part of a state.
import * as L from "../../core-wasm/build/layout.ts";
import type { Core } from "../../core-wasm/loader.ts";
import type { StateTable, Stateful } from "./fields.ts";

/** The core's state globals and their types (i64 ones as u64 bit patterns); some are memory words (LAZY_WORDS). */
const GLOBALS = {
  eip: "u32", instrEip: "u32", flags: "u32",
  // The lazy flags: the last flag-setting operation and its operands (cpu/flags.ts).
  lfOp: "u32", lfA: "u32", lfB: "u32", lfRes: "u32", lfSign: "u32", lfCin: "u32",
  cr0: "u32", cr2: "u32", cr3: "u32", cr4: "u32", cpl: "u32", pmode: "u32", codeD: "u32", stackB: "u32",
  gdtrBase: "u32", gdtrLimit: "u32", idtrBase: "u32", idtrLimit: "u32",
  dr0: "u32", dr1: "u32", dr2: "u32", dr3: "u32", dr6: "u32", dr7: "u32",
  sysenterCs: "u32", sysenterEsp: "u32", sysenterEip: "u32", tscOffset: "u64",
  nmiBlocked: "u32", shadow: "u32", instretCount: "u64",
  // The P6 MSRs with state (cpu/msr.ts): microcode signature, performance counters and selects.
  biosSignId: "u64", perfEvtSel0: "u32", perfEvtSel1: "u32", perfCtr0: "u64", perfCtr1: "u64", perfStart0: "u64", perfStart1: "u64",
  fpuCW: "u32", fpuSW: "u32", fpuTop: "u32", fpuEmpty: "u32", fpuFIP: "u32", fpuFCS: "u32", fpuFOP: "u32", fpuFDP: "u32", fpuFDS: "u32",
} as const;

/** The lazy flags' words in the core's memory (translated code stores them at constant addresses). */
const LAZY_WORDS: Partial<Record<keyof typeof GLOBALS, number>> = {
  lfOp: L.LF_OP_AT, lfA: L.LF_A_AT, lfB: L.LF_B_AT, lfRes: L.LF_RES_AT, lfSign: L.LF_SIGN_AT, lfCin: L.LF_CIN_AT,
};

/** The run page's words that are state, not per-trap scratch: the INTR and NMI lines, IA32_APIC_BASE. */
const RUN_WORDS = { runIntr: L.RUN_INTR, runNmi: L.RUN_NMI, runApicBase: L.RUN_APIC_BASE } as const;

const FPU_REG = { sexp: "u16", mant: "u64" } as const;

const CPU_STATE: StateTable = {
  ...GLOBALS,
  ...Object.fromEntries(Object.keys(RUN_WORDS).map((k) => [k, "u32"])),
  gprs: { u32s: 8 }, // EAX ECX EDX EBX ESP EBP ESI EDI
  segments: { u32s: (L.SEGCHK_BASE - L.SEGS_BASE) / 4 }, // ES CS SS DS FS GS LDTR TR: selector, base, limit, attributes
  segmentChecks: { u32s: 8 },
  fpuRegs: { list: { record: FPU_REG }, max: 8 },
};

type Global = { value: number | bigint | boolean };

/** The vCPU of `core` as a Stateful: accessor properties over the core's memory and globals. */
export class CpuState implements Stateful {
  readonly stateTable = CPU_STATE;
  readonly gprs: Uint32Array;
  readonly segments: Uint32Array;
  readonly segmentChecks: Uint32Array;

  constructor(private readonly core: Core) {
    const buf = core.memory.buffer;
    this.gprs = new Uint32Array(buf, L.REGS_BASE, 8);
    this.segments = new Uint32Array(buf, L.SEGS_BASE, (L.SEGCHK_BASE - L.SEGS_BASE) / 4);
    this.segmentChecks = new Uint32Array(buf, L.SEGCHK_BASE, 8);
    const exports = core.exports as unknown as Record<string, Global>;
    const words = new Uint32Array(buf);
    for (const [name, type] of Object.entries(GLOBALS)) {
      const at = LAZY_WORDS[name as keyof typeof GLOBALS];
      if (at !== undefined) {
        Object.defineProperty(this, name, { get: () => words[at >> 2]!, set: (v: number) => void (words[at >> 2] = v), enumerable: true });
        continue;
      }
      const g = exports[name];
      if (!g || typeof g !== "object" || !("value" in g)) throw new Error(`core.wasm does not export the state global ${name}`);
      Object.defineProperty(this, name, type === "u64"
        ? { get: () => BigInt.asUintN(64, g.value as bigint), set: (v: bigint) => void (g.value = BigInt.asIntN(64, v)), enumerable: true }
        : { get: () => Number(g.value) >>> 0, set: (v: number) => void (g.value = v | 0), enumerable: true });
    }
    const rp = core.runPage;
    for (const [name, off] of Object.entries(RUN_WORDS)) {
      Object.defineProperty(this, name, { get: () => rp[off >> 2]! >>> 0, set: (v: number) => void (rp[off >> 2] = v | 0), enumerable: true });
    }
  }

  get fpuRegs(): { sexp: number; mant: bigint }[] {
    const e = this.core.exports;
    return Array.from({ length: 8 }, (_, p) => ({ sexp: e.fpuRegSexp(p), mant: BigInt.asUintN(64, e.fpuRegMant(p)) }));
  }

  set fpuRegs(regs: { sexp: number; mant: bigint }[]) {
    const e = this.core.exports;
    regs.forEach((r, p) => e.fpuRegSet(p, r.sexp, BigInt.asIntN(64, r.mant)));
  }

  stateLoaded(): void {
    this.core.exports.stateLoaded();
  }
}
