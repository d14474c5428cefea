// Fuzz: the transports' register files as a hostile driver sees them — virtio-pci legacy,
// modern and transitional (with MSI-X) behind their BARs and PCI config space, virtio-mmio v1
// and v2 — random widths, offsets and values, biased to the registers that matter (status,
// features, queue select/size/addresses/enable, notify), so status sequences reach DRIVER_OK
// and queues start on wild addresses. A real device (virtio-rng) sits behind each, over random
// guest memory. Properties: no access throws, each is bounded in time, in flight ≤ queue size.
import { test } from "node:test";
import fc from "fast-check";
import { fuzz } from "../../fuzz.ts";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { MmioBus } from "../../../devices/bus/mmio.ts";
import { PortBus } from "../../../devices/bus/ports.ts";
import { VirtioMmio } from "../../../devices/virtio/mmio.ts";
import { VirtioPci, MODERN_BAR } from "../../../devices/virtio/pci.ts";
import { VirtioRng } from "../../../devices/virtio/rng.ts";
import type { Width } from "../../../devices/bus/region.ts";
import type { Virtqueue } from "../../../devices/virtio/queue.ts";

/** CPU time of this process in ms: bounds that hold on a loaded machine (wall time does not). */
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

const RAM = 64 << 10;
type Kind = "pci-legacy" | "pci-modern" | "pci-transitional" | "mmio-v1" | "mmio-v2";
const KINDS: Kind[] = ["pci-legacy", "pci-modern", "pci-transitional", "mmio-v1", "mmio-v2"];

interface Target {
  /** (window, offset, width, value?) → a read or a write through the bus the guest would use. */
  access(window: number, offset: number, width: Width, value: number | null): void;
  /** Register offsets per window worth hitting often. */
  hot: number[][];
  queues: Virtqueue[];
}

function build(kind: Kind, seed: number): Target {
  const ram = new Uint8Array(RAM);
  let x = seed | 1;
  for (let i = 0; i < RAM; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; ram[i] = x; }
  const mem = new RamMemory(ram);
  const dev = new VirtioRng({ queueSize: 8, fill: (d) => d.fill(1) });
  const mmio = new MmioBus(() => {});
  const ports = new PortBus(() => {});
  if (kind.startsWith("mmio")) {
    const m = new VirtioMmio(dev, { name: "m", version: kind === "mmio-v1" ? 1 : 2, base: 0xd0000000, irq: 5, mem, setIrq: () => {}, log: () => {} });
    for (const r of m.regions) mmio.map(r);
    const hot = [0x00, 0x10, 0x14, 0x20, 0x24, 0x28, 0x30, 0x34, 0x38, 0x3c, 0x40, 0x44, 0x50, 0x60, 0x64, 0x70, 0x80, 0x84, 0x90, 0x94, 0xa0, 0xa4, 0xfc, 0x100];
    return {
      access: (_w, off, width, v) => void (v === null ? mmio.read(0xd0000000 + off, width) : mmio.write(0xd0000000 + off, width, v)),
      hot: [hot], queues: m.t.queues,
    };
  }
  const p = new VirtioPci(dev, { name: "p", kind: kind as "pci-legacy", mem, log: () => {}, msix: { send: () => {} } });
  p.fn.setIntxSink(() => {});
  const windows: ((off: number, width: Width, v: number | null) => void)[] = [];
  const hot: number[][] = [];
  // PCI config space first: BARs, command register, capabilities (the MSI-X enable bit).
  windows.push((off, width, v) => void (v === null ? p.fn.readConfig(off & 0xff, width) : p.fn.writeConfig(off & 0xff, width, v)));
  hot.push([0x04, 0x10, 0x20, 0x34, 0x40, 0x42, 0x50, 0x52, 0x60, 0x70, 0x80, 0x90]);
  p.bars.forEach((subs, i) => {
    if (!subs) return;
    const base = i === 0 ? 0xc000 : 0xe000_0000 + i * 0x10_0000;
    for (const s of subs) if (i === 0) ports.register(s.region, base + s.offset); else mmio.map(s.region, base + s.offset);
    const bus = i === 0 ? ports : mmio;
    windows.push((off, width, v) => void (v === null ? bus.read(base + off, width) : bus.write(base + off, width, v)));
    // Legacy header (§4.1.4.8), and the modern BAR's common/notify/ISR/device structures.
    hot.push(i === 0 ? [0x00, 0x04, 0x08, 0x0c, 0x0e, 0x10, 0x12, 0x13, 0x14, 0x16, 0x18] : i === MODERN_BAR
      ? [0x00, 0x04, 0x08, 0x0c, 0x10, 0x12, 0x14, 0x15, 0x16, 0x18, 0x1a, 0x1c, 0x1e, 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34, 0x1000, 0x2000, 0x3000]
      : [0x00, 0x04, 0x08, 0x0c, 0x800]);
  });
  return { access: (w, off, width, v) => windows[w % windows.length]!(off, width, v), hot, queues: p.t.queues };
}

const STATUS = [0, 1, 3, 11, 15, 7, 0x40, 0x80, 0xff];
const opArb = fc.record({
  window: fc.nat(8),
  hot: fc.boolean(),
  pick: fc.nat(),
  offset: fc.integer({ min: 0, max: 0x4000 }),
  width: fc.constantFrom<Width>(1, 2, 4),
  write: fc.boolean(),
  value: fc.oneof(fc.constantFrom(...STATUS), fc.integer({ min: 0, max: 16 }), fc.constantFrom(0x1000, 0x2000, 0x3000, 0xffff_ffff, 0x8000_0000), fc.integer({ min: 0, max: 0xffff_ffff })),
});
const caseArb = fc.record({ kind: fc.constantFrom(...KINDS), seed: fc.integer(), ops: fc.array(opArb, { minLength: 1, maxLength: 60 }) });

test("transports: random register accesses never throw, stay bounded, keep in flight ≤ queue size", () => {
  fuzz("transport", fc.property(caseArb, ({ kind, seed, ops }) => {
    const t = build(kind, seed);
    for (const op of ops) {
      const w = op.window % t.hot.length;
      const hot = t.hot[w]!;
      const off = op.hot ? hot[op.pick % hot.length]! + (op.offset & 3 & ~(op.width - 1)) : op.offset;
      const t0 = cpuMs();
      t.access(op.window, off, op.width, op.write ? op.value : null);
      const ms = cpuMs() - t0;
      if (ms > 250) throw new Error(`${kind}: access at ${w}+0x${off.toString(16)} took ${ms.toFixed(0)} ms`);
      for (const q of t.queues) if (q.inFlight > q.size) throw new Error(`${kind}: ${q.inFlight} in flight on a queue of ${q.size}`);
    }
  }), 200);
});
