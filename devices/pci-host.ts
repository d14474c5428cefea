// PCI configuration mechanism #1 (PCI Local Bus Specification 3.0 §3.2.2.3.2): a 32-bit
// CONFIG_ADDRESS register at 0xCF8 (enable bit 31, bus 23:16, device 15:11, function 10:8,
// register 7:2) and the CONFIG_DATA window at 0xCFC–0xCFF, with byte, word and dword access at
// any offset. Bus 0 only; device 0 is an i440FX-like host bridge (8086:1237, class 0600),
// which is what Linux's pci_sanity_check (arch/x86/pci/direct.c) looks for after checking
// that 0xCF8 reads back 0x80000000.
//
// A device plugs in a `PciFunction`: a 256-byte type-0 configuration header (§6.1) with
// per-byte write masks, RW1C status bits, BARs with sizing (§6.2.5.1), a capability list
// (§6.7), Interrupt Line/Pin, the command register's INTx-disable bit and the status
// register's Interrupt Status bit (§6.2.2, §6.2.3).
import { W1, W2, W4, W_ANY, allOnes, type Region, type SubRegion, type Width } from "./bus/region.ts";
import type { PortBus } from "./bus/ports.ts";
import type { MmioBus } from "./bus/mmio.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

// Type-0 header offsets (§6.1, figure 6-1).
export const PCI_VENDOR_ID = 0x00, PCI_DEVICE_ID = 0x02, PCI_COMMAND = 0x04, PCI_STATUS = 0x06;
export const PCI_REVISION = 0x08, PCI_CLASS_PROG = 0x09, PCI_CACHE_LINE = 0x0c, PCI_LATENCY = 0x0d;
export const PCI_HEADER_TYPE = 0x0e, PCI_BAR0 = 0x10, PCI_SUBSYS_VENDOR = 0x2c, PCI_SUBSYS_ID = 0x2e;
export const PCI_CAP_PTR = 0x34, PCI_INTERRUPT_LINE = 0x3c, PCI_INTERRUPT_PIN = 0x3d;

export const CMD_IO = 0x0001, CMD_MEMORY = 0x0002, CMD_MASTER = 0x0004, CMD_INTX_DISABLE = 0x0400;
export const STATUS_INTERRUPT = 0x0008, STATUS_CAP_LIST = 0x0010;

export type BarKind = "io" | "mem32" | "mem64";

export interface BarSpec {
  /** 0–5; a mem64 BAR also occupies index + 1. */
  index: number;
  kind: BarKind;
  /** Power of two; at least 4 for I/O, 16 for memory. */
  size: number;
  prefetchable?: boolean;
}

export interface PciFunctionOptions {
  name: string;
  vendorId: number;
  deviceId: number;
  /** 24 bits: base class << 16 | subclass << 8 | programming interface. */
  classCode: number;
  revision?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** 0 = none, 1–4 = INTA#–INTD#. */
  interruptPin?: number;
  bars?: readonly BarSpec[];
  /**
   * A BAR's decoded address changed: `base` is where the BAR now decodes, or null when it
   * stops decoding (command-register enable bit clear, address 0, or a 64-bit address above
   * 4 GiB that a 32-bit bus cannot reach). The owner maps/unmaps its region on the port or
   * MMIO bus.
   */
  onBarMap?: (bar: number, base: number | null) => void;
}

export class PciFunction implements Stateful {
  readonly name: string;
  readonly config = new Uint8Array(256);
  /** 1 bits are writable by the guest. */
  readonly writeMask = new Uint8Array(256);
  /** 1 bits are cleared by writing 1 (status error bits). */
  readonly w1cMask = new Uint8Array(256);
  readonly bars: readonly (BarSpec | undefined)[];
  /** Called after a guest config write has been applied (virtio-pci: MSI-X enable, PCI_CFG). */
  onConfigWrite: ((offset: number, width: Width, value: number) => void) | null = null;
  /** Called before a guest config read, so the owner can refresh the bytes it covers. */
  onConfigRead: ((offset: number, width: Width) => void) | null = null;
  /** See PciFunctionOptions.onBarMap; settable later (attachBars does). */
  onBarMap: (bar: number, base: number | null) => void;
  private readonly decoded: (number | null)[] = [null, null, null, null, null, null];
  private intxSink: (level: boolean) => void = () => {};
  private intxLevel = false;
  private intxOut = false;
  private capEnd = 0x40;
  private lastCap = 0;

