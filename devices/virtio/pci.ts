// virtio-pci (virtio 1.2 §4.1): legacy (§4.1.4.8: one I/O BAR with the 2007 register block),
// modern (§4.1.4: vendor-specific capabilities COMMON / NOTIFY / ISR / DEVICE / PCI_CFG pointing
// into a 64-bit prefetchable memory BAR 4), and transitional (both: legacy ids, revision 0,
// I/O BAR 0 and the capabilities; Linux's virtio_pci tries the modern interface first).
// INTx: the line follows ISR ≠ 0 and an ISR read clears it (§4.1.4.5). With `msix`, an MSI-X
// capability (pci-msix.ts) with one vector per queue plus one for configuration changes, table
// and PBA in memory BAR 1; the driver maps notifications to vectors through config_msix_vector /
// queue_msix_vector (§4.1.4.3) or the legacy registers at 20/22 (§4.1.4.8), which exist — and
// move the legacy device config from 20 to 24 — only while MSI-X is enabled (§4.1.5.1.2).
import { W_ANY, type RegisterInfo, type Region, type Width } from "../bus/region.ts";
import { PciFunction, type BarSpec } from "../pci-host.ts";
import { MsixCapability } from "../pci-msix.ts";
import type { TransportKind, VirtioDevice, VirtioDeviceInfo, VirtioRegionInfo } from "./device.ts";
import type { GuestMemory } from "./guest-memory.ts";
import { legacyLayout } from "./queue.ts";
import { VirtioTransport } from "./transport.ts";
import { transportDef } from "./transports.ts";
import { PCI_CONFIG_SLOT } from "./transport.ts";

export const VIRTIO_PCI_VENDOR = 0x1af4;
/** §4.1.2: transitional ids are 0x1000 + (id − 1) for the original device types. */
const TRANSITIONAL_ID: Record<number, number> = { 1: 0x1000, 2: 0x1001, 3: 0x1003, 4: 0x1005, 5: 0x1002, 8: 0x1004, 9: 0x1009 };

// ---- legacy register block (§4.1.4.8) --------------------------------------------------------
export const LEGACY_REGISTERS: readonly (RegisterInfo & { width: Width })[] = [
  { offset: 0, width: 4, name: "HostFeatures", access: "r", ref: "§4.1.4.8" },
  { offset: 4, width: 4, name: "GuestFeatures", access: "rw", ref: "§4.1.4.8" },
  { offset: 8, width: 4, name: "QueueAddress", access: "rw", ref: "§4.1.4.8 (PFN, 4096-byte pages)" },
  { offset: 12, width: 2, name: "QueueSize", access: "r", ref: "§4.1.4.8" },
  { offset: 14, width: 2, name: "QueueSelect", access: "rw", ref: "§4.1.4.8" },
  { offset: 16, width: 2, name: "QueueNotify", access: "rw", ref: "§4.1.4.8" },
  { offset: 18, width: 1, name: "DeviceStatus", access: "rw", ref: "§4.1.4.8" },
  { offset: 19, width: 1, name: "ISRStatus", access: "r", ref: "§4.1.4.8 (read clears)" },
  { offset: 20, width: 2, name: "ConfigMsixVector", access: "rw", ref: "§4.1.4.8 (MSI-X only)" },
  { offset: 22, width: 2, name: "QueueMsixVector", access: "rw", ref: "§4.1.4.8 (MSI-X only)" },
];
export const LEGACY_CONFIG = 20, LEGACY_CONFIG_MSIX = 24;

