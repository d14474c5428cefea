// The virtio-pci register blocks, once (register-table.ts): the legacy header of I/O BAR 0
// (virtio 1.2 §4.1.4.8) and the modern common configuration structure (§4.1.4.3 struct
// virtio_pci_common_cfg). Each row decodes its register, names it for traces and the inspector,
// and gives its natural width, the only one a driver may use (§4.1.3.1).
import type { Virtqueue } from "./queue.ts";
import { bySlot, registers, type Register, type RegisterSpec } from "./register-table.ts";
import type { VirtioPci } from "./pci.ts";

/** §4.1.4.3, §4.1.4.8: "no vector" in config_msix_vector / queue_msix_vector. */
export const VIRTIO_MSI_NO_VECTOR = 0xffff;
/** Where the legacy device config starts: after the header, or after the MSI-X vectors while MSI-X is enabled (§4.1.5.1.2). */
export const LEGACY_CONFIG = 20, LEGACY_CONFIG_MSIX = 24;

type Q = Virtqueue | null;
type Row = RegisterSpec<VirtioPci>;
export type PciRegister = Register<VirtioPci>;

const lo32 = (v: number): number => v % 0x1_0000_0000;
const hi32 = (v: number): number => Math.floor(v / 0x1_0000_0000);

/** The MSI-X vector of the selected queue (§4.1.4.3 queue_msix_vector, §4.1.4.8 at 22). */
const queueVector: Pick<Row, "read" | "write"> = {
  read: (p, q) => (q ? p.queueVectors[q.index]! : VIRTIO_MSI_NO_VECTOR),
  write: (p, v, q) => { if (q) p.queueVectors[q.index] = p.vectorFor(v); },
};
const configVector: Pick<Row, "read" | "write"> = {
  read: (p) => p.configVector,
  write: (p, v) => { p.configVector = p.vectorFor(v); },
};

// ---- legacy header (§4.1.4.8) ----
export const LEGACY_REGISTERS: readonly PciRegister[] = registers<VirtioPci>([
  { offset: 0, width: 4, name: "HostFeatures", ref: "§4.1.4.8", read: (p) => p.t.offeredWord(0) },
  { offset: 4, width: 4, name: "GuestFeatures", ref: "§4.1.4.8", read: (p) => p.t.driverWord(0), write: (p, v) => p.t.setDriverWord(0, v) },
  {
    offset: 8, width: 4, name: "QueueAddress", ref: "§4.1.4.8 (PFN, 4096-byte pages)",
    read: (_p, q) => (q && q.enabled ? Math.floor(q.desc / 4096) : 0),
    // The size is the device's, fixed; 0 stops the queue.
    write: (p, v, q) => { if (!q) return; if (v === 0) q.reset(); else p.t.placeLegacyQueue(q, (v >>> 0) * 4096, q.maxSize, 4096); },
  },
  { offset: 12, width: 2, name: "QueueSize", ref: "§4.1.4.8", read: (_p, q) => (q ? q.maxSize : 0) },
  { offset: 14, width: 2, name: "QueueSelect", ref: "§4.1.4.8", read: (p) => p.t.queueSel, write: (p, v) => { p.t.queueSel = v; } },
  { offset: 16, width: 2, name: "QueueNotify", ref: "§4.1.4.8", read: () => 0, write: (p, v) => p.t.kick(v), peek: () => null },
  { offset: 18, width: 1, name: "DeviceStatus", ref: "§4.1.4.8", read: (p) => p.t.status, write: (p, v) => p.t.writeStatus(v) },
  { offset: 19, width: 1, name: "ISRStatus", ref: "§4.1.4.8 (read clears)", read: (p) => p.t.readIsrAndClear(), peek: (p) => p.t.isr },
  // Only while MSI-X is enabled; otherwise the device config starts at 20 and covers these.
  { offset: 20, width: 2, name: "ConfigMsixVector", ref: "§4.1.4.8 (MSI-X only)", ...configVector },
  { offset: 22, width: 2, name: "QueueMsixVector", ref: "§4.1.4.8 (MSI-X only)", ...queueVector },
]);
export const LEGACY_BY_OFFSET = bySlot(LEGACY_REGISTERS, LEGACY_CONFIG_MSIX);

