// virtio-mmio (virtio 1.2 §4.2): a 0x200-byte register window, version 1 (legacy, §4.2.4:
// GuestPageSize, QueuePFN, QueueAlign) or version 2 (QueueReady, 64-bit queue addresses,
// ConfigGeneration), discovered by Linux from `virtio_mmio.device=0x200@<base>:<irq>`. One
// level-triggered IRQ line driven by InterruptStatus and cleared through InterruptACK.
import { W4, W_ANY, type RegisterInfo, type Region, type Width } from "../bus/region.ts";
import type { VirtioDevice, VirtioDeviceInfo } from "./device.ts";
import type { GuestMemory } from "./guest-memory.ts";
import { legacyLayout } from "./queue.ts";
import { VirtioTransport } from "./transport.ts";
import { has, type TransportKind } from "./device.ts";
import { TRANSPORTS } from "./transports.ts";
import { MmioMsi, VIRTIO_F_MMIO_MSI, MMIO_MSI_VEC_NUM, MMIO_MSI_DATA } from "./mmio-msi.ts";

export const MMIO_MAGIC = 0x7472_6976; // "virt"
/** Vireo's vendor id: "VIRO" little-endian. */
export const MMIO_VENDOR_ID = 0x4f52_4956;
export const MMIO_WINDOW = 0x200;
export const MMIO_CONFIG = 0x100;

type Version = 1 | 2;

interface MmioReg extends RegisterInfo {
  /** Only in this version; absent registers read 0 and ignore writes (logged). */
  only?: Version;
}

/** The register map, once: decoding, trace names and the inspector's labels come from it. virtio 1.2 §4.2.2 table "MMIO Device Register Layout". */
export const MMIO_REGISTERS: readonly MmioReg[] = [
  { offset: 0x000, name: "MagicValue", access: "r", ref: "§4.2.2" },
  { offset: 0x004, name: "Version", access: "r", ref: "§4.2.2" },
  { offset: 0x008, name: "DeviceID", access: "r", ref: "§4.2.2" },
  { offset: 0x00c, name: "VendorID", access: "r", ref: "§4.2.2" },
  { offset: 0x010, name: "DeviceFeatures", access: "r", ref: "§4.2.2" },
  { offset: 0x014, name: "DeviceFeaturesSel", access: "w", ref: "§4.2.2" },
  { offset: 0x020, name: "DriverFeatures", access: "w", ref: "§4.2.2" },
  { offset: 0x024, name: "DriverFeaturesSel", access: "w", ref: "§4.2.2" },
  { offset: 0x028, name: "GuestPageSize", access: "w", ref: "§4.2.4 legacy", only: 1 },
  { offset: 0x030, name: "QueueSel", access: "w", ref: "§4.2.2" },
  { offset: 0x034, name: "QueueNumMax", access: "r", ref: "§4.2.2" },
  { offset: 0x038, name: "QueueNum", access: "w", ref: "§4.2.2" },
  { offset: 0x03c, name: "QueueAlign", access: "w", ref: "§4.2.4 legacy", only: 1 },
  { offset: 0x040, name: "QueuePFN", access: "rw", ref: "§4.2.4 legacy", only: 1 },
  { offset: 0x044, name: "QueueReady", access: "rw", ref: "§4.2.2", only: 2 },
  { offset: 0x050, name: "QueueNotify", access: "w", ref: "§4.2.2" },
  { offset: 0x060, name: "InterruptStatus", access: "r", ref: "§4.2.2" },
  { offset: 0x064, name: "InterruptACK", access: "w", ref: "§4.2.2" },
  { offset: 0x070, name: "Status", access: "rw", ref: "§4.2.2" },
  { offset: 0x080, name: "QueueDescLow", access: "w", ref: "§4.2.2", only: 2 },
  { offset: 0x084, name: "QueueDescHigh", access: "w", ref: "§4.2.2", only: 2 },
  { offset: 0x090, name: "QueueDriverLow", access: "w", ref: "§4.2.2", only: 2 },
  { offset: 0x094, name: "QueueDriverHigh", access: "w", ref: "§4.2.2", only: 2 },
  { offset: 0x0a0, name: "QueueDeviceLow", access: "w", ref: "§4.2.2", only: 2 },
  { offset: 0x0a4, name: "QueueDeviceHigh", access: "w", ref: "§4.2.2", only: 2 },
  { offset: 0x0ac, name: "SHMSel", access: "w", ref: "§4.2.2", only: 2 },
  { offset: 0x0b0, name: "SHMLenLow", access: "r", ref: "§4.2.2 (no regions: ~0)", only: 2 },
  { offset: 0x0b4, name: "SHMLenHigh", access: "r", ref: "§4.2.2 (no regions: ~0)", only: 2 },
  { offset: 0x0b8, name: "SHMBaseLow", access: "r", ref: "§4.2.2 (no regions: ~0)", only: 2 },
  { offset: 0x0bc, name: "SHMBaseHigh", access: "r", ref: "§4.2.2 (no regions: ~0)", only: 2 },
  { offset: 0x0c0, name: "QueueReset", access: "rw", ref: "§4.2.2", only: 2 },
  { offset: 0x0fc, name: "ConfigGeneration", access: "r", ref: "§4.2.2", only: 2 },
];

