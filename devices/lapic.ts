// The local APIC in xAPIC mode (Intel SDM Vol. 3A ch. 10 "Advanced Programmable Interrupt
// Controller"), memory-mapped at IA32_APIC_BASE (0xFEE00000 at power-on): ID, version, TPR/PPR,
// EOI, ISR/IRR/TMR, the LVT (timer, thermal, performance counter, LINT0, LINT1, error), the
// spurious-interrupt vector register, the APIC timer (one-shot and periodic, on the board's
// virtual clock) and the ICR for IPIs to this CPU (one CPU: self, all-including-self, or its
// own destination). Interrupt messages from the I/O APIC and from MSI/MSI-X writes arrive
// through `accept()` (SDM §10.11 message address/data).
//
// The CPU side: the board points RUN_INTR at `intr` (output()) and the core's `vmm.intack`
// at `intack()`, which returns the highest IRR vector above the processor priority (§10.8.3.1),
// or the 8259's vector for an ExtINT through LINT0 (virtual-wire mode, MP spec §3.6.2.2), or
// the spurious vector. EOI of a level-triggered vector is broadcast to the I/O APIC (§10.8.5).
//
// What Linux 6.1 does with it: arch/x86/kernel/apic/apic.c (verify_local_APIC writes the
// version register and expects it unchanged; setup_local_APIC: TPR 0, SVR enable, LINT0
// ExtINT masked or not, LINT1 NMI; calibrate_APIC_clock: LVTT masked periodic, initial count
// 0xFFFFFFFF, divide 16, reads the current count on each tick of the global clockevent).
import { W4, type RegisterInfo, type Region, type Width } from "./bus/region.ts";
import type { Timed, VirtualClock } from "./clock.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

/** Power-on IA32_APIC_BASE base (SDM §10.4.4). */
export const LAPIC_DEFAULT_BASE = 0xfee0_0000;
/** Version register: integrated APIC (0x14), max LVT entry 5 (6 entries), no EOI-broadcast suppression. */
export const LAPIC_VERSION = 0x0005_0014;
/**
 * The timer's input clock (the "bus clock" before the divider), in Hz. 1 GHz — one tick per
 * guest nanosecond, like the TSC — keeps the arithmetic exact; Linux measures it anyway.
 */
export const LAPIC_TIMER_HZ = 1_000_000_000;
const NS_PER_TICK = 1_000_000_000 / LAPIC_TIMER_HZ;

// Register offsets (SDM Vol. 3A Table 10-1 "Local APIC Register Address Map").
export const APIC_ID = 0x20, APIC_LVR = 0x30, APIC_TPR = 0x80, APIC_APR = 0x90, APIC_PPR = 0xa0;
export const APIC_EOI = 0xb0, APIC_RRD = 0xc0, APIC_LDR = 0xd0, APIC_DFR = 0xe0, APIC_SVR = 0xf0;
export const APIC_ISR = 0x100, APIC_TMR = 0x180, APIC_IRR = 0x200, APIC_ESR = 0x280;
export const APIC_LVT_CMCI = 0x2f0, APIC_ICR_LO = 0x300, APIC_ICR_HI = 0x310;
export const APIC_LVTT = 0x320, APIC_LVT_THERMAL = 0x330, APIC_LVT_PERF = 0x340;
export const APIC_LVT_LINT0 = 0x350, APIC_LVT_LINT1 = 0x360, APIC_LVT_ERROR = 0x370;
export const APIC_TMICT = 0x380, APIC_TMCCT = 0x390, APIC_TDCR = 0x3e0;

const eight = (base: number, name: string, access: "r" | "rw", ref: string): RegisterInfo[] =>
  Array.from({ length: 8 }, (_, i) => ({ offset: base + 0x10 * i, name: `${name}${i}`, access, ref }));

