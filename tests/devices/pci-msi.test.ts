// Expectations from PCI Local Bus Specification 3.0 §6.8.1 (MSI capability with 64-bit address
// and per-vector masking): Multiple Message Capable/Enable, the vector number in the low data
// bits, Mask and Pending bits, delivery on unmask.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PciFunction } from "../../devices/pci-host.ts";
import { MsiCapability, PCI_CAP_ID_MSI } from "../../devices/pci-msi.ts";

function setup(vectors = 4) {
  const fn = new PciFunction({ name: "f", vendorId: 0x8086, deviceId: 0x1234, classCode: 0xff0000 });
  const sent: [number, number][] = [];
  const m = new MsiCapability(fn, { vectors, send: (a, d) => void sent.push([a, d]) });
  fn.onConfigWrite = (o, w) => m.configWritten(o, w);
  return { fn, m, sent, c: m.cap };
}

test("capability: id 5, MMC = log2(vectors), 64-bit, per-vector masking; read-only bits stay", () => {
  const { fn, c } = setup(4);
  assert.equal(fn.get(c, 1), PCI_CAP_ID_MSI);
  assert.equal(fn.get(c + 2, 2), (2 << 1) | 0x80 | 0x100);
  fn.writeConfig(c + 2, 2, 0xffff);
  assert.equal(fn.get(c + 2, 2), (2 << 1) | 0x80 | 0x100 | 0x1 | 0x70);
  fn.writeConfig(c + 0x10, 4, 0xffff_ffff);
  assert.equal(fn.get(c + 0x10, 4), 0xf, "mask bits only for the vectors that exist");
  fn.writeConfig(c + 0x14, 4, 0xffff_ffff);
  assert.equal(fn.get(c + 0x14, 4), 0, "pending bits are read-only");
});

test("disabled: INTx; enabled: the granted vector number in the data's low bits", () => {
  const { fn, m, sent, c } = setup(4);
  assert.equal(m.signal(0), false);
  fn.writeConfig(c + 4, 4, 0xfee0_0000); fn.writeConfig(c + 8, 4, 0); fn.writeConfig(c + 0xc, 2, 0x4040);
  fn.writeConfig(c + 2, 2, 0x1 | (2 << 4)); // enable, 4 vectors granted
  assert.equal(m.granted, 4);
  m.signal(3);
  m.signal(4); // beyond the grant: dropped
  assert.deepEqual(sent, [[0xfee0_0000, 0x4043]]);
});

test("per-vector mask with the pending bit set: delivered on unmask", () => {
  const { fn, m, sent, c } = setup(2);
  fn.writeConfig(c + 4, 4, 0xfee0_0000); fn.writeConfig(c + 0xc, 2, 0x50);
  fn.writeConfig(c + 0x10, 4, 0b10);
  fn.writeConfig(c + 2, 2, 0x1 | (1 << 4));
  m.signal(1);
  assert.equal(sent.length, 0);
  assert.equal(fn.get(c + 0x14, 4), 0b10);
  fn.writeConfig(c + 0x10, 4, 0);
  assert.deepEqual(sent, [[0xfee0_0000, 0x51]]);
  assert.equal(fn.get(c + 0x14, 4), 0);
});