/** Register index by offset / 4 (0x100 / 4 slots), built once. */
const BY_SLOT: (MmioReg | undefined)[] = (() => {
  const t: (MmioReg | undefined)[] = new Array(MMIO_CONFIG / 4).fill(undefined);
  for (const r of MMIO_REGISTERS) t[r.offset >> 2] = r;
  return t;
})();

export interface VirtioMmioOptions {
  name: string;
  version: Version;
  base: number;
  irq: number;
  mem: GuestMemory;
  setIrq: (level: boolean) => void;
  log: (message: string) => void;
  /**
   * Opt-in: the 2020 MSI proposal (mmio-msi.ts), version 2 only. `sharedVectors` picks sharing
   * mode with that many vectors; absent, a vector per event.
   */
  msi?: { send: (address: number, data: number) => void; sharedVectors?: number };
}

export class VirtioMmio {
  readonly t: VirtioTransport;
  /**
   * Two regions so the bus enforces widths (docs/ARCHITECTURE.md "Buses and the board"): the registers take 32-bit accesses only
   * (§4.2.2), the device config any width (§4.2.2.2).
   */
  readonly regions: readonly [Region, Region];
  readonly version: Version;
  readonly base: number;
  readonly irq: number;
  /** Selectors and legacy queue placement (public for the inspector's register table). */
  devFeatSel = 0;
  drvFeatSel = 0;
  pageSize = 4096;
  readonly align: number[];
  readonly pfn: number[];
  private readonly log: (message: string) => void;
  /** MSI (the 2020 proposal), when opted in. */
  readonly msi: MmioMsi | null = null;

  constructor(readonly device: VirtioDevice, o: VirtioMmioOptions) {
    this.version = o.version;
    this.base = o.base;
    this.irq = o.irq;
    this.log = o.log;
    const msi = o.msi && o.version === 2;
    if (o.msi && !msi) o.log(`${o.name}: MSI needs virtio-mmio version 2 (feature bit 40); not offered`);
    this.t = new VirtioTransport(device, {
      name: o.name, kind: mmioTransport(o.version), mem: o.mem, setIrq: o.setIrq, log: o.log,
      ...(msi ? { extraFeatures: 1n << BigInt(VIRTIO_F_MMIO_MSI) } : {}),
    });
    if (msi) {
      const m = new MmioMsi({ name: o.name, queues: device.queueSizes.length, send: o.msi!.send, log: o.log, ...(o.msi!.sharedVectors !== undefined ? { sharedVectors: o.msi!.sharedVectors } : {}) });
      this.msi = m;
      this.t.msi = m;
      this.t.onReset = () => m.reset();
    }
    this.align = device.queueSizes.map(() => 4096);
    this.pfn = device.queueSizes.map(() => 0);
    this.regions = [
      {
        name: o.name, base: o.base, size: MMIO_CONFIG, widths: W4, registers: MMIO_REGISTERS,
        // Through the transport's access log: the inspector's "last accesses" are these traps.
        read: (off, w) => { const v = this.read(off, w); this.t.accessed(0, off, w, false, v); return v; },
        write: (off, w, v) => { this.t.accessed(0, off, w, true, v); this.write(off, w, v); },
      },
      {
        name: `${o.name}.config`, base: o.base + MMIO_CONFIG, size: MMIO_WINDOW - MMIO_CONFIG, widths: W_ANY,
        read: (off, w) => { const v = this.read(MMIO_CONFIG + off, w); this.t.accessed(1, MMIO_CONFIG + off, w, false, v); return v; },
        write: (off, w, v) => { this.t.accessed(1, MMIO_CONFIG + off, w, true, v); this.write(MMIO_CONFIG + off, w, v); },
      },
    ];
  }