// ---- modern common configuration (§4.1.4.3 struct virtio_pci_common_cfg) ---------------------
export const COMMON_REGISTERS: readonly (RegisterInfo & { width: Width })[] = [
  { offset: 0, width: 4, name: "device_feature_select", access: "rw", ref: "§4.1.4.3" },
  { offset: 4, width: 4, name: "device_feature", access: "r", ref: "§4.1.4.3" },
  { offset: 8, width: 4, name: "driver_feature_select", access: "rw", ref: "§4.1.4.3" },
  { offset: 12, width: 4, name: "driver_feature", access: "rw", ref: "§4.1.4.3" },
  { offset: 16, width: 2, name: "config_msix_vector", access: "rw", ref: "§4.1.4.3" },
  { offset: 18, width: 2, name: "num_queues", access: "r", ref: "§4.1.4.3" },
  { offset: 20, width: 1, name: "device_status", access: "rw", ref: "§4.1.4.3" },
  { offset: 21, width: 1, name: "config_generation", access: "r", ref: "§4.1.4.3" },
  { offset: 22, width: 2, name: "queue_select", access: "rw", ref: "§4.1.4.3" },
  { offset: 24, width: 2, name: "queue_size", access: "rw", ref: "§4.1.4.3" },
  { offset: 26, width: 2, name: "queue_msix_vector", access: "rw", ref: "§4.1.4.3" },
  { offset: 28, width: 2, name: "queue_enable", access: "rw", ref: "§4.1.4.3" },
  { offset: 30, width: 2, name: "queue_notify_off", access: "r", ref: "§4.1.4.3" },
  { offset: 32, width: 4, name: "queue_desc_lo", access: "rw", ref: "§4.1.4.3" },
  { offset: 36, width: 4, name: "queue_desc_hi", access: "rw", ref: "§4.1.4.3" },
  { offset: 40, width: 4, name: "queue_driver_lo", access: "rw", ref: "§4.1.4.3" },
  { offset: 44, width: 4, name: "queue_driver_hi", access: "rw", ref: "§4.1.4.3" },
  { offset: 48, width: 4, name: "queue_device_lo", access: "rw", ref: "§4.1.4.3" },
  { offset: 52, width: 4, name: "queue_device_hi", access: "rw", ref: "§4.1.4.3" },
  { offset: 56, width: 2, name: "queue_notify_data", access: "r", ref: "§4.1.4.3" },
  { offset: 58, width: 2, name: "queue_reset", access: "rw", ref: "§4.1.4.3" },
];

/** §4.1.4 cfg_type values. */
export const VIRTIO_PCI_CAP_COMMON_CFG = 1, VIRTIO_PCI_CAP_NOTIFY_CFG = 2, VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4, VIRTIO_PCI_CAP_PCI_CFG = 5;

/** Layout of the modern memory BAR: one table, from which the capabilities are derived. */
export const MODERN_BAR = 4;
export const NOTIFY_OFF_MULTIPLIER = 4;
export const MODERN_LAYOUT = [
  { type: VIRTIO_PCI_CAP_COMMON_CFG, name: "common", offset: 0x0000, length: 0x40, ref: "§4.1.4.3" },
  { type: VIRTIO_PCI_CAP_ISR_CFG, name: "isr", offset: 0x1000, length: 0x4, ref: "§4.1.4.5" },
  { type: VIRTIO_PCI_CAP_DEVICE_CFG, name: "device", offset: 0x2000, length: 0x1000, ref: "§4.1.4.6" },
  { type: VIRTIO_PCI_CAP_NOTIFY_CFG, name: "notify", offset: 0x3000, length: 0x1000, ref: "§4.1.4.4" },
] as const;
const MODERN_BAR_SIZE = 0x4000;
const at = (type: number): number => MODERN_LAYOUT.find((c) => c.type === type)!.offset;
const COMMON_AT = at(VIRTIO_PCI_CAP_COMMON_CFG), ISR_AT = at(VIRTIO_PCI_CAP_ISR_CFG);
const DEVICE_AT = at(VIRTIO_PCI_CAP_DEVICE_CFG), NOTIFY_AT = at(VIRTIO_PCI_CAP_NOTIFY_CFG);
/** Each structure owns one 4 KiB page of the BAR, in this order (checked at load). */
if (COMMON_AT !== 0 || ISR_AT !== 0x1000 || DEVICE_AT !== 0x2000 || NOTIFY_AT !== 0x3000) throw new Error("virtio-pci: MODERN_LAYOUT out of order");

/** Offset → register, for O(1) decode without allocation. */
function bySlot(regs: readonly (RegisterInfo & { width: Width })[], size: number): (RegisterInfo & { width: Width })[] {
  const t = new Array(size);
  for (const r of regs) t[r.offset] = r;
  return t;
}
const LEGACY_BY_OFF = bySlot(LEGACY_REGISTERS, 24);
const COMMON_BY_OFF = bySlot(COMMON_REGISTERS, 64);

/** §4.1.4.3, §4.1.4.8: "no vector" in config_msix_vector / queue_msix_vector. */
export const VIRTIO_MSI_NO_VECTOR = 0xffff;
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

