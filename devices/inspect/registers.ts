// The transport's register table with current values and the last guest accesses to each
// register. The names, offsets and widths come from the transports' own tables (pci.ts
// LEGACY_REGISTERS / COMMON_REGISTERS / MODERN_LAYOUT, mmio.ts MMIO_REGISTERS), and
// values are read from the model's state without side effects (reading ISR through the
// register would clear it, §4.1.4.5).
import type { ConfigField } from "../virtio/config-space.ts";
import type { RegisterInfo } from "../bus/region.ts";
import { COMMON_REGISTERS, LEGACY_CONFIG, LEGACY_REGISTERS, MODERN_BAR, MODERN_LAYOUT, NOTIFY_OFF_MULTIPLIER, type VirtioPci } from "../virtio/pci.ts";
import { MMIO_CONFIG, MMIO_MAGIC, MMIO_REGISTERS, MMIO_VENDOR_ID, type VirtioMmio } from "../virtio/mmio.ts";
import type { VirtioTransport } from "../virtio/transport.ts";
import type { AccessEntry } from "./access-log.ts";

export interface RegisterRow {
  /** Which structure: "legacy" (I/O BAR 0), "common" / "isr" / "notify" (modern BAR), "mmio". */
  block: string;
  /** Access-log region slot (PCI BAR index or MMIO window part) and offset within it. */
  region: number;
  offset: number;
  name: string;
  width: number;
  access: string;
  ref: string;
  /** Current value, or null for a register that holds nothing (a write-only trigger). */
  value: number | null;
  /** The guest's last accesses to it, newest last (at most 4). */
  last: AccessEntry[];
}

export interface AccessRow extends AccessEntry {
  /** "common.queue_select", "legacy.QueueNotify", "mmio.QueuePFN", "device config +0x14" … */
  name: string;
}

const lo32 = (v: number): number => v % 0x1_0000_0000;
const hi32 = (v: number): number => Math.floor(v / 0x1_0000_0000);

/** The register table of a virtio-pci function: legacy block, modern common/ISR/notify. */
export function pciRegisters(p: VirtioPci): RegisterRow[] {
  const t = p.t, q = t.selected();
  const rows: RegisterRow[] = [];
  if (p.regions[0]) {
    const value = (name: string): number | null => {
      switch (name) {
        case "HostFeatures": return t.offeredWord(0);
        case "GuestFeatures": return t.driverWord(0);
        case "QueueAddress": return q && q.enabled ? Math.floor(q.desc / 4096) : 0;
        case "QueueSize": return q ? q.maxSize : 0;
        case "QueueSelect": return t.queueSel;
        case "QueueNotify": return null;
        case "DeviceStatus": return t.status;
        case "ISRStatus": return t.isr;
        default: return 0xffff; // MSI-X vectors: VIRTIO_MSI_NO_VECTOR
      }
    };
    for (const r of LEGACY_REGISTERS) rows.push(row("legacy", 0, r.offset, r, r.width, value(r.name)));
  }
  if (p.regions[MODERN_BAR]) {
    const common = MODERN_LAYOUT.find((c) => c.name === "common")!.offset;
    const value = (name: string): number | null => {
      switch (name) {
        case "device_feature_select": return p.devFeatSel;
        case "device_feature": return t.offeredWord(p.devFeatSel);
        case "driver_feature_select": return p.drvFeatSel;
        case "driver_feature": return t.driverWord(p.drvFeatSel);
        case "config_msix_vector": case "queue_msix_vector": return 0xffff;
        case "num_queues": return t.queues.length;
        case "device_status": return t.status;
        case "config_generation": return t.configGeneration;
        case "queue_select": return t.queueSel;
        case "queue_size": return q ? q.size : 0;
        case "queue_enable": return q && q.enabled ? 1 : 0;
        case "queue_notify_off": case "queue_notify_data": return q ? q.index : 0;
        case "queue_desc_lo": return q ? lo32(q.desc) : 0;
        case "queue_desc_hi": return q ? hi32(q.desc) : 0;
        case "queue_driver_lo": return q ? lo32(q.driver) : 0;
        case "queue_driver_hi": return q ? hi32(q.driver) : 0;
        case "queue_device_lo": return q ? lo32(q.device) : 0;
        case "queue_device_hi": return q ? hi32(q.device) : 0;
        default: return 0;
      }
    };
    for (const r of COMMON_REGISTERS) rows.push(row("common", MODERN_BAR, common + r.offset, r, r.width, value(r.name)));
    const isr = MODERN_LAYOUT.find((c) => c.name === "isr")!.offset;
    rows.push(row("isr", MODERN_BAR, isr, { offset: 0, name: "isr", access: "r", ref: "§4.1.4.5 (read clears)" }, 1, t.isr));
    const notify = MODERN_LAYOUT.find((c) => c.name === "notify")!.offset;
    t.queues.forEach((vq, i) => rows.push(row("notify", MODERN_BAR, notify + NOTIFY_OFF_MULTIPLIER * i, { offset: 0, name: `queue ${vq.index} notify`, access: "w", ref: "§4.1.4.4" }, 2, null)));
  }
  return rows;
}