/** The register map, one table: names, access and SDM sections for traces and the inspector. */
export const LAPIC_REGISTERS: readonly RegisterInfo[] = [
  { offset: APIC_ID, name: "ID", access: "rw", ref: "SDM §10.4.6" },
  { offset: APIC_LVR, name: "VERSION", access: "r", ref: "SDM §10.4.8" },
  { offset: APIC_TPR, name: "TPR", access: "rw", ref: "SDM §10.8.3.1" },
  { offset: APIC_APR, name: "APR", access: "r", ref: "SDM §10.8.3.1 (P6: reads 0)" },
  { offset: APIC_PPR, name: "PPR", access: "r", ref: "SDM §10.8.3.1" },
  { offset: APIC_EOI, name: "EOI", access: "rw", ref: "SDM §10.8.5" },
  { offset: APIC_RRD, name: "RRD", access: "r", ref: "SDM §10.6.2.4 (remote read: not on xAPIC)" },
  { offset: APIC_LDR, name: "LDR", access: "rw", ref: "SDM §10.6.2.2" },
  { offset: APIC_DFR, name: "DFR", access: "rw", ref: "SDM §10.6.2.2" },
  { offset: APIC_SVR, name: "SVR", access: "rw", ref: "SDM §10.9" },
  ...eight(APIC_ISR, "ISR", "r", "SDM §10.8.4"),
  ...eight(APIC_TMR, "TMR", "r", "SDM §10.8.4"),
  ...eight(APIC_IRR, "IRR", "r", "SDM §10.8.4"),
  { offset: APIC_ESR, name: "ESR", access: "rw", ref: "SDM §10.5.3" },
  { offset: APIC_LVT_CMCI, name: "LVT_CMCI", access: "rw", ref: "SDM §10.5.1 (not reported by VERSION)" },
  { offset: APIC_ICR_LO, name: "ICR_LO", access: "rw", ref: "SDM §10.6.1" },
  { offset: APIC_ICR_HI, name: "ICR_HI", access: "rw", ref: "SDM §10.6.1" },
  { offset: APIC_LVTT, name: "LVT_TIMER", access: "rw", ref: "SDM §10.5.1, §10.5.4" },
  { offset: APIC_LVT_THERMAL, name: "LVT_THERMAL", access: "rw", ref: "SDM §10.5.1" },
  { offset: APIC_LVT_PERF, name: "LVT_PERF", access: "rw", ref: "SDM §10.5.1" },
  { offset: APIC_LVT_LINT0, name: "LVT_LINT0", access: "rw", ref: "SDM §10.5.1" },
  { offset: APIC_LVT_LINT1, name: "LVT_LINT1", access: "rw", ref: "SDM §10.5.1" },
  { offset: APIC_LVT_ERROR, name: "LVT_ERROR", access: "rw", ref: "SDM §10.5.1, §10.5.3" },
  { offset: APIC_TMICT, name: "TIMER_INITIAL", access: "rw", ref: "SDM §10.5.4" },
  { offset: APIC_TMCCT, name: "TIMER_CURRENT", access: "r", ref: "SDM §10.5.4" },
  { offset: APIC_TDCR, name: "TIMER_DIVIDE", access: "rw", ref: "SDM §10.5.4 Figure 10-10" },
];

// LVT fields (SDM Figure 10-8).
export const LVT_MASKED = 1 << 16;
const LVT_VECTOR = 0xff, LVT_DELIVERY_MODE = 0x700, LVT_STATUS = 1 << 12, LVT_POLARITY = 1 << 13;
const LVT_REMOTE_IRR = 1 << 14, LVT_LEVEL = 1 << 15;
export const LVT_TIMER_PERIODIC = 1 << 17;
const LVT_TIMER_MODE = 3 << 17;
/** Delivery modes (SDM §10.5.1, §10.6.1). */
export const DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_STARTUP = 6, DM_EXTINT = 7;
const LVT_INDEX: Record<number, number> = {
  [APIC_LVT_CMCI]: 0, [APIC_LVTT]: 1, [APIC_LVT_THERMAL]: 2, [APIC_LVT_PERF]: 3,
  [APIC_LVT_LINT0]: 4, [APIC_LVT_LINT1]: 5, [APIC_LVT_ERROR]: 6,
};
const LVT_TIMER = 1, LVT_LINT0 = 4, LVT_LINT1 = 5, LVT_ERROR = 6;
/** Writable bits per LVT entry (timer: mode; LINTn: delivery mode, polarity, trigger; others: mode). */
const LVT_WRITABLE = [
  LVT_MASKED | LVT_DELIVERY_MODE | LVT_VECTOR, // CMCI
  LVT_MASKED | LVT_TIMER_MODE | LVT_VECTOR, // timer
  LVT_MASKED | LVT_DELIVERY_MODE | LVT_VECTOR, // thermal
  LVT_MASKED | LVT_DELIVERY_MODE | LVT_VECTOR, // perf
  LVT_MASKED | LVT_LEVEL | LVT_POLARITY | LVT_DELIVERY_MODE | LVT_VECTOR, // LINT0
  LVT_MASKED | LVT_LEVEL | LVT_POLARITY | LVT_DELIVERY_MODE | LVT_VECTOR, // LINT1
  LVT_MASKED | LVT_VECTOR, // error
];

