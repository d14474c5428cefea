// virtio-pci (virtio 1.2 §4.1): legacy (§4.1.4.8: one I/O BAR with the 2007 register block),
// modern (§4.1.4: vendor-specific capabilities COMMON / NOTIFY / ISR / DEVICE / PCI_CFG pointing
// into a 64-bit prefetchable memory BAR 4), and transitional (both: legacy ids, revision 0,
// I/O BAR 0 and the capabilities; Linux's virtio_pci tries the modern interface first).
// INTx: the line follows ISR ≠ 0 and an ISR read clears it (§4.1.4.5). With `msix`, an MSI-X
// capability (pci-msix.ts) with one vector per queue plus one for configuration changes, table
// and PBA in memory BAR 1; the driver maps notifications to vectors through config_msix_vector /
// queue_msix_vector (§4.1.4.3) or the legacy registers at 20/22 (§4.1.4.8), which exist — and
// move the legacy device config from 20 to 24 — only while MSI-X is enabled (§4.1.5.1.2).
import { W1, W2, W4, W_ANY, type Region, type SubRegion, type Width } from "../bus/region.ts";
import { PciFunction, type BarSpec } from "../pci-host.ts";
import { MsixCapability } from "../pci-msix.ts";
import type { TransportKind, VirtioDevice, VirtioDeviceInfo, VirtioRegionInfo } from "./device.ts";
import type { GuestMemory } from "./guest-memory.ts";
import {
  COMMON_REGISTERS, LEGACY_BY_OFFSET, LEGACY_CONFIG, LEGACY_REGISTERS, LEGACY_CONFIG_MSIX, VIRTIO_MSI_NO_VECTOR, type PciRegister,
} from "./pci-registers.ts";
import { bySlot } from "./register-table.ts";
import { VirtioTransport } from "./transport.ts";
import { transportDef } from "./transports.ts";
import { PCI_CONFIG_SLOT } from "./transport.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

export { COMMON_REGISTERS, LEGACY_CONFIG, LEGACY_CONFIG_MSIX, LEGACY_REGISTERS, VIRTIO_MSI_NO_VECTOR } from "./pci-registers.ts";

export const VIRTIO_PCI_VENDOR = 0x1af4;
/** §4.1.2: transitional ids are 0x1000 + (id − 1) for the original device types. */
const TRANSITIONAL_ID: Record<number, number> = { 1: 0x1000, 2: 0x1001, 3: 0x1003, 4: 0x1005, 5: 0x1002, 8: 0x1004, 9: 0x1009 };

/** §4.1.4 cfg_type values. */
export const VIRTIO_PCI_CAP_COMMON_CFG = 1, VIRTIO_PCI_CAP_NOTIFY_CFG = 2, VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4, VIRTIO_PCI_CAP_PCI_CFG = 5;

/**
 * Layout of the modern memory BAR: one table, from which the capabilities and the BAR's bus
 * sub-regions (one per structure, with the access widths it takes) are derived. Common config
 * takes every width and its table checks each register's natural one (§4.1.3.1); ISR is one byte
 * (§4.1.4.5); a notification is a 16-bit queue index, or 32 bits with VIRTIO_F_NOTIFICATION_DATA
 * (§4.1.4.4); device config takes any width (§4.1.4.6).
 */
export const MODERN_BAR = 4;
export const NOTIFY_OFF_MULTIPLIER = 4;
export const MODERN_LAYOUT = [
  { type: VIRTIO_PCI_CAP_COMMON_CFG, name: "common", offset: 0x0000, length: 0x40, widths: W_ANY, ref: "§4.1.4.3" },
  { type: VIRTIO_PCI_CAP_ISR_CFG, name: "isr", offset: 0x1000, length: 0x4, widths: W1, ref: "§4.1.4.5" },
  { type: VIRTIO_PCI_CAP_DEVICE_CFG, name: "device", offset: 0x2000, length: 0x1000, widths: W_ANY, ref: "§4.1.4.6" },
  { type: VIRTIO_PCI_CAP_NOTIFY_CFG, name: "notify", offset: 0x3000, length: 0x1000, widths: W2 | W4, ref: "§4.1.4.4" },
] as const;
type ModernStructure = (typeof MODERN_LAYOUT)[number]["name"];
const MODERN_BAR_SIZE = 0x4000;
const COMMON_BY_OFFSET = bySlot(COMMON_REGISTERS, MODERN_LAYOUT[0].length);

/** The MSI-X BAR (table at 0, PBA at MSIX_PBA_OFFSET), apart from the legacy I/O BAR 0 and the modern BAR 4. */
export const MSIX_BAR = 1;
const MSIX_BAR_SIZE = 0x1000;
const MSIX_PBA_OFFSET = 0x800;