/** The virtio-mmio register block of this version (registers of the other version left out). */
export function mmioRegisters(m: VirtioMmio): RegisterRow[] {
  const t = m.t, q = t.selected();
  const value = (name: string): number | null => {
    switch (name) {
      case "MagicValue": return MMIO_MAGIC;
      case "Version": return m.version;
      case "DeviceID": return m.device.deviceId;
      case "VendorID": return MMIO_VENDOR_ID;
      case "DeviceFeatures": return t.offeredWord(m.devFeatSel);
      case "DeviceFeaturesSel": return m.devFeatSel;
      case "DriverFeatures": return t.driverWord(m.drvFeatSel);
      case "DriverFeaturesSel": return m.drvFeatSel;
      case "GuestPageSize": return m.pageSize;
      case "QueueSel": return t.queueSel;
      case "QueueNumMax": return q ? q.maxSize : 0;
      case "QueueNum": return q ? q.size : 0;
      case "QueueAlign": return q ? m.align[q.index]! : 0;
      case "QueuePFN": return q ? m.pfn[q.index]! : 0;
      case "QueueReady": return q && q.enabled ? 1 : 0;
      case "InterruptStatus": return t.isr;
      case "Status": return t.status;
      case "QueueDescLow": return q ? lo32(q.desc) : 0;
      case "QueueDescHigh": return q ? hi32(q.desc) : 0;
      case "QueueDriverLow": return q ? lo32(q.driver) : 0;
      case "QueueDriverHigh": return q ? hi32(q.driver) : 0;
      case "QueueDeviceLow": return q ? lo32(q.device) : 0;
      case "QueueDeviceHigh": return q ? hi32(q.device) : 0;
      case "ConfigGeneration": return t.configGeneration;
      case "SHMLenLow": case "SHMLenHigh": case "SHMBaseLow": case "SHMBaseHigh": return 0xffff_ffff;
      default: return null; // QueueNotify, InterruptACK, SHMSel, QueueReset: triggers
    }
  };
  return MMIO_REGISTERS.filter((r) => !r.only || r.only === m.version).map((r) => row("mmio", 0, r.offset, r, 4, value(r.name)));
}

function row(block: string, region: number, offset: number, r: RegisterInfo, width: number, value: number | null): RegisterRow {
  return { block, region, offset, name: r.name, width, access: r.access ?? "rw", ref: r.ref ?? "", value, last: [] };
}

/** Attach each logged access to its register (newest last, 4 each) and name every access. */
export function attachAccesses(
  rows: RegisterRow[], entries: readonly AccessEntry[], t: VirtioTransport, configAt: (region: number) => number | null,
  other: (region: number, offset: number) => string | null = () => null,
  configFields: readonly ConfigField[] = [],
): AccessRow[] {
  const byKey = new Map<string, RegisterRow>();
  for (const r of rows) byKey.set(`${r.region}:${r.offset}`, r);
  const out: AccessRow[] = [];
  for (const e of entries) {
    const r = byKey.get(`${e.region}:${e.offset}`);
    let name: string;
    if (r) {
      name = `${r.block}.${r.name}`;
      r.last.push(e);
      if (r.last.length > 4) r.last.shift();
    } else if (other(e.region, e.offset) !== null) {
      name = other(e.region, e.offset)!;
    } else {
      const cfg = configAt(e.region);
      name = cfg !== null && e.offset >= cfg ? configName(configFields, e.offset - cfg) : `${t.name} region ${e.region} +0x${e.offset.toString(16)}`;
    }
    out.push({ ...e, name });
  }
  return out;
}

/** "device config +0x14", with the field there when the device type's layout names one ("+0x14 blk_size"). */
function configName(fields: readonly ConfigField[], offset: number): string {
  const f = fields.find((x) => offset >= x.offset && offset < x.offset + x.width);
  const at = `device config +0x${offset.toString(16)}`;
  return f ? `${at} ${f.name}${offset !== f.offset ? `+${offset - f.offset}` : ""}` : at;
}

/** Where the device-specific config starts in an access-log region (null: none there). */
export function pciConfigStart(p: VirtioPci): (region: number) => number | null {
  const device = MODERN_LAYOUT.find((c) => c.name === "device")!;
  return (region) => region === 0 ? (p.msixEnabled ? LEGACY_CONFIG + 4 : LEGACY_CONFIG) : region === MODERN_BAR ? device.offset : null;
}

export function mmioConfigStart(): (region: number) => number | null {
  return () => MMIO_CONFIG;
}