// SVR (SDM Figure 10-23).
const SVR_ENABLE = 1 << 8;
// ESR bits (SDM Figure 10-9).
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5, ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6, ESR_ILLEGAL_REGISTER = 1 << 7;

/** One interrupt message (I/O APIC redirection entry, MSI data, ICR, LVT). */
export interface ApicMessage {
  vector: number;
  /** DM_* */
  mode: number;
  level: boolean;
  /** Destination (8 bits) and logical (true) or physical mode. */
  dest: number;
  logical: boolean;
}

/**
 * An MSI/MSI-X write (SDM Vol. 3A §10.11.1 message address, §10.11.2 message data) as an
 * interrupt message, or null if the address is not in the 0xFEExxxxx interrupt window.
 */
export function msiMessage(address: number, data: number): ApicMessage | null {
  if (Math.floor(address / 0x10_0000) !== 0xfee) return null;
  return {
    vector: data & 0xff,
    mode: (data >> 8) & 7,
    level: (data & 0x8000) !== 0 && (data & 0x4000) !== 0,
    dest: (address >>> 12) & 0xff,
    logical: (address & 4) !== 0,
  };
}

export interface LapicOptions {
  clock: VirtualClock;
  /** The CPU's INTR input (RUN_INTR). Called only when it changes. */
  setIntr: (level: boolean) => void;
  /** Deliver an NMI to the CPU (RUN_NMI). */
  nmi: () => void;
  /** The 8259's interrupt acknowledge, for ExtINT (virtual-wire mode). */
  extIntAck: () => number;
  /** EOI of a level-triggered vector: the I/O APIC clears Remote IRR (SDM §10.8.5). */
  eoiBroadcast?: (vector: number) => void;
  log?: (message: string) => void;
}

/** Index of the highest set bit in a 256-bit register held as 8 words, or -1. */
function highest(r: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    const w = r[i]!;
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}
const setBit = (r: Uint32Array, v: number) => void (r[v >>> 5] = r[v >>> 5]! | (1 << (v & 31)));
const clearBit = (r: Uint32Array, v: number) => void (r[v >>> 5] = r[v >>> 5]! & ~(1 << (v & 31)));
const testBit = (r: Uint32Array, v: number) => (r[v >>> 5]! & (1 << (v & 31))) !== 0;

/** TDCR bits 3,1:0 → divisor (SDM Figure 10-10): 000=2 … 110=128, 111=1. */
export function timerDivisor(tdcr: number): number {
  const v = ((tdcr >> 1) & 4) | (tdcr & 3);
  return v === 7 ? 1 : 2 << v;
}

export class LocalApic implements Timed, Stateful {
  readonly region: Region;
  id = 0;
  tpr = 0;
  ldr = 0;
  dfr = 0xffff_ffff;
  svr = 0xff;
  readonly irr = new Uint32Array(8);
  readonly isr = new Uint32Array(8);
  readonly tmr = new Uint32Array(8);
  readonly lvt = new Uint32Array(7);
  private esr = 0; // what ESR reads (latched by the last ESR write)
  private esrPending = 0; // errors since the last ESR write
  private icrLo = 0;
  private icrHi = 0;
  // Timer (SDM §10.5.4): the count was `cBase` at `tBase` ns and falls by one every `div`
  // ticks; `next` is the next time it reaches zero (Infinity when stopped or expired).
  private tmict = 0;
  private tdcr = 0;
  private div = 2;
  private tBase = 0;
  private cBase = 0;
  private next = Infinity;
  /** The 8259's INTR output, on LINT0. */
  private lint0 = false;
  /** An I/O APIC pin programmed as ExtINT carries the 8259's INTR too (virtual wire via the I/O APIC). */
  private extIntViaIoapic = false;
  private intr = false;
  /** false while IA32_APIC_BASE.EN is clear: the APIC is out of the way, the 8259 drives INTR. */
  private hwEnabled = true;
  private readonly clock: VirtualClock;
  private readonly o: LapicOptions;
  private readonly log: (message: string) => void;
  private logged = 0;
  /** Counters for --stats. */
  readonly stats = { accepted: 0, eois: 0, timerFires: 0, spurious: 0, extInt: 0, ipis: 0, currentCountReads: 0 };

