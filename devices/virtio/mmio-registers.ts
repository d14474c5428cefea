// The virtio-mmio register block (virtio 1.2 §4.2.2 table "MMIO Device Register Layout", §4.2.4
// for version 1), once: each row decodes its register (register-table.ts), names it for traces
// and the inspector, and says in which version it exists. All registers are 32 bits wide.
import type { Virtqueue } from "./queue.ts";
import { bySlot, registers, type Register, type RegisterSpec } from "./register-table.ts";
import type { VirtioMmio } from "./mmio.ts";

export const MMIO_MAGIC = 0x7472_6976; // "virt"
/** Vireo's vendor id: "VIRO" little-endian. */
export const MMIO_VENDOR_ID = 0x4f52_4956;
export const MMIO_WINDOW = 0x200;
export const MMIO_CONFIG = 0x100;

export type MmioVersion = 1 | 2;

export interface MmioRegister extends Register<VirtioMmio> {
  /** Only in this version; absent registers read 0 and ignore writes (logged). */
  readonly only?: MmioVersion;
}

type Row = Omit<RegisterSpec<VirtioMmio>, "width"> & { only?: MmioVersion };
type Q = Virtqueue | null;

const lo32 = (v: number): number => v % 0x1_0000_0000;
const hi32 = (v: number): number => Math.floor(v / 0x1_0000_0000);
/** A queue field the driver sets while the queue is disabled; the queue ignores it otherwise. */
const queueField = (set: (q: Virtqueue, v: number) => void, get: (q: Virtqueue) => number) => ({
  write: (_m: VirtioMmio, v: number, q: Q) => { if (q) set(q, v); },
  peek: (_m: VirtioMmio, q: Q) => (q ? get(q) : 0),
});

const ROWS: readonly Row[] = [
  { offset: 0x000, name: "MagicValue", ref: "§4.2.2", read: () => MMIO_MAGIC },
  { offset: 0x004, name: "Version", ref: "§4.2.2", read: (m) => m.version },
  { offset: 0x008, name: "DeviceID", ref: "§4.2.2", read: (m) => m.device.deviceId },
  { offset: 0x00c, name: "VendorID", ref: "§4.2.2", read: () => MMIO_VENDOR_ID },
  { offset: 0x010, name: "DeviceFeatures", ref: "§4.2.2", read: (m) => m.t.offeredWord(m.devFeatSel) },
  { offset: 0x014, name: "DeviceFeaturesSel", ref: "§4.2.2", write: (m, v) => { m.devFeatSel = v; }, peek: (m) => m.devFeatSel },
  { offset: 0x020, name: "DriverFeatures", ref: "§4.2.2", write: (m, v) => m.t.setDriverWord(m.drvFeatSel, v), peek: (m) => m.t.driverWord(m.drvFeatSel) },
  { offset: 0x024, name: "DriverFeaturesSel", ref: "§4.2.2", write: (m, v) => { m.drvFeatSel = v; }, peek: (m) => m.drvFeatSel },
  { offset: 0x028, name: "GuestPageSize", ref: "§4.2.4 legacy", only: 1, write: (m, v) => { m.pageSize = v; }, peek: (m) => m.pageSize },
  { offset: 0x030, name: "QueueSel", ref: "§4.2.2", write: (m, v) => { m.t.queueSel = v; }, peek: (m) => m.t.queueSel },
  { offset: 0x034, name: "QueueNumMax", ref: "§4.2.2", read: (_m, q) => (q ? q.maxSize : 0) },
  { offset: 0x038, name: "QueueNum", ref: "§4.2.2", ...queueField((q, v) => q.setSize(v), (q) => q.size) },
  { offset: 0x03c, name: "QueueAlign", ref: "§4.2.4 legacy", only: 1, write: (m, v, q) => { if (q) m.align[q.index] = v; }, peek: (m, q) => (q ? m.align[q.index]! : 0) },
  { offset: 0x040, name: "QueuePFN", ref: "§4.2.4 legacy", only: 1, read: (m, q) => (q ? m.pfn[q.index]! : 0), write: (m, v, q) => { if (q) m.setPfn(q, v); } },
  { offset: 0x044, name: "QueueReady", ref: "§4.2.2", only: 2, read: (_m, q) => (q && q.enabled ? 1 : 0), write: (m, v, q) => { if (q) m.setReady(q, v); } },
  { offset: 0x050, name: "QueueNotify", ref: "§4.2.2", write: (m, v) => m.t.kick(v & 0xffff) },
  { offset: 0x060, name: "InterruptStatus", ref: "§4.2.2", read: (m) => m.t.isr },
  { offset: 0x064, name: "InterruptACK", ref: "§4.2.2", write: (m, v) => { if (!m.msi?.enabled) m.t.ack(v); } }, // ignored while MSI is enabled
  { offset: 0x070, name: "Status", ref: "§4.2.2", read: (m) => m.t.status, write: (m, v) => m.t.writeStatus(v) },
  { offset: 0x080, name: "QueueDescLow", ref: "§4.2.2", only: 2, ...queueField((q, v) => q.setDescLo(v), (q) => lo32(q.desc)) },
  { offset: 0x084, name: "QueueDescHigh", ref: "§4.2.2", only: 2, ...queueField((q, v) => q.setDescHi(v), (q) => hi32(q.desc)) },
  { offset: 0x090, name: "QueueDriverLow", ref: "§4.2.2", only: 2, ...queueField((q, v) => q.setDriverLo(v), (q) => lo32(q.driver)) },
  { offset: 0x094, name: "QueueDriverHigh", ref: "§4.2.2", only: 2, ...queueField((q, v) => q.setDriverHi(v), (q) => hi32(q.driver)) },
  { offset: 0x0a0, name: "QueueDeviceLow", ref: "§4.2.2", only: 2, ...queueField((q, v) => q.setDeviceLo(v), (q) => lo32(q.device)) },
  { offset: 0x0a4, name: "QueueDeviceHigh", ref: "§4.2.2", only: 2, ...queueField((q, v) => q.setDeviceHi(v), (q) => hi32(q.device)) },
  { offset: 0x0ac, name: "SHMSel", ref: "§4.2.2", only: 2, write: () => {} }, // no regions to select
  { offset: 0x0b0, name: "SHMLenLow", ref: "§4.2.2 (no regions: ~0)", only: 2, read: () => 0xffff_ffff },
  { offset: 0x0b4, name: "SHMLenHigh", ref: "§4.2.2 (no regions: ~0)", only: 2, read: () => 0xffff_ffff },
  { offset: 0x0b8, name: "SHMBaseLow", ref: "§4.2.2 (no regions: ~0)", only: 2, read: () => 0xffff_ffff },
  { offset: 0x0bc, name: "SHMBaseHigh", ref: "§4.2.2 (no regions: ~0)", only: 2, read: () => 0xffff_ffff },
  { offset: 0x0c0, name: "QueueReset", ref: "§4.2.2", only: 2, read: () => 0, write: (_m, v, q) => { if (q && v === 1) q.reset(); }, peek: () => null },
  { offset: 0x0fc, name: "ConfigGeneration", ref: "§4.2.2", only: 2, read: (m) => m.t.configGeneration },
];

/** The register map, once: decoding, trace names and the inspector's labels come from it. */
export const MMIO_REGISTERS: readonly MmioRegister[] = registers(ROWS.map((r) => ({ ...r, width: 4 as const })));

/** Register by offset (0x000–0x0ff), built once. */
export const MMIO_BY_OFFSET = bySlot(MMIO_REGISTERS, MMIO_CONFIG) as readonly (MmioRegister | undefined)[];