  /** Snapshot fields (devices/state/): config space and the INTx pin; masks and BARs are the device's. */
  readonly stateTable: StateTable = { config: { u8s: 256 }, intxLevel: "bool", intxOut: "bool" };

  /** After a load: decode the BARs the restored config space programs (mapping them on the buses). */
  stateLoaded(): void {
    this.updateDecode();
  }

  constructor(o: PciFunctionOptions) {
    this.name = o.name;
    this.onBarMap = o.onBarMap ?? (() => {});
    this.put(PCI_VENDOR_ID, 2, o.vendorId);
    this.put(PCI_DEVICE_ID, 2, o.deviceId);
    this.put(PCI_REVISION, 1, o.revision ?? 0);
    this.put(PCI_CLASS_PROG, 1, o.classCode & 0xff);
    this.put(PCI_CLASS_PROG + 1, 2, o.classCode >> 8);
    this.put(PCI_SUBSYS_VENDOR, 2, o.subsystemVendorId ?? 0);
    this.put(PCI_SUBSYS_ID, 2, o.subsystemId ?? 0);
    this.put(PCI_INTERRUPT_PIN, 1, o.interruptPin ?? 0);
    // Writable standard fields: command (I/O, memory, bus master, parity, SERR, INTx disable),
    // cache line size, latency timer, interrupt line. Status error bits are RW1C.
    this.setWriteMask(PCI_COMMAND, 2, CMD_IO | CMD_MEMORY | CMD_MASTER | 0x0040 | 0x0100 | CMD_INTX_DISABLE);
    this.setW1cMask(PCI_STATUS, 2, 0xf900);
    this.setWriteMask(PCI_CACHE_LINE, 1, 0xff);
    this.setWriteMask(PCI_LATENCY, 1, 0xff);
    this.setWriteMask(PCI_INTERRUPT_LINE, 1, 0xff);

    const bars: (BarSpec | undefined)[] = [undefined, undefined, undefined, undefined, undefined, undefined];
    for (const b of o.bars ?? []) {
      const min = b.kind === "io" ? 4 : 16;
      if (b.size < min || (b.size & (b.size - 1)) !== 0 || b.size > 0x8000_0000 || (b.kind === "io" && b.size > 256)) {
        throw new RangeError(`${o.name}: BAR${b.index} size ${b.size} invalid`);
      }
      if (b.index < 0 || b.index > (b.kind === "mem64" ? 4 : 5) || bars[b.index] || (b.kind === "mem64" && bars[b.index + 1])) {
        throw new RangeError(`${o.name}: BAR${b.index} index invalid or taken`);
      }
      bars[b.index] = b;
      const off = PCI_BAR0 + 4 * b.index;
      // Low flag bits are read-only (§6.2.5.1): I/O = 01b; memory type 00 (32-bit) or 10
      // (64-bit) in bits 2:1, prefetchable in bit 3. Address bits below the size read 0,
      // which is how sizing by writing all-ones reveals the size.
      if (b.kind === "io") {
        this.put(off, 4, 0x1);
        this.setWriteMask(off, 4, ~(b.size - 1) & 0xfffc); // 16-bit I/O decoder
      } else {
        this.put(off, 4, (b.kind === "mem64" ? 0x4 : 0) | (b.prefetchable ? 0x8 : 0));
        this.setWriteMask(off, 4, ~(b.size - 1) & ~0xf);
        if (b.kind === "mem64") {
          bars[b.index + 1] = b; // the upper half belongs to the same BAR
          this.setWriteMask(off + 4, 4, 0xffff_ffff);
        }
      }
    }
    this.bars = bars;
  }

