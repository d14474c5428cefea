// The I/O APIC (Intel 82093AA datasheet, order no. 290566): 24 interrupt input pins, each with a
// 64-bit redirection table entry that turns a pin's assertion into an interrupt message for the
// local APIC. Memory-mapped at 0xFEC00000: IOREGSEL (+0x00) selects a register, IOWIN (+0x10)
// reads/writes it (datasheet §3.0, §3.1). Registers: 0x00 IOAPICID, 0x01 IOAPICVER,
// 0x02 IOAPICARB, 0x10–0x3F IOREDTBL[0–23] (low dword at 0x10 + 2n, high at 0x11 + 2n).
//
// Edge-triggered pins send a message on each rising edge of the (polarity-corrected) input while
// unmasked; a masked edge is lost. Level-triggered pins send one message and set Remote IRR;
// the local APIC's EOI broadcast of that vector clears it, and a still-asserted input sends
// again (§3.2.4 "Remote IRR"). Unmasking an asserted level pin sends at once.
//
// What Linux 6.1 does with it: arch/x86/kernel/apic/io_apic.c (clear_IO_APIC masks every pin,
// ioapic_write_entry writes the high dword first, ioapic_mask_entry; check_timer probes pin 2).
import { W4, type RegisterInfo, type Region, type Width } from "./bus/region.ts";
import { DM_EXTINT, DM_FIXED, DM_LOWEST, DM_NMI, type ApicMessage } from "./lapic.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

export const IOAPIC_DEFAULT_BASE = 0xfec0_0000;
export const IOAPIC_PINS = 24;
/** IOAPICVER: maximum redirection entry 23, version 0x11 (82093AA). */
export const IOAPIC_VERSION = ((IOAPIC_PINS - 1) << 16) | 0x11;

export const IOREGSEL = 0x00, IOWIN = 0x10;
export const IOAPICID = 0x00, IOAPICVER = 0x01, IOAPICARB = 0x02, IOREDTBL = 0x10;

/** The two MMIO registers (datasheet §3.0, Table 2). */
export const IOAPIC_MMIO_REGISTERS: readonly RegisterInfo[] = [
  { offset: IOREGSEL, name: "IOREGSEL", access: "rw", ref: "82093AA §3.1.1" },
  { offset: IOWIN, name: "IOWIN", access: "rw", ref: "82093AA §3.1.2" },
];

/** The indirect registers IOREGSEL selects (datasheet §3.2, Table 3). */
export const IOAPIC_REGISTERS: readonly RegisterInfo[] = [
  { offset: IOAPICID, name: "IOAPICID", access: "rw", ref: "82093AA §3.2.1 (bits 27:24)" },
  { offset: IOAPICVER, name: "IOAPICVER", access: "r", ref: "82093AA §3.2.2" },
  { offset: IOAPICARB, name: "IOAPICARB", access: "r", ref: "82093AA §3.2.3" },
  ...Array.from({ length: IOAPIC_PINS * 2 }, (_, i) => ({
    offset: IOREDTBL + i, name: `IOREDTBL${i >> 1}.${i & 1 ? "hi" : "lo"}`, access: "rw" as const, ref: "82093AA §3.2.4",
  })),
];

// Redirection entry bits (datasheet §3.2.4).
export const RTE_MASKED = 1 << 16;
export const RTE_LEVEL = 1 << 15;
export const RTE_REMOTE_IRR = 1 << 14;
export const RTE_ACTIVE_LOW = 1 << 13;
const RTE_STATUS = 1 << 12;
const RTE_LOGICAL = 1 << 11;
/** Guest-writable bits of the low dword: everything except delivery status and Remote IRR. */
const RTE_LO_WRITABLE = 0x0001_afff;

export interface IoApicOptions {
  /** Send an interrupt message to the local APIC(s); false if nobody accepted it. */
  send: (m: ApicMessage) => boolean;
  /** A pin in ExtINT mode asserted/released: the 8259's INTR is to reach the CPU through it. */
  extInt?: (on: boolean) => void;
  /** Pins wired active-low on this board (PCI INTx#): the electrical level is inverted. */
  activeLowPins?: readonly number[];
  log?: (message: string) => void;
}

export class IoApic implements Stateful {
  readonly region: Region;
  id = 0;
  private sel = 0;
  readonly lo = new Uint32Array(IOAPIC_PINS).fill(RTE_MASKED);
  readonly hi = new Uint32Array(IOAPIC_PINS);
  /** Requests as the devices assert them (before the board's wiring inverts anything). */
  private asserted = 0;
  private readonly activeLowWiring: number;
  private readonly o: IoApicOptions;
  private readonly log: (message: string) => void;
  private logged = 0;
  private extIntPins = 0;
  readonly stats = { messages: 0, eoiClears: 0 };

  /** Snapshot fields (devices/state/). */
  readonly stateTable: StateTable = { id: "u8", sel: "u8", lo: { u32s: IOAPIC_PINS }, hi: { u32s: IOAPIC_PINS }, asserted: "u32", extIntPins: "u32" };

  constructor(o: IoApicOptions) {
    this.o = o;
    this.log = o.log ?? (() => {});
    let m = 0;
    for (const p of o.activeLowPins ?? []) m |= 1 << p;
    this.activeLowWiring = m;
    this.region = {
      name: "ioapic", base: IOAPIC_DEFAULT_BASE, size: 0x20, widths: W4, registers: IOAPIC_MMIO_REGISTERS,
      read: (off) => this.readMmio(off),
      write: (off, _w: Width, v) => this.writeMmio(off, v),
    };
  }