export class VirtioPci {
  readonly t: VirtioTransport;
  readonly fn: PciFunction;
  /** Region per BAR index, for attachBars. */
  readonly regions: (Region | undefined)[] = [];
  /** The MSI-X capability, when the device offers it. */
  readonly msix: MsixCapability | null = null;
  /** config_msix_vector and queue_msix_vector per queue (NO_VECTOR until the driver maps one). */
  configVector = VIRTIO_MSI_NO_VECTOR;
  readonly queueVectors: number[];
  /** Feature selectors (public for the inspector's register table). */
  devFeatSel = 0;
  drvFeatSel = 0;
  private pciCfgCap = 0;
  private readonly log: (message: string) => void;

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
      this.regions[MSIX_BAR] = msix.region;
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
      this.regions[0] = {
        name: `${o.name}.legacy`, base: 0, size, widths: W_ANY, registers: LEGACY_REGISTERS,
        // Through the transport's access log: the inspector's "last accesses" are these traps.
        read: (off, w) => { const v = this.legacyRead(off, w); this.t.accessed(0, off, w, false, v); return v; },
        write: (off, w, v) => { this.t.accessed(0, off, w, true, v); this.legacyWrite(off, w, v); },
      };
    }
    if (modern) {
      this.regions[MODERN_BAR] = {
        name: `${o.name}.modern`, base: 0, size: MODERN_BAR_SIZE, widths: W_ANY,
        read: (off, w) => { const v = this.modernRead(off, w); this.t.accessed(MODERN_BAR, off, w, false, v); return v; },
        write: (off, w, v) => { this.t.accessed(MODERN_BAR, off, w, true, v); this.modernWrite(off, w, v); },
      };
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
  private mapVector(v: number): number {
    if (!this.msix || v >= this.msix.vectors) {
      if (v !== VIRTIO_MSI_NO_VECTOR) this.log(`${this.t.name}: MSI-X vector ${v} not available; NO_VECTOR`);
      return VIRTIO_MSI_NO_VECTOR;
    }
    return v;
  }

  info(): VirtioDeviceInfo {
    const regions: VirtioRegionInfo[] = [{ index: 0, name: "config", kind: "config", base: null, size: 256, flags: { read: true, write: true } }];
    this.regions.forEach((r, i) => {
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
    if (write) this.modernWrite(at, len as Width, v);
    else this.fn.put(data, len, this.modernRead(at, len as Width));
  }

  // ---- legacy I/O BAR (§4.1.4.8) ----
  private get legacyConfig(): number {
    return this.msixEnabled ? LEGACY_CONFIG_MSIX : LEGACY_CONFIG;
  }

  private legacyRead(off: number, w: Width): number {
    const t = this.t;
    t.stats.traps++;
    const cfg = this.legacyConfig;
    if (off >= cfg) return this.configRead(off - cfg, w);
    const r = LEGACY_BY_OFF[off];
    if (!r || r.width !== w) return this.reject(off, w, false, "legacy");
    const q = t.selected();
    switch (off) {
      case 0: return t.offeredWord(0);
      case 4: return t.driverWord(0);
      case 8: return q && q.enabled ? Math.floor(q.desc / 4096) : 0;
      case 12: return q ? q.maxSize : 0;
      case 14: return t.queueSel;
      case 16: return 0;
      case 18: return t.status;
      case 19: return t.readIsrAndClear();
      case 20: return this.configVector; // only reachable with MSI-X enabled (else device config)
      case 22: return q ? this.queueVectors[t.queueSel]! : VIRTIO_MSI_NO_VECTOR;
      default: return VIRTIO_MSI_NO_VECTOR;
    }
  }

  private legacyWrite(off: number, w: Width, v: number): void {
    const t = this.t;
    t.stats.traps++;
    const cfg = this.legacyConfig;
    if (off >= cfg) { this.configWrite(off - cfg, w, v); return; }
    const r = LEGACY_BY_OFF[off];
    if (!r || r.width !== w) { this.reject(off, w, true, "legacy"); return; }
    const q = t.selected();
    switch (off) {
      case 4: t.setDriverWord(0, v); return;
      case 8: {
        if (!q) return;
        if (v === 0) { q.reset(); return; }
        const l = legacyLayout((v >>> 0) * 4096, q.maxSize, 4096);
        q.size = q.maxSize; // legacy: the size is the device's, fixed
        q.desc = l.desc; q.driver = l.driver; q.device = l.device;
        q.enabled = true;
        if (t.driverOk) q.start(t.features);
        return;
      }
      case 14: t.queueSel = v; return;
      case 16: t.kick(v); return;
      case 18: t.writeStatus(v); return;
      case 20: this.configVector = this.mapVector(v); return;
      case 22: if (q) this.queueVectors[t.queueSel] = this.mapVector(v); return;
      default: this.log(`${t.name}: write to read-only legacy register ${r.name}`);
    }
  }

  // ---- modern memory BAR ----
  private modernRead(off: number, w: Width): number {
    const t = this.t;
    t.stats.traps++;
    if (off < ISR_AT) return this.commonRead(off - COMMON_AT, w);
    if (off < DEVICE_AT) return off === ISR_AT ? t.readIsrAndClear() : 0;
    if (off < NOTIFY_AT) return this.configRead(off - DEVICE_AT, w);
    return 0; // notify region reads as 0
  }

  private modernWrite(off: number, w: Width, v: number): void {
    const t = this.t;
    t.stats.traps++;
    if (off < ISR_AT) { this.commonWrite(off - COMMON_AT, w, v); return; }
    if (off < DEVICE_AT) return; // ISR is read-only
    if (off < NOTIFY_AT) { this.configWrite(off - DEVICE_AT, w, v); return; }
    // §4.1.4.4: queue_notify_off(q) × multiplier; our notify_off is the queue index.
    const rel = off - NOTIFY_AT;
    if (rel % NOTIFY_OFF_MULTIPLIER !== 0) { this.reject(off, w, true, "notify"); return; }
    t.kick(rel / NOTIFY_OFF_MULTIPLIER);
  }

  private commonRead(off: number, w: Width): number {
    const t = this.t;
    const r = COMMON_BY_OFF[off];
    if (!r || r.width !== w) return this.reject(off, w, false, "common");
    const q = t.selected();
    switch (off) {
      case 0: return this.devFeatSel;
      case 4: return t.offeredWord(this.devFeatSel);
      case 8: return this.drvFeatSel;
      case 12: return t.driverWord(this.drvFeatSel);
      case 16: return this.configVector;
      case 18: return t.queues.length;
      case 20: return t.status;
      case 21: return t.configGeneration;
      case 22: return t.queueSel;
      case 24: return q ? q.size : 0;
      case 26: return q ? this.queueVectors[t.queueSel]! : VIRTIO_MSI_NO_VECTOR;
      case 28: return q && q.enabled ? 1 : 0;
      case 30: return q ? q.index : 0;
      case 32: return q ? q.desc % 0x1_0000_0000 : 0;
      case 36: return q ? Math.floor(q.desc / 0x1_0000_0000) : 0;
      case 40: return q ? q.driver % 0x1_0000_0000 : 0;
      case 44: return q ? Math.floor(q.driver / 0x1_0000_0000) : 0;
      case 48: return q ? q.device % 0x1_0000_0000 : 0;
      case 52: return q ? Math.floor(q.device / 0x1_0000_0000) : 0;
      case 56: return q ? q.index : 0;
      default: return 0; // queue_reset reads 0 once a reset completed
    }
  }

  private commonWrite(off: number, w: Width, v: number): void {
    const t = this.t;
    const r = COMMON_BY_OFF[off];
    if (!r || r.width !== w) { this.reject(off, w, true, "common"); return; }
    const q = t.selected();
    const idle = q !== null && !q.enabled; // queue fields are writable only while disabled
    switch (off) {
      case 0: this.devFeatSel = v; return;
      case 8: this.drvFeatSel = v; return;
      case 12: t.setDriverWord(this.drvFeatSel, v); return;
      case 16: this.configVector = this.mapVector(v); return;
      case 26: if (q) this.queueVectors[t.queueSel] = this.mapVector(v); return;
      case 20: t.writeStatus(v); return;
      case 22: t.queueSel = v; return;
      case 24: if (idle) q.size = v; return;
      case 28:
        if (q && v === 1 && !q.enabled) { q.enabled = true; if (t.driverOk) q.start(t.features); }
        return;
      case 32: if (idle) q.setDescLo(v); return;
      case 36: if (idle) q.setDescHi(v); return;
      case 40: if (idle) q.setDriverLo(v); return;
      case 44: if (idle) q.setDriverHi(v); return;
      case 48: if (idle) q.setDeviceLo(v); return;
      case 52: if (idle) q.setDeviceHi(v); return;
      case 58: if (q && v === 1) q.reset(); return;
      default: this.log(`${t.name}: write to read-only ${r.name}`);
    }
  }

  // ---- device config ----
  private configRead(off: number, w: Width): number {
    if (off + w > this.device.configSize) return 0;
    return this.device.readConfig(off, w);
  }

  private configWrite(off: number, w: Width, v: number): void {
    if (off + w > this.device.configSize) { this.log(`${this.t.name}: config write past the end (+${off})`); return; }
    this.device.writeConfig(off, w, v);
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
