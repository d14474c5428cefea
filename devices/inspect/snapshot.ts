// The inspector's snapshot of the virtio devices: a plain JSON-able object (no BigInt, no class
// instances) that the worker posts to the page. Built on demand from the device models and guest
// memory; nothing here runs unless the page asks (CMD_INSPECT), so a closed inspector costs the
// guest nothing.
import type { PlacedVirtio } from "../board/virtio-devices.ts";
import type { VirtioDeviceInfo } from "../virtio/device.ts";
import type { GuestMemory } from "../virtio/guest-memory.ts";
import { statusName } from "../virtio/status.ts";
import type { StatusStep } from "../virtio/transport.ts";
import { featureRows, hex64, type FeatureRow } from "./features.ts";
import { configAccessName, decodePciConfig, type PciConfigDecoded } from "./pci-config.ts";
import { PCI_CONFIG_SLOT } from "../virtio/transport.ts";
import { observeTransport } from "./observer.ts";
import { attachAccesses, mmioConfigStart, mmioRegisters, pciConfigStart, pciRegisters, type AccessRow, type RegisterRow } from "./registers.ts";
import { decodePackedRing, decodeSplitRing, type RingView } from "./ring-decode.ts";

export interface QueueSnapshot {
  index: number;
  size: number;
  maxSize: number;
  enabled: boolean;
  ready: boolean;
  broken: string | null;
  format: "split" | "packed" | null;
  desc: number;
  driver: number;
  device: number;
  /** Requests taken (chains popped) and completed (pushed); in the device now. */
  popped: number;
  pushed: number;
  inFlight: number;
  /** Driver → device notifications of this queue. */
  kicks: number;
  /** Completed batches that raised an interrupt / that the driver's suppression silenced. */
  interruptsSent: number;
  interruptsSuppressed: number;
  /** The device's private ring indices. */
  ringState: Record<string, number | boolean> | null;
  /** Decoded from guest memory (null before the queue is started). */
  ring: RingView | null;
  /** Chains the driver made available that are not used yet (ring.chains.length). */
  inFlightChains: number;
}

export interface DeviceSnapshot {
  name: string;
  type: string;
  deviceId: number;
  transport: string;
  info: VirtioDeviceInfo;
  pci: PciConfigDecoded | null;
  mmio: { base: number; irq: number; version: number; cmdline: string } | null;
  registers: RegisterRow[];
  /** Logged accesses, oldest first (only while the inspector is open). */
  accesses: AccessRow[];
  /** All accesses since power-on (register windows and, for PCI, configuration space). */
  accessCount: number;
  trapsByKind: { pio: number; mmio: number };
  features: { offered: string; driver: string; accepted: string; rows: FeatureRow[] };
  status: { value: number; name: string; path: (StatusStep & { fromName: string; toName: string })[]; resetReason: string | null };
  queues: QueueSnapshot[];
  stats: { traps: number; notifications: number; interrupts: number; configInterrupts: number; rejected: number; requests: number };
  /** The device type's own counters (VirtioDevice.stats): a balloon's guest memory statistics, … */
  device: Record<string, number>;
}

export function inspectVirtio(d: PlacedVirtio, mem: GuestMemory): DeviceSnapshot {
  const t = d.transport;
  const obs = observeTransport(t);
  let registers: RegisterRow[] = [];
  let pci: PciConfigDecoded | null = null;
  let mmio: DeviceSnapshot["mmio"] = null;
  let configAt: (region: number) => number | null = () => null;
  let other: (region: number, offset: number) => string | null = () => null;
  const trapsByKind = { pio: 0, mmio: 0 };
  if (d.pci) {
    const p = d.pci;
    registers = pciRegisters(p);
    pci = decodePciConfig(p.fn.config, p.fn.bars.map((b, i) => (b && b.index === i ? { index: i, kind: b.kind, size: b.size } : undefined)));
    configAt = pciConfigStart(p);
    const caps = pci.capabilities;
    other = (region, offset) => (region === PCI_CONFIG_SLOT ? configAccessName(offset, caps) : null);
    p.fn.bars.forEach((b, i) => {
      if (b && b.index === i) trapsByKind[b.kind === "io" ? "pio" : "mmio"] += t.regionAccesses[i]!;
    });
    trapsByKind.pio += t.regionAccesses[PCI_CONFIG_SLOT]!; // through 0xCF8/0xCFC
  } else if (d.mmio) {
    const m = d.mmio;
    registers = mmioRegisters(m);
    mmio = { base: m.base, irq: m.irq, version: m.version, cmdline: m.cmdline() };
    configAt = mmioConfigStart();
    trapsByKind.mmio = t.accesses;
  }
  const accesses = attachAccesses(registers, obs.log.entries(), t, configAt, other, d.type?.config ?? []);
  const queues = t.queues.map((q): QueueSnapshot => {
    const ringState = q.ringState();
    const a = { desc: q.desc, driver: q.driver, device: q.device };
    let ring: RingView | null = null;
    if (q.format === "split") ring = decodeSplitRing(mem, q.size, a, typeof ringState?.nextAvail === "number" ? ringState.nextAvail : undefined);
    else if (q.format === "packed") ring = decodePackedRing(mem, q.size, a);
    return {
      index: q.index, size: q.size, maxSize: q.maxSize, enabled: q.enabled, ready: q.ready, broken: q.broken,
      format: q.format, desc: q.desc, driver: q.driver, device: q.device,
      popped: q.popped, pushed: q.pushed, inFlight: q.inFlight, kicks: q.kicks,
      interruptsSent: q.notified, interruptsSuppressed: q.suppressed, ringState, ring, inFlightChains: ring ? ring.chains.length : 0,
    };
  });
  return {
    name: t.name, type: d.device.name, deviceId: d.device.deviceId, transport: t.kind, info: d.info(),
    pci, mmio, registers, accesses, accessCount: t.accesses, trapsByKind,
    features: {
      offered: hex64(t.offered), driver: hex64(t.driverFeatures), accepted: hex64(t.features),
      rows: featureRows(d.device.deviceId, t.offered, t.driverFeatures, t.features),
    },
    status: {
      value: t.status, name: statusName(t.status), resetReason: t.resetReason,
      path: obs.statusPath.map((s) => ({ ...s, fromName: statusName(s.from), toName: statusName(s.to) })),
    },
    queues,
    stats: { ...t.stats, requests: t.queues.reduce((n, q) => n + q.popped, 0) },
    device: d.device.stats?.() ?? {},
  };
}

/** The whole machine as the inspector sees it (PcBoard.inspect()). */
export interface InspectSnapshot {
  /** Worker's performance.now() when taken (ms), for rates. */
  takenMs: number;
  instructions: number;
  /** Guest time (ns since power-on). */
  guestNs: number;
  paused: boolean;
  /** Traps by kind since power-on (the run page counters), and interrupts the CPU took. */
  traps: { pio: number; mmio: number };
  interrupts: number;
  devices: DeviceSnapshot[];
}
