// Placing virtio devices on the PC board: each `--device` becomes a device type (blk, console,
// rng) on a transport. PCI ones take slots from 1 upward (the firmware assigns their BARs and
// INTx lines 10/11); MMIO ones get 0x200-byte windows from 0xD0000000 — outside RAM and below
// the PCI window 0xE0000000–0xFEC00000 — on IRQs PCI does not use, made level-triggered in the
// ELCR, and a `virtio_mmio.device=` entry on the kernel command line each.
import type { BlockBackend } from "../host/block.ts";
import type { MmioBus } from "../bus/mmio.ts";
import type { PortBus } from "../bus/ports.ts";
import { attachBars, type PciHost } from "../pci-host.ts";
import type { VirtioDeviceSpec } from "../vm/config.ts";
import { VirtioBlk } from "../virtio/blk.ts";
import { VirtioConsole } from "../virtio/console.ts";
import { VirtioRng } from "../virtio/rng.ts";
import { Virtio9p } from "../virtio/p9.ts";
import type { FsBackend } from "../p9/backend.ts";
import type { VirtioDevice, VirtioDeviceInfo } from "../virtio/device.ts";
import type { GuestMemory } from "../virtio/guest-memory.ts";
import { VirtioMmio } from "../virtio/mmio.ts";
import { VirtioPci } from "../virtio/pci.ts";
import type { VirtioTransport } from "../virtio/transport.ts";

export const MMIO_BASE = 0xd000_0000;
export const MMIO_STRIDE = 0x200;
/** ISA IRQs free of the PIT (0), keyboard (1), cascade (2), COM (3, 4), RTC (8), PCI (10, 11), mouse/FPU/IDE (12–15 kept free in order of preference). */
export const MMIO_IRQS = [5, 9, 7, 6, 12, 3, 15, 14] as const;

export interface VirtioHost {
  /** Open a block backend for a `blk` spec (Node: a file; page: IndexedDB). */
  openBlock?: (spec: VirtioDeviceSpec) => BlockBackend;
  /** Open the folder of a `9p` spec (Node: a host directory; page: an in-memory folder). */
  openFs?: (spec: VirtioDeviceSpec) => FsBackend;
  /** Output of a virtio-console: the same console stream the UART feeds. */
  onConsole: (byte: number) => void;
}

export interface PlacedVirtio {
  spec: VirtioDeviceSpec;
  device: VirtioDevice;
  transport: VirtioTransport;
  info: () => VirtioDeviceInfo;
}

export interface VirtioBoardParts {
  mem: GuestMemory;
  pci: PciHost;
  ports: PortBus;
  mmio: MmioBus;
  setIrq: (irq: number, level: boolean) => void;
  setLevelTriggered: (irq: number) => void;
  log: (message: string) => void;
}

function makeDevice(spec: VirtioDeviceSpec, host: VirtioHost, log: (message: string) => void): VirtioDevice {
  switch (spec.type) {
    case "blk": {
      if (!host.openBlock) throw new Error("virtio-blk: no block backend available in this host");
      return new VirtioBlk({ backend: host.openBlock(spec) });
    }
    case "console":
      return new VirtioConsole({ onOutput: (bytes) => { for (const b of bytes) host.onConsole(b); } });
    case "rng":
      return new VirtioRng();
    case "9p": {
      if (!host.openFs) throw new Error("virtio-9p: no shared folder available in this host");
      return new Virtio9p({ fs: host.openFs(spec), tag: spec.tag, readonly: spec.readonly, log });
    }
  }
}

/** Build and place every device; returns them and the kernel command-line additions. */
export function placeVirtio(specs: readonly VirtioDeviceSpec[], parts: VirtioBoardParts, host: VirtioHost): { devices: PlacedVirtio[]; cmdline: string[] } {
  const devices: PlacedVirtio[] = [];
  const cmdline: string[] = [];
  const count: Record<string, number> = {};
  let slot = 1;
  let window = 0;
  for (const spec of specs) {
    const device = makeDevice(spec, host, parts.log);
    const n = count[spec.type] = (count[spec.type] ?? -1) + 1;
    const name = `virtio-${spec.type}${n}`;
    if (spec.transport.startsWith("pci-")) {
      const p = new VirtioPci(device, { name, kind: spec.transport as "pci-legacy", mem: parts.mem, log: parts.log });
      attachBars(p.fn, p.regions, parts.ports, parts.mmio, parts.log);
      parts.pci.add(slot++, 0, p.fn);
      devices.push({ spec, device, transport: p.t, info: () => p.info() });
    } else {
      const irq = MMIO_IRQS[window];
      if (irq === undefined) throw new Error(`too many virtio-mmio devices (at most ${MMIO_IRQS.length})`);
      const base = MMIO_BASE + MMIO_STRIDE * window++;
      parts.setLevelTriggered(irq);
      const m = new VirtioMmio(device, {
        name, version: spec.transport === "mmio-v1" ? 1 : 2, base, irq, mem: parts.mem, log: parts.log,
        setIrq: (level) => parts.setIrq(irq, level),
      });
      for (const r of m.regions) parts.mmio.map(r);
      cmdline.push(m.cmdline());
      devices.push({ spec, device, transport: m.t, info: () => m.info() });
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