  /** Snapshot fields (devices/state/): every register, the timer's base (guest ns, f64) and the input lines. */
  readonly stateTable: StateTable = {
    id: "u32", tpr: "u8", ldr: "u32", dfr: "u32", svr: "u32", irr: { u32s: 8 }, isr: { u32s: 8 }, tmr: { u32s: 8 }, lvt: { u32s: 7 },
    esr: "u32", esrPending: "u32", icrLo: "u32", icrHi: "u32", tmict: "u32", tdcr: "u32", div: "u32", tBase: "f64", cBase: "f64",
    next: "f64", lint0: "bool", extIntViaIoapic: "bool", intr: "bool", hwEnabled: "bool",
  };

  constructor(o: LapicOptions) {
    this.o = o;
    this.clock = o.clock;
    this.log = o.log ?? (() => {});
    this.lvt.fill(LVT_MASKED);
    this.region = {
      name: "lapic", base: LAPIC_DEFAULT_BASE, size: 0x1000, widths: W4, registers: LAPIC_REGISTERS,
      read: (off) => this.read(off),
      write: (off, _w: Width, v) => this.write(off, v),
    };
  }

  /**
   * What firmware leaves behind for an OS that may not know the APIC (MP spec §3.6.2.2,
   * virtual-wire mode through the local APIC): software-enabled, LINT0 = ExtINT, LINT1 = NMI.
   * The 8259 then reaches the CPU exactly as on a PIC-only board.
   */
  virtualWire(): void {
    this.svr = SVR_ENABLE | 0xff;
    this.lvt[LVT_LINT0] = DM_EXTINT << 8;
    this.lvt[LVT_LINT1] = DM_NMI << 8;
    this.update();
  }

  /** IA32_APIC_BASE.EN changed (the core reports WRMSR 0x1B). Clearing it resets the APIC state (SDM §10.4.3). */
  setHardwareEnabled(on: boolean): void {
    if (on === this.hwEnabled) return;
    this.hwEnabled = on;
    if (!on) {
      this.irr.fill(0); this.isr.fill(0); this.tmr.fill(0);
      this.lvt.fill(LVT_MASKED);
      this.svr = 0xff; this.tpr = 0; this.tmict = 0; this.next = Infinity;
    }
    this.update();
  }

  // ---- inputs -------------------------------------------------------------------------------

  /** The 8259's INTR output, wired to LINT0. */
  setLint0(level: boolean): void {
    const rising = level && !this.lint0;
    this.lint0 = level;
    if (rising) this.localInterrupt(LVT_LINT0);
    else this.update();
  }

  /** An I/O APIC pin in ExtINT mode asserted or released (the 8259's INTR through the I/O APIC). */
  setExtIntViaIoapic(on: boolean): void {
    this.extIntViaIoapic = on;
    this.update();
  }

  /**
   * An interrupt message for this CPU (I/O APIC, MSI, IPI). Returns false if it was not
   * accepted (not addressed to us, or a mode a single-CPU APIC ignores).
   */
  accept(m: ApicMessage): boolean {
    if (!this.hwEnabled) return false;
    if (!this.addressed(m.dest, m.logical)) return false;
    switch (m.mode) {
      case DM_FIXED:
      case DM_LOWEST: // one CPU: lowest priority is fixed to us
        return this.acceptFixed(m.vector, m.level);
      case DM_NMI:
        this.o.nmi();
        return true;
      case DM_EXTINT:
        // An ExtINT message is edge-like: the 8259's INTR is what the CPU then acknowledges.
        this.stats.extInt++;
        return true;
      default:
        this.warn(`lapic: ${m.mode === DM_SMI ? "SMI" : m.mode === DM_INIT ? "INIT" : m.mode === DM_STARTUP ? "STARTUP" : `delivery mode ${m.mode}`} message ignored (one CPU, no SMM)`);
        return false;
    }
  }