export interface VirtioPciOptions {
  name: string;
  /** A virtio-pci transport's name (virtio/transports.ts). */
  kind: TransportKind;
  /** The PCI class code (the device type's registry entry); default 0xff0000, "unclassified". */
  classCode?: number;
  mem: GuestMemory;
  log: (message: string) => void;
  /** Offer MSI-X and send its messages here (a DWORD write of `data` to `address`). Absent: INTx only. */
  msix?: { send: (address: number, data: number) => void };
}

export class VirtioPci implements Stateful {
  readonly t: VirtioTransport;
  readonly fn: PciFunction;
  /** The bus sub-regions of each BAR, for attachBars: the legacy header block, each modern structure, the MSI-X table. */
  readonly bars: (readonly SubRegion[] | undefined)[] = [];
  /** The MSI-X capability, when the device offers it. */
  readonly msix: MsixCapability | null = null;
  /** config_msix_vector and queue_msix_vector per queue (NO_VECTOR until the driver maps one). */
  configVector = VIRTIO_MSI_NO_VECTOR;
  queueVectors: number[];
  /** Feature selectors (public for the inspector's register table). */
  devFeatSel = 0;
  drvFeatSel = 0;
  private pciCfgCap = 0;
  private readonly log: (message: string) => void;

  /** Snapshot fields (devices/state/): vectors and selectors, MSI-X, the transport (its PCI function is the bus's). */
  get stateTable(): StateTable {
    return {
      configVector: "u16", queueVectors: { list: "u16", max: this.queueVectors.length }, devFeatSel: "u32", drvFeatSel: "u32",
      ...(this.msix ? { msix: "child" as const } : {}), t: "child",
    };
  }

  constructor(readonly device: VirtioDevice, o: VirtioPciOptions) {
    this.log = o.log;
    const id = device.deviceId;
    const def = transportDef(o.kind);
    if (def.bus !== "pci") throw new Error(`virtio-pci: ${o.kind} is not a PCI transport`);
    const legacy = def.version1 !== "required";
    const modern = def.version1 !== "none";
    const bars: BarSpec[] = [];
    if (legacy) bars.push({ index: 0, kind: "io", size: pow2(Math.max(32, LEGACY_CONFIG_MSIX + device.configSize)) });
    if (modern) bars.push({ index: MODERN_BAR, kind: "mem64", size: MODERN_BAR_SIZE, prefetchable: true });
    if (o.msix) bars.push({ index: MSIX_BAR, kind: "mem32", size: MSIX_BAR_SIZE });
    const deviceId = legacy ? TRANSITIONAL_ID[id] : 0x1040 + id;
    if (deviceId === undefined) throw new Error(`virtio-pci: device id ${id} has no transitional PCI id`);
    this.fn = new PciFunction({
      name: o.name, vendorId: VIRTIO_PCI_VENDOR, deviceId, classCode: o.classCode ?? 0xff0000,
      revision: legacy ? 0 : 1, subsystemVendorId: VIRTIO_PCI_VENDOR, subsystemId: id,
      interruptPin: 1, bars,
    });
    this.t = new VirtioTransport(device, {
      name: o.name, kind: o.kind, mem: o.mem, log: o.log,
      setIrq: (level) => this.fn.setIntx(level),
    });
    this.queueVectors = this.t.queues.map(() => VIRTIO_MSI_NO_VECTOR);
    if (o.msix) {
      const msix = new MsixCapability(this.fn, {
        name: o.name, vectors: this.t.queues.length + 1, bar: MSIX_BAR, tableOffset: 0, pbaOffset: MSIX_PBA_OFFSET,
        send: o.msix.send, log: o.log,
      });
      this.msix = msix;
      this.bars[MSIX_BAR] = [{ offset: 0, region: msix.region }];
      this.t.msi = {
        queue: (i) => this.msiNotify(this.queueVectors[i] ?? VIRTIO_MSI_NO_VECTOR),
        config: () => this.msiNotify(this.configVector),
      };
    }
    this.t.onReset = () => {
      this.configVector = VIRTIO_MSI_NO_VECTOR;
      this.queueVectors.fill(VIRTIO_MSI_NO_VECTOR);
    };
    if (legacy) {
      const size = bars[0]!.size;
      this.bars[0] = [{
        offset: 0,
        region: {
          name: `${o.name}.legacy`, base: 0, size, widths: W_ANY, registers: LEGACY_REGISTERS,
          // Through the transport's access log: the inspector's "last accesses" are these traps.
          read: (off, w) => { const v = this.legacyRead(off, w); this.t.accessed(0, off, w, false, v); return v; },
          write: (off, w, v) => { this.t.accessed(0, off, w, true, v); this.legacyWrite(off, w, v); },
        },
      }];
    }
    if (modern) {
      this.bars[MODERN_BAR] = MODERN_LAYOUT.map((c) => ({ offset: c.offset, region: this.structure(o.name, c) }));
      this.addCapabilities();
    }
    // Configuration space accesses (the driver walking the capability list, PCI_CFG data) go to
    // the access log too; PciFunction calls the read hook before reading, so the value logged
    // is the one the read returns.
    this.fn.onConfigRead = (o, w) => {
      if (modern) this.pciCfgAccess(o, w, false, 0);
      this.t.accessed(PCI_CONFIG_SLOT, o, w, false, this.t.observer ? this.fn.get(o, w) : 0);
    };
    this.fn.onConfigWrite = (o, w, v) => {
      this.t.accessed(PCI_CONFIG_SLOT, o, w, true, v);
      if (modern) this.pciCfgAccess(o, w, true, v);
      this.msix?.configWritten(o, w);
    };
  }