  /** The kernel command-line fragment that makes Linux probe this window. */
  cmdline(): string {
    return `virtio_mmio.device=0x${MMIO_WINDOW.toString(16)}@0x${this.base.toString(16)}:${this.irq}`;
  }

  info(): VirtioDeviceInfo {
    return {
      name: this.t.name, deviceId: this.device.deviceId, transport: this.t.kind,
      regions: [
        { index: 0, name: "registers", kind: "mmio", base: this.base, size: MMIO_CONFIG, flags: { read: true, write: true } },
        { index: 1, name: "config", kind: "mmio", base: this.base + MMIO_CONFIG, size: MMIO_WINDOW - MMIO_CONFIG, flags: { read: true, write: true } },
      ],
      irqs: [
        { index: 0, name: "InterruptStatus", count: 1, flags: "level", line: this.irq },
        ...(this.msi ? [{ index: 1, name: "MSI", count: this.msi.vectors, flags: "msi" as const }] : []),
      ],
    };
  }

  private reg(off: number, w: Width, write: boolean): MmioReg | null {
    const r = (off & 3) === 0 ? BY_SLOT[off >> 2] : undefined;
    if (w !== 4 || !r) {
      this.t.stats.rejected++;
      this.log(`${this.t.name}: ${write ? "write" : "read"} of ${w} bytes at +0x${off.toString(16)} (${r ? r.name + " takes 32-bit accesses" : "no register"}); ignored`);
      return null;
    }
    if (r.only && r.only !== this.version) {
      this.log(`${this.t.name}: ${r.name} does not exist in version ${this.version}; ignored`);
      return null;
    }
    return r;
  }

  /** Offsets are relative to the window base (0x000–0x1ff). */
  read(off: number, w: Width): number {
    const t = this.t;
    t.stats.traps++;
    if (off >= MMIO_CONFIG) return this.readConfig(off - MMIO_CONFIG, w);
    if (this.msiRegister(off)) {
      const v = this.msiNegotiated(off, w, "read") ? this.msi!.read(off) : 0;
      if (v === null) this.log(`${t.name}: read of write-only MSI register at +0x${off.toString(16)}`);
      return v ?? 0;
    }
    if (!this.reg(off, w, false)) return 0;
    const q = t.selected();
    switch (off) {
      case 0x000: return MMIO_MAGIC;
      case 0x004: return this.version;
      case 0x008: return this.device.deviceId;
      case 0x00c: return MMIO_VENDOR_ID;
      case 0x010: return t.offeredWord(this.devFeatSel);
      case 0x034: return q ? q.maxSize : 0;
      case 0x040: return q ? this.pfn[q.index]! : 0;
      case 0x044: return q && q.enabled ? 1 : 0;
      case 0x060: return t.isr;
      case 0x070: return t.status;
      case 0x0b0: case 0x0b4: case 0x0b8: case 0x0bc: return 0xffff_ffff; // no shared memory region
      case 0x0c0: return 0;
      case 0x0fc: return t.configGeneration;
      default:
        this.log(`${t.name}: read of write-only register at +0x${off.toString(16)}`);
        return 0;
    }
  }