  /** Does (dest, logical) name this APIC? (SDM §10.6.2.) */
  private addressed(dest: number, logical: boolean): boolean {
    dest &= 0xff;
    if (!logical) return dest === 0xff || dest === (this.id >>> 24);
    if (dest === 0xff) return true;
    const mine = this.ldr >>> 24;
    if ((this.dfr >>> 28) === 0xf) return (mine & dest) !== 0; // flat model
    // Cluster model: cluster id in bits 7:4 must match, then the member bitmap.
    return (dest >> 4) === (mine >> 4) && (dest & mine & 0xf) !== 0;
  }

  private acceptFixed(vector: number, level: boolean): boolean {
    vector &= 0xff;
    if (vector < 16) {
      // SDM §10.5.3: vectors 0–15 are illegal; the receiving APIC flags it and drops it.
      this.error(ESR_RECEIVE_ILLEGAL_VECTOR);
      return false;
    }
    if ((this.svr & SVR_ENABLE) === 0) return false; // software-disabled: §10.4.7.2
    this.stats.accepted++;
    setBit(this.irr, vector);
    if (level) setBit(this.tmr, vector);
    else clearBit(this.tmr, vector);
    this.update();
    return true;
  }

  /** An LVT source fired (timer expiry, LINT rising edge, error). */
  private localInterrupt(index: number): void {
    const e = this.lvt[index]!;
    if (e & LVT_MASKED || (this.svr & SVR_ENABLE) === 0) { this.update(); return; }
    const mode = index === LVT_TIMER || index === LVT_ERROR ? DM_FIXED : (e >> 8) & 7;
    if (mode === DM_FIXED) this.acceptFixed(e & LVT_VECTOR, index === LVT_LINT0 || index === LVT_LINT1 ? (e & LVT_LEVEL) !== 0 : false);
    else if (mode === DM_NMI) this.o.nmi();
    else if (mode !== DM_EXTINT) this.warn(`lapic: LVT ${index} delivery mode ${mode} not supported; dropped`);
    this.update();
  }

  // ---- the CPU side -------------------------------------------------------------------------

  /** PPR (SDM §10.8.3.1): TPR if its class is at least the highest in-service class. */
  ppr(): number {
    const isrv = Math.max(0, highest(this.isr));
    return (this.tpr & 0xf0) >= (isrv & 0xf0) ? this.tpr & 0xff : isrv & 0xf0;
  }

  /** The highest IRR vector the CPU would take now, or -1. */
  private deliverable(): number {
    const v = highest(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) return -1;
    return v;
  }

  /** The 8259's INTR reaches the CPU (ExtINT through LINT0 or an I/O APIC pin). */
  private extIntActive(): boolean {
    if (!this.hwEnabled) return this.lint0;
    if (this.extIntViaIoapic) return this.lint0;
    const e = this.lvt[LVT_LINT0]!;
    return this.lint0 && (e & LVT_MASKED) === 0 && ((e >> 8) & 7) === DM_EXTINT && (this.svr & SVR_ENABLE) !== 0;
  }

  /** Recompute the CPU's INTR input. */
  update(): void {
    const level = this.extIntActive() || (this.hwEnabled && this.deliverable() >= 0);
    if (level !== this.intr) {
      this.intr = level;
      this.o.setIntr(level);
    }
  }

  get intrLevel(): boolean {
    return this.intr;
  }

  /** INTA: the vector the CPU takes (SDM §10.8.3 and Figure 10-20 acceptance flow). */
  intack(): number {
    let vector: number;
    if (this.extIntActive()) {
      // ExtINT is not subject to the APIC's priority: the 8259 supplies the vector.
      vector = this.o.extIntAck();
    } else {
      const v = this.deliverable();
      if (v < 0) {
        // Raised TPR (or an EOI) withdrew the request after INTR was sampled: §10.9.
        this.stats.spurious++;
        vector = this.svr & 0xff;
      } else {
        clearBit(this.irr, v);
        setBit(this.isr, v);
        vector = v;
      }
    }
    this.update();
    return vector;
  }

  // ---- registers ----------------------------------------------------------------------------