/** A queue field the driver sets while the queue is disabled (§4.1.4.3.2); the queue ignores it otherwise. */
const queueField = (get: (q: Virtqueue) => number, set: (q: Virtqueue, v: number) => void): Pick<Row, "read" | "write"> => ({
  read: (_p, q: Q) => (q ? get(q) : 0),
  write: (_p, v, q: Q) => { if (q) set(q, v); },
});

// ---- modern common configuration (§4.1.4.3) ----
export const COMMON_REGISTERS: readonly PciRegister[] = registers<VirtioPci>([
  { offset: 0, width: 4, name: "device_feature_select", ref: "§4.1.4.3", read: (p) => p.devFeatSel, write: (p, v) => { p.devFeatSel = v; } },
  { offset: 4, width: 4, name: "device_feature", ref: "§4.1.4.3", read: (p) => p.t.offeredWord(p.devFeatSel) },
  { offset: 8, width: 4, name: "driver_feature_select", ref: "§4.1.4.3", read: (p) => p.drvFeatSel, write: (p, v) => { p.drvFeatSel = v; } },
  { offset: 12, width: 4, name: "driver_feature", ref: "§4.1.4.3", read: (p) => p.t.driverWord(p.drvFeatSel), write: (p, v) => p.t.setDriverWord(p.drvFeatSel, v) },
  { offset: 16, width: 2, name: "config_msix_vector", ref: "§4.1.4.3", ...configVector },
  { offset: 18, width: 2, name: "num_queues", ref: "§4.1.4.3", read: (p) => p.t.queues.length },
  { offset: 20, width: 1, name: "device_status", ref: "§4.1.4.3", read: (p) => p.t.status, write: (p, v) => p.t.writeStatus(v) },
  { offset: 21, width: 1, name: "config_generation", ref: "§4.1.4.3", read: (p) => p.t.configGeneration },
  { offset: 22, width: 2, name: "queue_select", ref: "§4.1.4.3", read: (p) => p.t.queueSel, write: (p, v) => { p.t.queueSel = v; } },
  { offset: 24, width: 2, name: "queue_size", ref: "§4.1.4.3", ...queueField((q) => q.size, (q, v) => q.setSize(v)) },
  { offset: 26, width: 2, name: "queue_msix_vector", ref: "§4.1.4.3", ...queueVector },
  {
    offset: 28, width: 2, name: "queue_enable", ref: "§4.1.4.3",
    read: (_p, q) => (q && q.enabled ? 1 : 0),
    write: (p, v, q) => { if (q && v === 1 && !q.enabled) p.t.enableQueue(q); },
  },
  { offset: 30, width: 2, name: "queue_notify_off", ref: "§4.1.4.3", read: (_p, q) => (q ? q.index : 0) },
  { offset: 32, width: 4, name: "queue_desc_lo", ref: "§4.1.4.3", ...queueField((q) => lo32(q.desc), (q, v) => q.setDescLo(v)) },
  { offset: 36, width: 4, name: "queue_desc_hi", ref: "§4.1.4.3", ...queueField((q) => hi32(q.desc), (q, v) => q.setDescHi(v)) },
  { offset: 40, width: 4, name: "queue_driver_lo", ref: "§4.1.4.3", ...queueField((q) => lo32(q.driver), (q, v) => q.setDriverLo(v)) },
  { offset: 44, width: 4, name: "queue_driver_hi", ref: "§4.1.4.3", ...queueField((q) => hi32(q.driver), (q, v) => q.setDriverHi(v)) },
  { offset: 48, width: 4, name: "queue_device_lo", ref: "§4.1.4.3", ...queueField((q) => lo32(q.device), (q, v) => q.setDeviceLo(v)) },
  { offset: 52, width: 4, name: "queue_device_hi", ref: "§4.1.4.3", ...queueField((q) => hi32(q.device), (q, v) => q.setDeviceHi(v)) },
  { offset: 56, width: 2, name: "queue_notify_data", ref: "§4.1.4.3", read: (_p, q) => (q ? q.index : 0) },
  // Reads 0 once a reset completed, which here is at once.
  { offset: 58, width: 2, name: "queue_reset", ref: "§4.1.4.3", read: () => 0, write: (_p, v, q) => { if (q && v === 1) q.reset(); } },
]);