  // ---- pins ---------------------------------------------------------------------------------

  /** A device asserts (true) or releases its request on `pin`. */
  setPin(pin: number, asserted: boolean): void {
    if (pin < 0 || pin >= IOAPIC_PINS) return;
    const bit = 1 << pin;
    const was = this.request(pin);
    this.asserted = asserted ? this.asserted | bit : this.asserted & ~bit;
    const now = this.request(pin);
    if (now === was && !(now && this.isLevel(pin))) return;
    this.evaluate(pin, now && !was);
  }

  /** The pin's interrupt request as the entry's polarity sees it (electrical level XOR polarity). */
  private request(pin: number): boolean {
    const bit = 1 << pin;
    const electricalHigh = ((this.asserted & bit) !== 0) !== ((this.activeLowWiring & bit) !== 0);
    return electricalHigh !== ((this.lo[pin]! & RTE_ACTIVE_LOW) !== 0);
  }

  private isLevel(pin: number): boolean {
    return (this.lo[pin]! & RTE_LEVEL) !== 0;
  }

  /** Send for `pin` if its state calls for it. `edge`: a rising edge just happened. */
  private evaluate(pin: number, edge: boolean): void {
    const lo = this.lo[pin]!;
    const mode = (lo >> 8) & 7;
    if (mode === DM_EXTINT) {
      // Virtual wire through the I/O APIC: the 8259's INTR follows this pin while unmasked.
      const bit = 1 << pin;
      const on = (lo & RTE_MASKED) === 0 && this.request(pin);
      const next = on ? this.extIntPins | bit : this.extIntPins & ~bit;
      if (next !== this.extIntPins) { this.extIntPins = next; this.o.extInt?.(next !== 0); }
      return;
    }
    if (lo & RTE_MASKED) return;
    if (this.isLevel(pin)) {
      if (!this.request(pin) || lo & RTE_REMOTE_IRR) return;
      if (this.send(pin)) this.lo[pin] = this.lo[pin]! | RTE_REMOTE_IRR;
    } else if (edge) {
      this.send(pin);
    }
  }

  private send(pin: number): boolean {
    const lo = this.lo[pin]!, mode = (lo >> 8) & 7;
    if (mode !== DM_FIXED && mode !== DM_LOWEST && mode !== DM_NMI) {
      this.warn(`ioapic: pin ${pin} delivery mode ${mode} not supported; dropped`);
      return false;
    }
    this.stats.messages++;
    return this.o.send({
      vector: lo & 0xff, mode, level: (lo & RTE_LEVEL) !== 0,
      dest: this.hi[pin]! >>> 24, logical: (lo & RTE_LOGICAL) !== 0,
    });
  }

  /** The local APIC's EOI broadcast for a level-triggered `vector` (82093AA §3.2.4 Remote IRR). */
  eoi(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const lo = this.lo[pin]!;
      if ((lo & 0xff) !== vector || (lo & RTE_REMOTE_IRR) === 0) continue;
      this.lo[pin] = lo & ~RTE_REMOTE_IRR;
      this.stats.eoiClears++;
      this.evaluate(pin, false);
    }
  }

  // ---- registers ----------------------------------------------------------------------------

  private readMmio(off: number): number {
    if (off === IOREGSEL) return this.sel;
    if (off === IOWIN) return this.readReg(this.sel);
    return 0; // 0x04–0x0C, 0x14–0x1C: not decoded by the 82093AA; reads as 0 here
  }

  private writeMmio(off: number, v: number): void {
    if (off === IOREGSEL) this.sel = v & 0xff;
    else if (off === IOWIN) this.writeReg(this.sel, v >>> 0);
    else this.warn(`ioapic: write to undecoded offset +0x${off.toString(16)}; ignored`);
  }

  readReg(r: number): number {
    switch (r) {
      case IOAPICID: return (this.id & 0xf) << 24;
      case IOAPICVER: return IOAPIC_VERSION;
      case IOAPICARB: return (this.id & 0xf) << 24; // arbitration id = APIC id after reset
    }
    if (r >= IOREDTBL && r < IOREDTBL + 2 * IOAPIC_PINS) {
      const pin = (r - IOREDTBL) >> 1;
      return (r & 1 ? this.hi[pin]! : this.lo[pin]! & ~RTE_STATUS) >>> 0;
    }
    this.warn(`ioapic: read of register 0x${r.toString(16)}, which does not exist`);
    return 0;
  }

  writeReg(r: number, v: number): void {
    if (r === IOAPICID) { this.id = (v >>> 24) & 0xf; return; }
    if (r === IOAPICVER || r === IOAPICARB) return; // read-only
    if (r >= IOREDTBL && r < IOREDTBL + 2 * IOAPIC_PINS) {
      const pin = (r - IOREDTBL) >> 1;
      if (r & 1) { this.hi[pin] = v & 0xff00_0000; return; }
      const old = this.lo[pin]!;
      let nv = (old & ~RTE_LO_WRITABLE) | (v & RTE_LO_WRITABLE);
      // Remote IRR means nothing for an edge entry (datasheet: "undefined for edge"); clear it
      // so a later switch to level does not start out blocked.
      if ((nv & RTE_LEVEL) === 0) nv &= ~RTE_REMOTE_IRR;
      this.lo[pin] = nv >>> 0;
      // A level pin already asserted when unmasked (or retargeted) is delivered now.
      this.evaluate(pin, false);
      return;
    }
    this.warn(`ioapic: write of register 0x${r.toString(16)}, which does not exist; ignored`);
  }

  private warn(m: string): void {
    if (this.logged++ < 16) this.log(m);
  }
}