  /** MSI-X Enable: the vectors are in use, and the legacy device config sits at 24. */
  get msixEnabled(): boolean {
    return this.msix !== null && this.msix.enabled;
  }

  /** Send `vector` by MSI-X; false when MSI-X is off (use INTx). NO_VECTOR: no notification at all. */
  private msiNotify(vector: number): boolean {
    const m = this.msix;
    if (!m || !m.enabled) return false;
    if (vector === VIRTIO_MSI_NO_VECTOR) return true;
    return m.signal(vector);
  }

  /** A vector the driver asks for: kept if the table has it, else NO_VECTOR (§4.1.5.1.2.1). */
  vectorFor(v: number): number {
    if (!this.msix || v >= this.msix.vectors) {
      if (v !== VIRTIO_MSI_NO_VECTOR) this.log(`${this.t.name}: MSI-X vector ${v} not available; NO_VECTOR`);
      return VIRTIO_MSI_NO_VECTOR;
    }
    return v;
  }

  info(): VirtioDeviceInfo {
    const regions: VirtioRegionInfo[] = [{ index: 0, name: "config", kind: "config", base: null, size: 256, flags: { read: true, write: true } }];
    this.bars.forEach((r, i) => {
      if (r) regions.push({ index: i + 1, name: `BAR${i}`, kind: this.fn.bars[i]!.kind === "io" ? "pio" : "mmio", base: this.fn.barBase(i), size: this.fn.bars[i]!.size, flags: { read: true, write: true } });
    });
    return {
      name: this.t.name, deviceId: this.device.deviceId, transport: this.t.kind, regions,
      irqs: [
        { index: 0, name: "INTx", count: 1, flags: "level", line: this.fn.config[0x3c] },
        ...(this.msix ? [{ index: 1, name: "MSI-X", count: this.msix.vectors, flags: "msix" as const }] : []),
      ],
    };
  }

  // ---- capabilities (§4.1.4 struct virtio_pci_cap) ----
  private addCapabilities(): void {
    for (const c of MODERN_LAYOUT) {
      const notify = c.type === VIRTIO_PCI_CAP_NOTIFY_CFG;
      const len = notify ? 20 : 16;
      const off = this.fn.addCapability(0x09, len);
      this.fn.put(off + 2, 1, len); // cap_len
      this.fn.put(off + 3, 1, c.type); // cfg_type
      this.fn.put(off + 4, 1, MODERN_BAR); // bar
      this.fn.put(off + 8, 4, c.offset);
      this.fn.put(off + 12, 4, c.length);
      if (notify) this.fn.put(off + 16, 4, NOTIFY_OFF_MULTIPLIER);
    }
    // §4.1.4.9 PCI configuration access: bar, offset, length writable; data accesses the BAR.
    const off = this.fn.addCapability(0x09, 20);
    this.pciCfgCap = off;
    this.fn.put(off + 2, 1, 20);
    this.fn.put(off + 3, 1, VIRTIO_PCI_CAP_PCI_CFG);
    this.fn.setWriteMask(off + 4, 1, 0xff);
    this.fn.setWriteMask(off + 8, 4, 0xffff_ffff);
    this.fn.setWriteMask(off + 12, 4, 0xffff_ffff);
    this.fn.setWriteMask(off + 16, 4, 0xffff_ffff);
  }

  private pciCfgAccess(o: number, w: Width, write: boolean, v: number): void {
    const data = this.pciCfgCap + 16;
    if (o < data || o >= data + 4) return;
    const bar = this.fn.config[this.pciCfgCap + 4]!;
    const at = this.fn.get(this.pciCfgCap + 8, 4);
    const len = this.fn.get(this.pciCfgCap + 12, 4);
    if (bar !== MODERN_BAR || (len !== 1 && len !== 2 && len !== 4) || at % len !== 0) return;
    const view = this.bar(MODERN_BAR);
    if (write) view.write(at, len as Width, v);
    else this.fn.put(data, len, view.read(at, len as Width));
  }

