// A board for the state tests: no boot, small RAM, every virtio device type on a mix of
// transports (PCI with MSI-X on the APIC board, MMIO with MSI), with in-memory disk and folder.
import { readFileSync } from "node:fs";
import { PcBoard } from "../../../devices/board/pc.ts";
import { MemoryBlockBackend } from "../../../devices/host/block.ts";
import { MemoryFs } from "../../../devices/p9/memory-fs.ts";
import type { VirtioDeviceSpec } from "../../../devices/vm/config.ts";

export const module = new WebAssembly.Module(readFileSync(new URL("../../../core-wasm/build/core.wasm", import.meta.url)));

export const DEVICES: VirtioDeviceSpec[] = [
  { type: "blk", transport: "pci-modern", image: "mem", irq: "msix" },
  { type: "net", transport: "mmio-v2", backend: "host", irq: "msi" },
  { type: "9p", transport: "pci-legacy", path: "mem" },
  { type: "console", transport: "pci-transitional" },
  { type: "rng", transport: "mmio-v1" },
  { type: "balloon", transport: "pci-modern" },
  { type: "input", transport: "mmio-v2" },
];

export function makeBoard(devices: VirtioDeviceSpec[] = DEVICES, ramMiB = 16): PcBoard {
  const b = new PcBoard({
    module, ramBytes: ramMiB << 20, clock: "deterministic", onConsole: () => {}, virtio: devices, apic: true,
    openBlock: () => new MemoryBlockBackend(new Uint8Array(1 << 16)),
    openFs: () => new MemoryFs(),
  });
  b.firmware();
  return b;
}