  read(off: number): number {
    if (!this.hwEnabled) return 0xffff_ffff;
    if (off & 0xf) return this.illegal(off, "read");
    if (off >= APIC_ISR && off < APIC_ISR + 0x80) return this.isr[(off - APIC_ISR) >> 4]!;
    if (off >= APIC_TMR && off < APIC_TMR + 0x80) return this.tmr[(off - APIC_TMR) >> 4]!;
    if (off >= APIC_IRR && off < APIC_IRR + 0x80) return this.irr[(off - APIC_IRR) >> 4]!;
    const li = LVT_INDEX[off];
    if (li !== undefined) return this.lvt[li]!;
    switch (off) {
      case APIC_ID: return this.id;
      case APIC_LVR: return LAPIC_VERSION;
      case APIC_TPR: return this.tpr;
      case APIC_APR: return 0;
      case APIC_PPR: return this.ppr();
      case APIC_EOI: return 0;
      case APIC_RRD: return 0;
      case APIC_LDR: return this.ldr;
      case APIC_DFR: return this.dfr;
      case APIC_SVR: return this.svr;
      case APIC_ESR: return this.esr;
      case APIC_ICR_LO: return this.icrLo & ~LVT_STATUS; // delivery is instant: always idle
      case APIC_ICR_HI: return this.icrHi;
      case APIC_TMICT: return this.tmict;
      case APIC_TMCCT: this.stats.currentCountReads++; return this.currentCount(this.clock.nowNs());
      case APIC_TDCR: return this.tdcr;
      default: return this.illegal(off, "read");
    }
  }

  write(off: number, v: number): void {
    if (!this.hwEnabled) return;
    if (off & 0xf) { this.illegal(off, "write"); return; }
    const li = LVT_INDEX[off];
    if (li !== undefined) { this.writeLvt(li, v); return; }
    switch (off) {
      case APIC_ID: this.id = (v & 0xff00_0000) >>> 0; return; // unsigned: the state table's u32
      case APIC_TPR: this.tpr = v & 0xff; this.update(); return;
      case APIC_EOI: this.eoi(); return;
      case APIC_LDR: this.ldr = (v & 0xff00_0000) >>> 0; return;
      case APIC_DFR: this.dfr = ((v & 0xf000_0000) | 0x0fff_ffff) >>> 0; return;
      case APIC_SVR: this.writeSvr(v); return;
      case APIC_ESR: this.esr = this.esrPending; this.esrPending = 0; return; // §10.5.3: write latches, then clears
      case APIC_ICR_HI: this.icrHi = (v & 0xff00_0000) >>> 0; return;
      case APIC_ICR_LO: this.icrLo = v & 0x000c_cfff; this.sendIpi(); return;
      case APIC_TMICT: this.writeInitialCount(v >>> 0); return;
      case APIC_TDCR: this.writeDivide(v); return;
      default:
        // Read-only registers (version, PPR, ISR/TMR/IRR, current count…): writes are ignored.
        // Linux's verify_local_APIC writes VERSION on purpose to check exactly that.
        if (LAPIC_REGISTERS.some((r) => r.offset === off)) return;
        this.illegal(off, "write");
    }
  }

  private illegal(off: number, what: string): number {
    this.error(ESR_ILLEGAL_REGISTER);
    this.warn(`lapic: ${what} of unknown register +0x${off.toString(16)}`);
    return 0;
  }

  private error(bit: number): void {
    this.esrPending |= bit;
    this.localInterrupt(LVT_ERROR);
  }

  private warn(m: string): void {
    if (this.logged++ < 16) this.log(m);
  }

  private writeSvr(v: number): void {
    // Bits 7:0 vector (bits 3:0 writable on P6 and later), 8 enable, 9 focus check; 12 (EOI
    // broadcast suppression) is not supported (VERSION bit 24 clear) and stays 0.
    this.svr = v & 0x3ff;
    if ((this.svr & SVR_ENABLE) === 0) for (let i = 0; i < this.lvt.length; i++) this.lvt[i] = this.lvt[i]! | LVT_MASKED; // §10.4.7.2
    this.update();
  }