  // ---- owner-side helpers --------------------------------------------------------------------

  /** Store a little-endian value into config space (no masks: the device's own view). */
  put(offset: number, width: number, value: number): void {
    for (let i = 0; i < width; i++) this.config[offset + i] = (value >>> (8 * i)) & 0xff;
  }

  get(offset: number, width: number): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | this.config[offset + i]!;
    return v >>> 0;
  }

  setWriteMask(offset: number, width: number, mask: number): void {
    for (let i = 0; i < width; i++) this.writeMask[offset + i] = (mask >>> (8 * i)) & 0xff;
  }

  setW1cMask(offset: number, width: number, mask: number): void {
    for (let i = 0; i < width; i++) this.w1cMask[offset + i] = (mask >>> (8 * i)) & 0xff;
  }

  /**
   * Append a capability of `length` bytes (including its 2-byte id/next header) to the list
   * (§6.7). Returns its offset; the owner fills the body and its write masks.
   */
  addCapability(id: number, length: number): number {
    const off = (this.capEnd + 3) & ~3;
    if (off + length > 256) throw new RangeError(`${this.name}: capability list full`);
    this.config[off] = id;
    this.config[off + 1] = 0;
    if (this.lastCap === 0) this.config[PCI_CAP_PTR] = off;
    else this.config[this.lastCap + 1] = off;
    this.lastCap = off;
    this.capEnd = off + length;
    this.put(PCI_STATUS, 2, this.get(PCI_STATUS, 2) | STATUS_CAP_LIST);
    return off;
  }

  /** Where BAR `i` decodes now, or null (see onBarMap). */
  barBase(i: number): number | null {
    return this.decoded[i] ?? null;
  }

  /** The address programmed into BAR `i`, decoding enabled or not (firmware, inspector). */
  barAddress(i: number): number {
    const b = this.bars[i];
    if (!b) return 0;
    const off = PCI_BAR0 + 4 * b.index;
    if (b.kind === "io") return this.get(off, 4) & 0xfffc;
    const lo = (this.get(off, 4) & ~0xf) >>> 0;
    return b.kind === "mem64" ? lo + this.get(off + 4, 4) * 0x1_0000_0000 : lo;
  }

  /** Where the function's INTx# pin goes (the board's interrupt routing). */
  setIntxSink(sink: (level: boolean) => void): void {
    this.intxSink = sink;
    this.intxOut = false;
    this.updateIntx();
  }

  /** The device asserts (true) or deasserts its INTx# pin. */
  setIntx(level: boolean): void {
    this.intxLevel = level;
    this.updateIntx();
  }

  // ---- guest access (through the host bridge) ------------------------------------------------

  readConfig(offset: number, width: Width): number {
    if (this.onConfigRead) this.onConfigRead(offset, width);
    return this.get(offset, width);
  }

  writeConfig(offset: number, width: Width, value: number): void {
    let touchesDecode = false;
    for (let i = 0; i < width; i++) {
      const o = offset + i;
      const b = (value >>> (8 * i)) & 0xff;
      const wm = this.writeMask[o]!;
      let v = (this.config[o]! & ~wm) | (b & wm);
      v &= ~(b & this.w1cMask[o]!);
      this.config[o] = v;
      if (o === PCI_COMMAND || o === PCI_COMMAND + 1 || (o >= PCI_BAR0 && o < PCI_BAR0 + 24)) touchesDecode = true;
    }
    if (touchesDecode) {
      this.updateDecode();
      this.updateIntx();
    }
    if (this.onConfigWrite) this.onConfigWrite(offset, width, value);
  }

  private updateDecode(): void {
    const cmd = this.get(PCI_COMMAND, 2);
    for (let i = 0; i < 6; i++) {
      const b = this.bars[i];
      if (!b || b.index !== i) continue; // empty, or the upper half of a 64-bit BAR
      let base: number | null = this.barAddress(i);
      const enabled = b.kind === "io" ? cmd & CMD_IO : cmd & CMD_MEMORY;
      if (!enabled || base === 0 || base + b.size > 0x1_0000_0000) base = null;
      if (base !== this.decoded[i]) {
        this.decoded[i] = base;
        this.onBarMap(i, base);
      }
    }
  }

  private updateIntx(): void {
    // Interrupt Status reflects the pin whether or not INTx is disabled (§6.2.3).
    const st = this.get(PCI_STATUS, 2);
    this.put(PCI_STATUS, 2, this.intxLevel ? st | STATUS_INTERRUPT : st & ~STATUS_INTERRUPT);
    const out = this.intxLevel && (this.get(PCI_COMMAND, 2) & CMD_INTX_DISABLE) === 0;
    if (out !== this.intxOut) {
      this.intxOut = out;
      this.intxSink(out);
    }
  }
}