  write(off: number, w: Width, v: number): void {
    const t = this.t;
    t.stats.traps++;
    if (off >= MMIO_CONFIG) { this.writeConfig(off - MMIO_CONFIG, w, v); return; }
    if (this.msiRegister(off)) {
      if (this.msiNegotiated(off, w, "write") && !this.msi!.write(off, v, t.queueSel)) {
        this.log(`${t.name}: write to read-only MSI register at +0x${off.toString(16)}`);
      }
      return;
    }
    if (!this.reg(off, w, true)) return;
    const q = t.selected();
    switch (off) {
      case 0x014: this.devFeatSel = v; return;
      case 0x020: t.setDriverWord(this.drvFeatSel, v); return;
      case 0x024: this.drvFeatSel = v; return;
      case 0x028: this.pageSize = v; return;
      case 0x030: t.queueSel = v; return;
      case 0x038: if (q && !q.enabled) q.size = v; return;
      case 0x03c: if (q) this.align[q.index] = v; return;
      case 0x040: if (q) this.setPfn(q.index, v); return;
      case 0x044: if (q) this.setReady(q.index, v); return;
      case 0x050: t.kick(v & 0xffff); return;
      case 0x064: if (!this.msi?.enabled) t.ack(v); return; // ignored while MSI is enabled
      case 0x070: t.writeStatus(v); return;
      case 0x080: if (q && !q.enabled) q.setDescLo(v); return;
      case 0x084: if (q && !q.enabled) q.setDescHi(v); return;
      case 0x090: if (q && !q.enabled) q.setDriverLo(v); return;
      case 0x094: if (q && !q.enabled) q.setDriverHi(v); return;
      case 0x0a0: if (q && !q.enabled) q.setDeviceLo(v); return;
      case 0x0a4: if (q && !q.enabled) q.setDeviceHi(v); return;
      case 0x0ac: return; // SHMSel: no regions to select
      case 0x0c0: if (q && v === 1) q.reset(); return;
      default:
        this.log(`${t.name}: write to read-only register at +0x${off.toString(16)}`);
    }
  }

  /** 0x0c0–0x0dc belong to MSI on a window that offers it (instead of 1.2's QueueReset). */
  private msiRegister(off: number): boolean {
    return this.msi !== null && off >= MMIO_MSI_VEC_NUM && off <= MMIO_MSI_DATA;
  }

  /** MSI registers mean something only once VIRTIO_F_MMIO_MSI is negotiated, and only as 32-bit words. */
  private msiNegotiated(off: number, w: Width, what: string): boolean {
    if (w !== 4 || (off & 3) !== 0) {
      this.t.stats.rejected++;
      this.log(`${this.t.name}: ${w}-byte MSI ${what} at +0x${off.toString(16)}; ignored`);
      return false;
    }
    if (!has(this.t.features, BigInt(VIRTIO_F_MMIO_MSI))) {
      this.log(`${this.t.name}: MSI ${what} at +0x${off.toString(16)} before VIRTIO_F_MMIO_MSI was negotiated; ignored`);
      return false;
    }
    return true;
  }

  /** §4.2.4: QueuePFN × GuestPageSize is the legacy ring base; 0 stops the queue. */
  private setPfn(i: number, pfn: number): void {
    const q = this.t.queues[i]!;
    this.pfn[i] = pfn >>> 0;
    if (pfn === 0) { q.reset(); return; }
    const align = this.align[i]!;
    if (align === 0 || (align & (align - 1)) !== 0) { this.t.needsReset(`queue ${i}: QueueAlign ${align} not a power of two`); return; }
    const size = q.size;
    const l = legacyLayout((pfn >>> 0) * this.pageSize, size, align);
    q.desc = l.desc; q.driver = l.driver; q.device = l.device;
    q.enabled = true;
    if (this.t.driverOk) q.start(this.t.features);
  }

  private setReady(i: number, v: number): void {
    const q = this.t.queues[i]!;
    if (v & 1) {
      q.enabled = true;
      if (this.t.driverOk) q.start(this.t.features);
    } else {
      q.reset();
    }
  }

  private readConfig(off: number, w: Width): number {
    if (off + w > this.device.configSize) return 0; // past the end
    return this.device.readConfig(off, w);
  }

  private writeConfig(off: number, w: Width, v: number): void {
    if (off + w > this.device.configSize) { this.log(`${this.t.name}: config write past the end (+0x${off.toString(16)})`); return; }
    this.device.writeConfig(off, w, v);
  }
}

/** The name of the virtio-mmio transport of `version` (1: legacy, 2: modern). */
function mmioTransport(version: 1 | 2): TransportKind {
  const t = TRANSPORTS.find((x) => x.bus === "mmio" && (x.version1 === "none") === (version === 1));
  if (!t) throw new Error(`no virtio-mmio transport of version ${version}`);
  return t.name;
}
