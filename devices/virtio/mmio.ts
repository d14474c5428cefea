// virtio-mmio (virtio 1.2 §4.2): a 0x200-byte register window, version 1 (legacy, §4.2.4:
// GuestPageSize, QueuePFN, QueueAlign) or version 2 (QueueReady, 64-bit queue addresses,
// ConfigGeneration), discovered by Linux from `virtio_mmio.device=0x200@<base>:<irq>`. One
// level-triggered IRQ line driven by InterruptStatus and cleared through InterruptACK.
import { W4, W_ANY, type Region, type RegisterInfo, type Width } from "../bus/region.ts";
import type { VirtioDevice, VirtioDeviceInfo } from "./device.ts";
import type { GuestMemory } from "./guest-memory.ts";
import { MMIO_BY_OFFSET, MMIO_CONFIG, MMIO_REGISTERS, MMIO_WINDOW, type MmioRegister, type MmioVersion as Version } from "./mmio-registers.ts";
import type { Virtqueue } from "./queue.ts";
import { VirtioTransport } from "./transport.ts";
import { has, type TransportKind } from "./device.ts";
import { TRANSPORTS } from "./transports.ts";
import { MmioMsi, VIRTIO_F_MMIO_MSI, MMIO_MSI_BY_OFFSET, MMIO_MSI_END, MMIO_MSI_FIRST, MMIO_MSI_REGISTERS } from "./mmio-msi.ts";
import type { Register } from "./register-table.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

export { MMIO_CONFIG, MMIO_MAGIC, MMIO_REGISTERS, MMIO_VENDOR_ID, MMIO_WINDOW } from "./mmio-registers.ts";

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

const MMIO_MSI_BIT = BigInt(VIRTIO_F_MMIO_MSI);

/**
 * The register names of a window that offers MSI (traces, --stats): the MSI rows replace what
 * the plain window has in their range (QueueReset).
 */
const MMIO_REGISTERS_WITH_MSI: readonly RegisterInfo[] = [
  ...MMIO_REGISTERS.filter((r) => r.offset < MMIO_MSI_FIRST || r.offset >= MMIO_MSI_END),
  ...MMIO_MSI_REGISTERS,
].sort((a, b) => a.offset - b.offset);

export class VirtioMmio implements Stateful {
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
  align: number[];
  pfn: number[];
  private readonly log: (message: string) => void;
  /** MSI (the 2020 proposal), when opted in. */
  readonly msi: MmioMsi | null = null;

  /** Snapshot fields (devices/state/): selectors, legacy placement, MSI, the transport. */
  get stateTable(): StateTable {
    return {
      devFeatSel: "u32", drvFeatSel: "u32", pageSize: "u32", align: { list: "u32", max: this.align.length }, pfn: { list: "u32", max: this.pfn.length },
      ...(this.msi ? { msi: "child" as const } : {}), t: "child",
    };
  }