/** The host bridge at 00:00.0, i440FX-like (Intel 82441FX PMC ids). */
export function hostBridge(): PciFunction {
  const f = new PciFunction({ name: "host-bridge", vendorId: 0x8086, deviceId: 0x1237, classCode: 0x060000, revision: 0x02 });
  f.put(PCI_COMMAND, 2, CMD_MEMORY | CMD_MASTER);
  return f;
}

export interface PciSlot {
  device: number;
  fn: number;
  f: PciFunction;
}

export interface PciHostOptions {
  /** Reset Control Register 0xCF9 (PIIX) asked for a reset: Linux's reboot=pci path. */
  requestReset?: () => void;
}

export class PciHost implements Stateful {
  readonly ports: readonly Region[];
  private address = 0;
  private rcr = 0; // 0xCF9 reset control register
  private readonly requestReset: () => void;
  private readonly slots: (PciFunction | undefined)[] = new Array(256).fill(undefined); // devfn

  /** Snapshot fields: CONFIG_ADDRESS and RCR (each function is a component of its own). */
  readonly stateTable: StateTable = { address: "i32", rcr: "u8" }; // address as the bus mask leaves it (signed)

  constructor(opts: PciHostOptions = {}) {
    this.requestReset = opts.requestReset ?? (() => {});
    this.add(0, 0, hostBridge());
    this.ports = [
      {
        // Only a dword access to 0xCF8 is CONFIG_ADDRESS (§3.2.2.3.2); byte and word accesses
        // to 0xCF8–0xCFB are ordinary I/O (Linux's probe writes a byte to 0xCFB). The one
        // byte that means something is PIIX's Reset Control Register at 0xCF9.
        name: "pci-conf1-addr", base: 0xcf8, size: 4, widths: W_ANY,
        registers: [
          { offset: 0, name: "CONFIG_ADDRESS", access: "rw", ref: "PCI 3.0 §3.2.2.3.2" },
          { offset: 1, name: "RCR", access: "rw", ref: "PIIX4 Reset Control Register (byte)" },
        ],
        read: (off, w) => (w === 4 ? this.address : off === 1 && w === 1 ? this.rcr : allOnes(w)),
        write: (off, w, v) => {
          if (w === 4) this.address = v & 0x80ff_fffc; // bits 30:24, 1:0 reserved
          else if (off === 1 && w === 1) this.writeRcr(v);
        },
      },
      {
        name: "pci-conf1-data", base: 0xcfc, size: 4, widths: W_ANY,
        registers: [{ offset: 0, name: "CONFIG_DATA", access: "rw", ref: "PCI 3.0 §3.2.2.3.2" }],
        read: (off, w) => this.dataRead(off, w),
        write: (off, w, v) => this.dataWrite(off, w, v),
      },
    ];
  }

