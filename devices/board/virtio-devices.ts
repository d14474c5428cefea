// Placing virtio devices on the PC board: each `--device` becomes a device type (built by its
// registry entry, devices/registry.ts) on a transport. PCI ones take slots from 1 upward (the firmware assigns their BARs and
// INTx lines 10/11); MMIO ones get 0x200-byte windows from 0xD0000000 — outside RAM and below
// the PCI window 0xE0000000–0xFEC00000 — on IRQs PCI does not use, made level-triggered in the
// ELCR, and a `virtio_mmio.device=` entry on the kernel command line each.
import type { BlockBackend } from "../host/block.ts";
import type { MmioBus } from "../bus/mmio.ts";
import type { PortBus } from "../bus/ports.ts";
import { attachBars, type PciHost } from "../pci-host.ts";
import type { VirtioDeviceSpec } from "../vm/config.ts";
import type { FsBackend } from "../p9/backend.ts";
import { deviceType, transportDef } from "../registry.ts";
import type { VirtioDevice, VirtioDeviceInfo } from "../virtio/device.ts";
import type { GuestMemory } from "../virtio/guest-memory.ts";
import { VirtioMmio } from "../virtio/mmio.ts";
import { VirtioPci } from "../virtio/pci.ts";
import type { VirtioTransport } from "../virtio/transport.ts";
import type { BlockDeviceSpec, DeviceType, FsDeviceSpec } from "../virtio/device-type.ts";

export const MMIO_BASE = 0xd000_0000;
export const MMIO_STRIDE = 0x200;
/** ISA IRQs free of the PIT (0), keyboard (1), cascade (2), COM (3, 4), RTC (8), PCI (10, 11), mouse/FPU/IDE (12–15 kept free in order of preference). */
export const MMIO_IRQS = [5, 9, 7, 6, 12, 3, 15, 14] as const;
// BUS_SLOTS.mmio (virtio/transports.ts) is this list's length; tests/devices/board checks it.

export interface VirtioHost {
  /** Open a block backend for a `blk` spec (Node: a file; page: IndexedDB). */
  openBlock?: (spec: BlockDeviceSpec) => BlockBackend;
  /** Open the folder of a `9p` spec (Node: a host directory; page: an in-memory folder). */
  openFs?: (spec: FsDeviceSpec) => FsBackend;
  /** Output of a virtio-console: the same console stream the UART feeds. */
  onConsole: (byte: number) => void;
}

export interface PlacedVirtio {
  spec: VirtioDeviceSpec;
  /** Its registry entry (absent for a device a test placed by hand). */
  type?: DeviceType;
  device: VirtioDevice;
  transport: VirtioTransport;
  info: () => VirtioDeviceInfo;
  /** The register file it sits behind (one of the two), for the inspector. */
  pci?: VirtioPci;
  mmio?: VirtioMmio;
}

export interface VirtioBoardParts {
  mem: GuestMemory;
  pci: PciHost;
  ports: PortBus;
  mmio: MmioBus;
  setIrq: (irq: number, level: boolean) => void;
  setLevelTriggered: (irq: number) => void;
  /** A message-signalled interrupt write (MSI-X): to the local APIC on the APIC board. */
  msi?: (address: number, data: number) => void;
  log: (message: string) => void;
}

/** Where a device's MSI/MSI-X messages go on a board without an APIC: nowhere, logged a few times. */
function noApic(name: string, log: (message: string) => void): (address: number, data: number) => void {
  let n = 0;
  return (a) => void (n++ < 8 && log(`${name}: MSI message to 0x${a.toString(16)} with no APIC on the board; dropped`));
}

/** Build and place every device; returns them and the kernel command-line additions. */
export function placeVirtio(specs: readonly VirtioDeviceSpec[], parts: VirtioBoardParts, host: VirtioHost): { devices: PlacedVirtio[]; cmdline: string[] } {
  const devices: PlacedVirtio[] = [];
  const cmdline: string[] = [];
  const count: Record<string, number> = {};
  let slot = 1;
  let window = 0;
  for (const spec of specs) {
    const type = deviceType(spec.type);
    if (!type) throw new Error(`unknown virtio device type '${spec.type}'`);
    const t = transportDef(spec.transport);
    const device = type.create(spec, { mem: parts.mem, log: parts.log, openBlock: host.openBlock, openFs: host.openFs, onConsole: host.onConsole });
    const n = count[spec.type] = (count[spec.type] ?? -1) + 1;
    const name = `virtio-${spec.type}${n}`;
    if (t.bus === "pci") {
      const msi = parts.msi ?? noApic(name, parts.log);
      const p = new VirtioPci(device, {
        name, kind: spec.transport, mem: parts.mem, log: parts.log, classCode: type.pciClass,
        ...(spec.irq === "msix" ? { msix: { send: msi } } : {}),
      });
      attachBars(p.fn, p.bars, parts.ports, parts.mmio, parts.log);
      parts.pci.add(slot++, 0, p.fn);
      devices.push({ spec, type, device, transport: p.t, info: () => p.info(), pci: p });
    } else {
      const irq = MMIO_IRQS[window];
      if (irq === undefined) throw new Error(`too many virtio-mmio devices (at most ${MMIO_IRQS.length})`);
      const base = MMIO_BASE + MMIO_STRIDE * window++;
      parts.setLevelTriggered(irq);
      const msiSend = parts.msi ?? noApic(name, parts.log);
      const m = new VirtioMmio(device, {
        name, version: t.version1 === "none" ? 1 : 2, base, irq, mem: parts.mem, log: parts.log,
        setIrq: (level) => parts.setIrq(irq, level),
        ...(spec.irq === "msi" ? { msi: { send: msiSend } } : {}),
      });
      for (const r of m.regions) parts.mmio.map(r);
      cmdline.push(m.cmdline());
      devices.push({ spec, type, device, transport: m.t, info: () => m.info(), mmio: m });
    }
  }
  return { devices, cmdline };
}

/** --stats: traps, notifications and interrupts per device. */
export function virtioStats(devices: readonly PlacedVirtio[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of devices) {
    out[d.transport.name] = { transport: d.transport.kind, status: d.transport.status, ...d.transport.stats, ...(d.device.stats?.() ?? {}) };
  }
  return out;
}