  constructor(readonly device: VirtioDevice, o: VirtioMmioOptions) {
    this.version = o.version;
    this.base = o.base;
    this.irq = o.irq;
    this.log = o.log;
    const msi = o.version === 2 ? o.msi : undefined;
    if (o.msi && !msi) o.log(`${o.name}: MSI needs virtio-mmio version 2 (feature bit 40); not offered`);
    this.t = new VirtioTransport(device, {
      name: o.name, kind: mmioTransport(o.version), mem: o.mem, setIrq: o.setIrq, log: o.log,
      ...(msi ? { extraFeatures: 1n << MMIO_MSI_BIT } : {}),
    });
    if (msi) {
      const m = new MmioMsi({
        name: o.name, queues: device.queueSizes.length, send: msi.send, log: o.log, selector: this.t,
        ...(msi.sharedVectors !== undefined ? { sharedVectors: msi.sharedVectors } : {}),
      });
      this.msi = m;
      this.t.msi = m;
      this.t.onReset = () => m.reset();
    }
    this.align = device.queueSizes.map(() => 4096);
    this.pfn = device.queueSizes.map(() => 0);
    this.regions = [
      {
        name: o.name, base: o.base, size: MMIO_CONFIG, widths: W4, registers: this.msi ? MMIO_REGISTERS_WITH_MSI : MMIO_REGISTERS,
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

  /** The row at `off`, if the guest may use it: decoded by MMIO_REGISTERS, in its natural width and this version. */
  private reg(off: number, w: Width, write: boolean): MmioRegister | null {
    const r = MMIO_BY_OFFSET[off];
    if (!r || w !== r.width) {
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
    if (off >= MMIO_CONFIG) return t.readConfig(off - MMIO_CONFIG, w);
    const msi = this.msi;
    if (msi !== null && off >= MMIO_MSI_FIRST && off < MMIO_MSI_END) {
      const r = this.msiReg(off, w, false);
      if (!r) return 0;
      if (!r.read) { this.log(`${t.name}: read of write-only MSI register at +0x${off.toString(16)}`); return 0; }
      return r.read(msi, null);
    }
    const r = this.reg(off, w, false);
    if (!r) return 0;
    if (!r.read) {
      this.log(`${t.name}: read of write-only register at +0x${off.toString(16)}`);
      return 0;
    }
    return r.read(this, t.selected());
  }

  write(off: number, w: Width, v: number): void {
    const t = this.t;
    t.stats.traps++;
    if (off >= MMIO_CONFIG) { t.writeConfig(off - MMIO_CONFIG, w, v); return; }
    const msi = this.msi;
    if (msi !== null && off >= MMIO_MSI_FIRST && off < MMIO_MSI_END) {
      const r = this.msiReg(off, w, true);
      if (!r) return;
      if (!r.write) { this.log(`${t.name}: write to read-only MSI register at +0x${off.toString(16)}`); return; }
      r.write(msi, v, null);
      return;
    }
    const r = this.reg(off, w, true);
    if (!r) return;
    if (!r.write) { this.log(`${t.name}: write to read-only register at +0x${off.toString(16)}`); return; }
    r.write(this, v, t.selected());
  }

  /**
   * The MSI row at `off` (a window that offers MSI owns MMIO_MSI_FIRST..END, instead of 1.2's
   * QueueReset), if the guest may use it: in its natural width, once VIRTIO_F_MMIO_MSI is negotiated.
   */
  private msiReg(off: number, w: Width, write: boolean): Register<MmioMsi> | null {
    const what = write ? "write" : "read";
    const r = MMIO_MSI_BY_OFFSET[off];
    // A row's own width; between rows (0x0cc), an aligned word is a hole, anything else is rejected.
    if (w !== (r?.width ?? 4) || (off & 3) !== 0) {
      this.t.stats.rejected++;
      this.log(`${this.t.name}: ${w}-byte MSI ${what} at +0x${off.toString(16)}; ignored`);
      return null;
    }
    if (!has(this.t.features, MMIO_MSI_BIT)) {
      this.log(`${this.t.name}: MSI ${what} at +0x${off.toString(16)} before VIRTIO_F_MMIO_MSI was negotiated; ignored`);
      return null;
    }
    if (!r) this.log(`${this.t.name}: MSI ${what} at +0x${off.toString(16)} (no register); ignored`);
    return r ?? null;
  }

  /** §4.2.4: QueuePFN × GuestPageSize is the legacy ring base; 0 stops the queue. */
  setPfn(q: Virtqueue, pfn: number): void {
    const i = q.index;
    this.pfn[i] = pfn >>> 0;
    if (pfn === 0) { q.reset(); return; }
    const align = this.align[i]!;
    if (align === 0 || (align & (align - 1)) !== 0) { this.t.needsReset(`queue ${i}: QueueAlign ${align} not a power of two`); return; }
    this.t.placeLegacyQueue(q, (pfn >>> 0) * this.pageSize, q.size, align);
  }

  /** QueueReady (§4.2.2): 1 enables the queue, 0 resets it. */
  setReady(q: Virtqueue, v: number): void {
    if (v & 1) this.t.enableQueue(q);
    else q.reset();
  }
}

/** The name of the virtio-mmio transport of `version` (1: legacy, 2: modern). */
function mmioTransport(version: 1 | 2): TransportKind {
  const t = TRANSPORTS.find((x) => x.bus === "mmio" && (x.version1 === "none") === (version === 1));
  if (!t) throw new Error(`no virtio-mmio transport of version ${version}`);
  return t.name;
}
