// Expectations from PCI Local Bus Specification 3.0 §6.8.2 (MSI-X capability, table, PBA:
// "while a vector is masked the function sets its pending bit instead of sending; when the
// vector is unmasked with its pending bit set, the function sends the message and clears the
// bit"; the Function Mask masks every vector the same way), and the virtio-pci use of it
// (virtio 1.2 §4.1.4.3, §4.1.5.1.2: vector mapping, VIRTIO_MSI_NO_VECTOR).
import { test } from "node:test";
import assert from "node:assert/strict";
import { PciFunction } from "../../devices/pci-host.ts";
import { MsixCapability, PCI_CAP_ID_MSIX } from "../../devices/pci-msix.ts";
import { msiMessage, DM_FIXED } from "../../devices/lapic.ts";
import { VirtioPci, VIRTIO_MSI_NO_VECTOR, MSIX_BAR } from "../../devices/virtio/pci.ts";
import { RamMemory } from "../../devices/virtio/guest-memory.ts";
import { DummyDevice } from "./virtio/dummy-device.ts";

function setup(vectors = 3) {
  const fn = new PciFunction({ name: "f", vendorId: 0x1af4, deviceId: 0x1041, classCode: 0xff0000, bars: [{ index: 1, kind: "mem32", size: 0x1000 }] });
  const sent: [number, number][] = [];
  const m = new MsixCapability(fn, { name: "f", vectors, bar: 1, tableOffset: 0, pbaOffset: 0x800, send: (a, d) => void sent.push([a, d]) });
  fn.onConfigWrite = (o, w) => m.configWritten(o, w); // the owner's hook, as virtio/pci.ts sets it
  const r = m.region;
  const entry = (v: number, addr: number, data: number, masked: boolean) => {
    r.write(v * 16, 4, addr); r.write(v * 16 + 4, 4, 0); r.write(v * 16 + 8, 4, data); r.write(v * 16 + 12, 4, masked ? 1 : 0);
  };
  const ctrl = (v: number) => fn.writeConfig(m.cap + 2, 2, v);
  const pba = () => r.read(0x800, 4);
  return { fn, m, r, sent, entry, ctrl, pba };
}

test("capability: id 0x11, table size N-1, table and PBA BIR/offset; entries masked after reset", () => {
  const { fn, m, r } = setup(3);
  assert.equal(fn.get(m.cap, 1), PCI_CAP_ID_MSIX);
  assert.equal(fn.get(m.cap + 2, 2), 2);
  assert.equal(fn.get(m.cap + 4, 4), 0 | 1);
  assert.equal(fn.get(m.cap + 8, 4), 0x800 | 1);
  for (let v = 0; v < 3; v++) assert.equal(r.read(v * 16 + 12, 4), 1);
  fn.writeConfig(m.cap + 2, 2, 0xffff);
  assert.equal(fn.get(m.cap + 2, 2), 0xc002, "only Enable and Function Mask are writable");
});

test("disabled: signal() declines, so the device uses INTx", () => {
  const { m, sent } = setup();
  assert.equal(m.signal(0), false);
  assert.equal(sent.length, 0);
});

test("vector mask with the pending bit set: delivered on unmask, pending bit cleared", () => {
  const { m, r, sent, entry, ctrl, pba } = setup();
  ctrl(0x8000);
  entry(1, 0xfee0_0000, 0x41, true);
  assert.equal(m.signal(1), true);
  assert.equal(sent.length, 0, "masked: nothing sent");
  assert.equal(pba(), 0b10, "pending bit 1");
  assert.equal(m.signal(1), true);
  assert.equal(pba(), 0b10, "still one pending bit");
  r.write(1 * 16 + 12, 4, 0); // unmask
  assert.deepEqual(sent, [[0xfee0_0000, 0x41]], "one message on unmask");
  assert.equal(pba(), 0);
  m.signal(1);
  assert.equal(sent.length, 2, "unmasked: sent at once");
});

test("function mask: every vector pends; clearing it releases only unmasked vectors", () => {
  const { m, r, sent, entry, ctrl, pba } = setup();
  entry(0, 0xfee0_0000, 0x40, false);
  entry(2, 0xfee0_0000, 0x42, true);
  ctrl(0x8000 | 0x4000); // enable + function mask, as Linux does while it programs the table
  m.signal(0); m.signal(2);
  assert.equal(pba(), 0b101);
  assert.equal(sent.length, 0);
  ctrl(0x8000);
  assert.deepEqual(sent, [[0xfee0_0000, 0x40]], "vector 2 is still masked by its own bit");
  assert.equal(pba(), 0b100);
  r.write(2 * 16 + 12, 4, 0);
  assert.deepEqual(sent[1], [0xfee0_0000, 0x42]);
  assert.equal(pba(), 0);
});

test("PBA is read-only; reserved Vector Control bits read 0; guest garbage never throws", () => {
  const { r, pba } = setup();
  r.write(0x800, 4, 0xffff_ffff);
  assert.equal(pba(), 0);
  r.write(12, 4, 0xffff_fffe);
  assert.equal(r.read(12, 4), 0);
  assert.doesNotThrow(() => { r.write(0x400, 4, 1); r.read(0x7fc, 4); });
});

test("MSI message format: address 0xFEE, destination 19:12, DM bit 2; data vector, mode, trigger", () => {
  assert.deepEqual(msiMessage(0xfee0_3004, 0x8000 | 0x4000 | 0x51), { vector: 0x51, mode: DM_FIXED, level: true, dest: 3, logical: true });
  assert.equal(msiMessage(0xfed0_0000, 0x51), null);
  assert.equal(msiMessage(0x1_fee0_0000, 0x51), null);
});

test("virtio-pci: vectors per queue, NO_VECTOR for a vector the table lacks, messages per queue", () => {
  const dev = new DummyDevice();
  const sent: number[] = [];
  const p = new VirtioPci(dev, { name: "p", kind: "pci-modern", mem: new RamMemory(new Uint8Array(1 << 20)), log: () => {}, msix: { send: (_a, d) => void sent.push(d) } });
  const n = p.t.queues.length;
  assert.equal(p.msix!.vectors, n + 1);
  assert.equal(p.fn.bars[MSIX_BAR]!.kind, "mem32");
  const common = p.bar(4);
  common.write(16, 2, 0);
  assert.equal(common.read(16, 2), 0);
  common.write(22, 2, 0); // queue_select
  common.write(26, 2, n + 5);
  assert.equal(common.read(26, 2), VIRTIO_MSI_NO_VECTOR, "no such vector: NO_VECTOR");
  common.write(26, 2, 1);
  assert.equal(common.read(26, 2), 1);
  // Enable MSI-X, unmask vectors 0 and 1 with data = vector number.
  p.fn.writeConfig(p.msix!.cap + 2, 2, 0x8000);
  for (const v of [0, 1]) { p.msix!.region.write(v * 16, 4, 0xfee0_0000); p.msix!.region.write(v * 16 + 8, 4, 0x30 + v); p.msix!.region.write(v * 16 + 12, 4, 0); }
  assert.equal(p.t.msi!.queue(0), true);
  assert.equal(p.t.msi!.config(), true);
  assert.deepEqual(sent, [0x31, 0x30]);
  assert.equal(p.t.msi!.queue(1), true, "NO_VECTOR: handled (no notification at all)");
  assert.equal(sent.length, 2);
  // A device reset forgets the mapping.
  p.t.reset();
  assert.equal(common.read(16, 2), VIRTIO_MSI_NO_VECTOR);
});
