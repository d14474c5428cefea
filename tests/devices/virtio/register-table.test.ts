// The transports' register tables decode (devices/virtio/register-table.ts): on a board's buses
// (firmware-assigned BARs, attachBars), every register of every virtio transport reads through
// the guest's path as its table row says; the modern BAR is one bus sub-region per structure
// with the widths the spec gives it (virtio 1.2 §4.1.4.3–§4.1.4.6), so the bus splits or rejects
// other widths; the device config is bounded in one place; queue size and addresses change only
// while the queue is disabled (§4.1.4.3.2, §4.2.3.2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { MmioBus } from "../../../devices/bus/mmio.ts";
import { PortBus } from "../../../devices/bus/ports.ts";
import { assignPci } from "../../../devices/board/pci-firmware.ts";
import { PciHost, attachBars } from "../../../devices/pci-host.ts";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { MMIO_REGISTERS, VirtioMmio } from "../../../devices/virtio/mmio.ts";
import { COMMON_REGISTERS, LEGACY_REGISTERS, MODERN_BAR, MODERN_LAYOUT, VirtioPci } from "../../../devices/virtio/pci.ts";
import { peekRegister } from "../../../devices/virtio/register-table.ts";
import { Virtqueue } from "../../../devices/virtio/queue.ts";
import { DummyDevice } from "./dummy-device.ts";

function board(kind: "pci-legacy" | "pci-modern" | "pci-transitional") {
  const mem = new RamMemory(new Uint8Array(1 << 20));
  const dev = new DummyDevice();
  const logs: string[] = [];
  const p = new VirtioPci(dev, { name: "p", kind, mem, log: (s) => void logs.push(s) });
  const host = new PciHost();
  const ports = new PortBus(() => {});
  const mmio = new MmioBus(() => {});
  ports.registerAll(host.ports);
  attachBars(p.fn, p.bars, ports, mmio);
  host.add(1, 0, p.fn);
  assignPci(host, { setIrq: () => {}, setLevelTriggered: () => {} });
  return { p, dev, logs, ports, mmio, io: p.fn.barBase(0), mem4: p.fn.barBase(MODERN_BAR) };
}

test("pci: every legacy and common register reads through the bus as its row's peek says, at its natural width", () => {
  for (const kind of ["pci-legacy", "pci-modern", "pci-transitional"] as const) {
    const { p, ports, mmio, io, mem4, logs } = board(kind);
    if (io !== null) {
      ports.write(io + 14, 2, 1); // QueueSelect 1: the dummy's second queue
      for (const r of LEGACY_REGISTERS) {
        if (r.offset >= 20) continue; // MSI-X vectors: device config without MSI-X
        const want = peekRegister(r, p, p.t.selected());
        assert.equal(ports.read(io + r.offset, r.width), want ?? 0, `${kind} legacy ${r.name}`);
      }
    }
    if (mem4 !== null) {
      const common = mem4 + MODERN_LAYOUT[0].offset;
      mmio.write(common + 22, 2, 1);
      for (const r of COMMON_REGISTERS) {
        assert.equal(mmio.read(common + r.offset, r.width), peekRegister(r, p, p.t.selected()), `${kind} common ${r.name}`);
      }
    }
    assert.deepEqual(logs, [], kind);
  }
});

test("pci modern: one bus region per structure, with the structure's widths; the bus splits and rejects, the table checks natural widths", () => {
  const { p, mmio, mem4, dev } = board("pci-modern");
  const bar = mem4!;
  for (const c of MODERN_LAYOUT) {
    const r = mmio.regionAt(bar + c.offset);
    assert.equal(r?.name, `p.${c.name}`);
    assert.equal(r.size, c.length);
    assert.equal(r.widths, c.widths);
  }
  assert.equal(mmio.regionAt(bar + 0x40), null, "between structures: nothing claims the BAR");
  const stat = (name: string) => mmio.stats().regions.find((r) => r.name === name)!;
  // ISR is one byte (§4.1.4.5): a 32-bit read is split into bytes; the first clears ISR.
  p.t.raise(1);
  assert.equal(mmio.read(bar + 0x1000, 4), 1);
  assert.equal(p.t.isr, 0);
  assert.equal(stat("p.isr").split, 3, "4 → 2+2 → 1+1+1+1");
  // Notify takes 16 or 32 bits (§4.1.4.4): a byte write is the bus's to reject.
  mmio.write(bar + 0x3000, 1, 0);
  assert.equal(stat("p.notify").rejected, 1);
  assert.equal(p.t.stats.notifications, 0);
  // Common config takes any width at the bus; the table refuses a 2-byte read of a 4-byte field.
  assert.equal(mmio.read(bar + 4, 2), 0);
  assert.equal(p.t.stats.rejected, 1);
  // Device config: any width, bounded by the device's size in one place (the transport).
  assert.equal(mmio.read(bar + 0x2000 + 4, 4), 0x88776655);
  assert.equal(mmio.read(bar + 0x2000 + dev.configSize, 1), 0, "past the end reads 0");
});

test("mmio: every register of each version reads through the bus as its row's peek says", () => {
  for (const version of [1, 2] as const) {
    const dev = new DummyDevice();
    const logs: string[] = [];
    const m = new VirtioMmio(dev, { name: "m", version, base: 0xd0000000, irq: 5, mem: new RamMemory(new Uint8Array(1 << 16)), setIrq: () => {}, log: (s) => void logs.push(s) });
    const bus = new MmioBus(() => {});
    for (const r of m.regions) bus.map(r);
    bus.write(0xd0000000 + 0x30, 4, 1);
    let reads = 0;
    for (const r of MMIO_REGISTERS) {
      if (!r.read || (r.only && r.only !== version)) continue;
      reads++;
      const want = peekRegister(r, m, m.t.selected());
      assert.equal(bus.read(0xd0000000 + r.offset, 4), want ?? 0, `v${version} ${r.name}`);
    }
    assert.ok(reads >= 9);
    assert.deepEqual(logs, []);
  }
});

test("a queue's size and addresses change only while it is disabled", () => {
  const q = new Virtqueue(new RamMemory(new Uint8Array(1 << 16)), 0, 8);
  q.setSize(4); q.setDescLo(0x1000); q.setDriverLo(0x2000); q.setDeviceLo(0x3000);
  q.enable();
  q.setSize(2); q.setDescLo(0x5000); q.setDescHi(1); q.setDriverLo(0x6000); q.setDeviceHi(2);
  assert.deepEqual([q.size, q.desc, q.driver, q.device], [4, 0x1000, 0x2000, 0x3000]);
  q.reset();
  assert.deepEqual([q.enabled, q.size, q.desc], [false, 8, 0]);
});