  /** RCR bit 2 going 0→1 resets (bit 1 picks hard vs soft reset: the same to us). */
  private writeRcr(v: number): void {
    const start = (v & 4) !== 0 && (this.rcr & 4) === 0;
    this.rcr = v & 0x0a; // bit 2 is write-only, self-clearing
    if (start) this.requestReset();
  }

  /** Plug a function at bus 0, `device` (1–31), `fn` (0–7). */
  add(device: number, fn: number, f: PciFunction): void {
    if (device < 0 || device > 31 || fn < 0 || fn > 7) throw new RangeError(`pci: bad slot ${device}.${fn}`);
    const devfn = (device << 3) | fn;
    if (this.slots[devfn]) throw new Error(`pci: slot ${device}.${fn} taken`);
    this.slots[devfn] = f;
    // Function 0 of a multi-function device sets header type bit 7 (§6.2.1).
    const f0 = this.slots[device << 3];
    if (fn !== 0 && f0) f0.config[PCI_HEADER_TYPE]! |= 0x80;
    if (fn === 0) for (let i = 1; i < 8; i++) if (this.slots[(device << 3) | i]) f.config[PCI_HEADER_TYPE]! |= 0x80;
  }

  functionAt(device: number, fn: number): PciFunction | null {
    return this.slots[((device & 31) << 3) | (fn & 7)] ?? null;
  }

  /** Every plugged function in slot order (firmware walks this). */
  list(): PciSlot[] {
    const out: PciSlot[] = [];
    this.slots.forEach((f, devfn) => { if (f) out.push({ device: devfn >> 3, fn: devfn & 7, f }); });
    return out;
  }

  /** The function CONFIG_ADDRESS selects, or null (disabled, other bus, empty slot). */
  private selected(): PciFunction | null {
    const a = this.address;
    if ((a & 0x8000_0000) === 0 || ((a >> 16) & 0xff) !== 0) return null;
    return this.slots[(a >> 8) & 0xff] ?? null;
  }

  private dataRead(off: number, w: Width): number {
    const f = this.selected();
    if (!f) return allOnes(w); // master abort: all-ones, like an empty slot
    return f.readConfig((this.address & 0xfc) + off, w);
  }

  private dataWrite(off: number, w: Width, v: number): void {
    const f = this.selected();
    if (f) f.writeConfig((this.address & 0xfc) + off, w, v);
  }
}

/**
 * Glue for a PCI device model: keep each BAR's contents mapped wherever BAR i decodes — I/O
 * BARs on the port bus, memory BARs on the MMIO bus — as firmware or the guest moves, enables
 * and disables them. A BAR holds one region, or several sub-regions at offsets in it (each with
 * its own widths, so the bus enforces them per structure); each is registered at the BAR
 * address plus its offset (a region's own `base` is ignored) and may leave parts of the BAR
 * unclaimed. A BAR the guest programs onto another device is left unmapped and logged, never fatal.
 */
export function attachBars(
  f: PciFunction, bars: readonly (Region | readonly SubRegion[] | undefined)[], ports: PortBus, mmio: MmioBus,
  log: (message: string) => void = () => {},
): void {
  f.onBarMap = (bar, base) => {
    const contents = bars[bar];
    const spec = f.bars[bar];
    if (!contents || !spec) return;
    const subs: readonly SubRegion[] = "read" in contents ? [{ offset: 0, region: contents }] : contents;
    if (spec.kind === "io") {
      for (const s of subs) ports.unregister(s.region);
      if (base === null) return;
      if (subs.every((s) => ports.isFree(base + s.offset, s.region.size))) for (const s of subs) ports.register(s.region, base + s.offset);
      else log(`pci: ${f.name} BAR${bar} at port 0x${base.toString(16)} overlaps another device; not mapped`);
    } else {
      for (const s of subs) {
        mmio.unmap(s.region);
        if (base !== null) mmio.map(s.region, base + s.offset);
      }
    }
  };
}

// Re-exported for device owners that build their own regions.
export { W1, W2, W4 };