  private writeLvt(i: number, v: number): void {
    let nv = (this.lvt[i]! & ~LVT_WRITABLE[i]!) | (v & LVT_WRITABLE[i]!);
    if ((this.svr & SVR_ENABLE) === 0) nv |= LVT_MASKED; // masks cannot be cleared while software-disabled
    if (i === LVT_TIMER && ((nv >> 17) & 3) === 2) {
      // TSC-deadline mode needs CPUID.1:ECX.TSC_DEADLINE, which we do not report (§10.5.4.1).
      this.warn("lapic: TSC-deadline timer mode is not supported; treated as one-shot");
    }
    if (i === LVT_TIMER && ((nv >> 17) & 3) === 3) nv &= ~LVT_TIMER_MODE; // reserved mode
    const wasPeriodic = i === LVT_TIMER && (this.lvt[i]! & LVT_TIMER_PERIODIC) !== 0;
    this.lvt[i] = nv;
    if (i === LVT_TIMER && wasPeriodic !== ((nv & LVT_TIMER_PERIODIC) !== 0)) this.rebase(this.clock.nowNs());
    if (i === LVT_LINT0 || i === LVT_LINT1) this.lvt[i] = nv & ~LVT_REMOTE_IRR;
    this.update();
  }

  /** EOI (SDM §10.8.5): retire the highest ISR bit; broadcast it if its TMR bit says level. */
  private eoi(): void {
    const v = highest(this.isr);
    if (v < 0) return;
    this.stats.eois++;
    clearBit(this.isr, v);
    if (testBit(this.tmr, v)) this.o.eoiBroadcast?.(v);
    this.update();
  }

  /** ICR write (SDM §10.6.1): on one CPU an IPI can only go to ourselves. */
  private sendIpi(): void {
    const lo = this.icrLo;
    const vector = lo & 0xff, mode = (lo >> 8) & 7, logical = (lo & (1 << 11)) !== 0;
    const shorthand = (lo >> 18) & 3;
    this.stats.ipis++;
    if (shorthand === 3) return; // all excluding self: nobody else
    if ((mode === DM_FIXED || mode === DM_LOWEST) && vector < 16) { this.error(ESR_SEND_ILLEGAL_VECTOR); return; }
    if (mode === DM_INIT && (lo & (1 << 14)) === 0) return; // INIT level de-assert: no action
    const dest = shorthand === 0 ? this.icrHi >>> 24 : 0xff;
    this.accept({ vector, mode, level: (lo & LVT_LEVEL) !== 0 && mode === DM_FIXED, dest, logical: shorthand === 0 ? logical : false });
  }

  // ---- the timer (SDM §10.5.4) ---------------------------------------------------------------

  private get periodic(): boolean {
    return (this.lvt[LVT_TIMER]! & LVT_TIMER_PERIODIC) !== 0;
  }

  private writeInitialCount(v: number): void {
    const now = this.clock.nowNs();
    this.tmict = v;
    this.tBase = now;
    this.cBase = v;
    this.next = v === 0 ? Infinity : now + v * this.div * NS_PER_TICK;
  }

  private writeDivide(v: number): void {
    const now = this.clock.nowNs();
    const cur = this.currentCount(now);
    this.tdcr = v & 0xb;
    this.div = timerDivisor(this.tdcr);
    // The count goes on from where it is at the new rate.
    if (cur !== 0) { this.tBase = now; this.cBase = cur; this.next = now + cur * this.div * NS_PER_TICK; }
  }

  /** Keep counting from the current value (a mode change restarts nothing). */
  private rebase(now: number): void {
    const cur = this.currentCount(now);
    if (cur === 0) { this.next = Infinity; return; }
    this.tBase = now; this.cBase = cur; this.next = now + cur * this.div * NS_PER_TICK;
  }

  /** The current count at `now`: cheap arithmetic, no state change (the kernel polls it). */
  currentCount(now: number): number {
    if (this.tmict === 0 || this.cBase === 0) return 0;
    const e = Math.floor((now - this.tBase) / (this.div * NS_PER_TICK));
    if (e < this.cBase) return this.cBase - e;
    if (!this.periodic) return 0;
    return this.tmict - ((e - this.cBase) % this.tmict);
  }

  nextDeadlineNs(): number {
    return this.next;
  }

  advance(now: number): void {
    if (now < this.next) return;
    if (this.periodic && this.tmict !== 0) {
      // Missed periods coalesce into one interrupt (IRR holds one bit per vector anyway).
      const period = this.tmict * this.div * NS_PER_TICK;
      const k = Math.floor((now - this.next) / period) + 1;
      this.next += k * period;
    } else {
      this.next = Infinity;
      this.cBase = 0; // one-shot: stays at zero
    }
    this.stats.timerFires++;
    this.localInterrupt(LVT_TIMER);
  }
}
