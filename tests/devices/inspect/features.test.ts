// Feature-bit naming against the Linux uapi numbers, and the offered/driver/accepted table.
import { test } from "node:test";
import assert from "node:assert/strict";
import { featureName, featureRows, hex64 } from "../../../devices/inspect/features.ts";

test("transport and ring bits have their uapi names for every device type", () => {
  for (const id of [2, 3, 4]) {
    assert.equal(featureName(id, 28), "VIRTIO_RING_F_INDIRECT_DESC");
    assert.equal(featureName(id, 29), "VIRTIO_RING_F_EVENT_IDX");
    assert.equal(featureName(id, 32), "VIRTIO_F_VERSION_1");
    assert.equal(featureName(id, 34), "VIRTIO_F_RING_PACKED");
  }
});

test("device-specific bits are named per device type; unknown ones by number", () => {
  assert.equal(featureName(2, 2), "VIRTIO_BLK_F_SEG_MAX");
  assert.equal(featureName(2, 9), "VIRTIO_BLK_F_FLUSH");
  assert.equal(featureName(3, 0), "VIRTIO_CONSOLE_F_SIZE");
  assert.equal(featureName(3, 2), "VIRTIO_CONSOLE_F_EMERG_WRITE");
  assert.equal(featureName(4, 0), "bit 0"); // virtio-rng defines none
  assert.equal(featureName(2, 50), "bit 50");
});

test("rows: offered, written and accepted per bit; named bits listed even when clear", () => {
  const offered = (1n << 2n) | (1n << 32n) | (1n << 29n);
  const driver = (1n << 2n) | (1n << 32n);
  const rows = featureRows(2, offered, driver, driver);
  const byBit = new Map(rows.map((r) => [r.bit, r]));
  assert.deepEqual(byBit.get(32), { bit: 32, name: "VIRTIO_F_VERSION_1", offered: true, driver: true, accepted: true });
  assert.deepEqual(byBit.get(29), { bit: 29, name: "VIRTIO_RING_F_EVENT_IDX", offered: true, driver: false, accepted: false });
  assert.equal(byBit.get(5)?.name, "VIRTIO_BLK_F_RO"); // named, not offered
  assert.equal(byBit.has(3), false); // neither named nor set
  assert.deepEqual(rows.map((r) => r.bit), [...rows.map((r) => r.bit)].sort((a, b) => a - b));
  assert.equal(hex64(1n << 32n), "0x0000000100000000");
});