  // ---- legacy I/O BAR (§4.1.4.8) ----
  private get legacyConfig(): number {
    return this.msixEnabled ? LEGACY_CONFIG_MSIX : LEGACY_CONFIG;
  }

  /** The legacy block: the header's registers (LEGACY_REGISTERS), then the device config. */
  private legacyRead(off: number, w: Width): number {
    const t = this.t;
    t.stats.traps++;
    const cfg = this.legacyConfig;
    if (off >= cfg) return t.readConfig(off - cfg, w);
    const r = this.row(LEGACY_BY_OFFSET, off, w, false, "legacy");
    return r ? r.read!(this, t.selected()) : 0;
  }

  private legacyWrite(off: number, w: Width, v: number): void {
    const t = this.t;
    t.stats.traps++;
    const cfg = this.legacyConfig;
    if (off >= cfg) { t.writeConfig(off - cfg, w, v); return; }
    const r = this.row(LEGACY_BY_OFFSET, off, w, true, "legacy");
    if (!r) return;
    if (!r.write) { this.log(`${t.name}: write to read-only legacy register ${r.name}`); return; }
    r.write(this, v, t.selected());
  }

  // ---- modern memory BAR: one bus sub-region per structure (MODERN_LAYOUT) ----
  private structure(name: string, c: (typeof MODERN_LAYOUT)[number]): Region {
    const decode = this.structures[c.name];
    return {
      name: `${name}.${c.name}`, base: 0, size: c.length, widths: c.widths,
      ...(c.name === "common" ? { registers: COMMON_REGISTERS } : {}),
      // Logged at the offset in the BAR: the inspector names accesses by BAR and offset.
      read: (off, w) => { this.t.stats.traps++; const v = decode.read(off, w); this.t.accessed(MODERN_BAR, c.offset + off, w, false, v); return v; },
      write: (off, w, v) => { this.t.stats.traps++; this.t.accessed(MODERN_BAR, c.offset + off, w, true, v); decode.write(off, w, v); },
    };
  }

  private readonly structures: Record<ModernStructure, { read(off: number, w: Width): number; write(off: number, w: Width, v: number): void }> = {
    common: {
      read: (off, w) => { const r = this.row(COMMON_BY_OFFSET, off, w, false, "common"); return r ? r.read!(this, this.t.selected()) : 0; },
      write: (off, w, v) => {
        const r = this.row(COMMON_BY_OFFSET, off, w, true, "common");
        if (!r) return;
        if (!r.write) { this.log(`${this.t.name}: write to read-only ${r.name}`); return; }
        r.write(this, v, this.t.selected());
      },
    },
    // §4.1.4.5: the first byte is ISR status, and reading it clears it; the rest reads 0.
    isr: { read: (off) => (off === 0 ? this.t.readIsrAndClear() : 0), write: () => {} },
    device: { read: (off, w) => this.t.readConfig(off, w), write: (off, w, v) => this.t.writeConfig(off, w, v) },
    notify: {
      read: () => 0,
      // §4.1.4.4: queue_notify_off(q) × multiplier; our notify_off is the queue index.
      write: (off, w) => {
        if (off % NOTIFY_OFF_MULTIPLIER !== 0) { this.reject(off, w, true, "notify"); return; }
        this.t.kick(off / NOTIFY_OFF_MULTIPLIER);
      },
    },
  };

  /** A BAR's sub-regions as one window at BAR offsets, as the bus would dispatch them (the PCI_CFG window, tests). */
  bar(index: number): { read(off: number, w: Width): number; write(off: number, w: Width, v: number): void } {
    const subs = this.bars[index] ?? [];
    const find = (off: number, w: Width): SubRegion | undefined =>
      subs.find((s) => off >= s.offset && off + w <= s.offset + s.region.size && (s.region.widths & w) !== 0);
    return {
      read: (off, w) => { const s = find(off, w); return s ? s.region.read(off - s.offset, w) : this.reject(off, w, false, `BAR${index}`); },
      write: (off, w, v) => { const s = find(off, w); if (s) s.region.write(off - s.offset, w, v); else this.reject(off, w, true, `BAR${index}`); },
    };
  }

  /** The register at `off` of a table, if the access has its natural width; else rejected (logged, counted). */
  private row(table: readonly (PciRegister | undefined)[], off: number, w: Width, write: boolean, where: string): PciRegister | null {
    const r = table[off];
    if (!r || r.width !== w) { this.reject(off, w, write, where); return null; }
    return r;
  }

  private reject(off: number, w: Width, write: boolean, where: string): number {
    this.t.stats.rejected++;
    this.log(`${this.t.name}: ${write ? "write" : "read"} of ${w} bytes at ${where}+0x${off.toString(16)} (no register of that width); ignored`);
    return 0;
  }
}

function pow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}
