// PCI configuration space decoding against a hand-built header: ids, BARs, and a capability
// list with virtio vendor capabilities, plus a looping list (hostile bytes never throw).
import { test } from "node:test";
import assert from "node:assert/strict";
import { capabilityLine, decodePciConfig } from "../../../devices/inspect/pci-config.ts";
import { VirtioPci } from "../../../devices/virtio/pci.ts";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { DummyDevice } from "../virtio/dummy-device.ts";

function put(c: Uint8Array, o: number, w: number, v: number): void {
  for (let i = 0; i < w; i++) c[o + i] = (v >>> (8 * i)) & 0xff;
}

/** A modern virtio-blk header: 1af4:1042, BAR4 mem64 prefetchable at 0xfebf0000, caps at 0x40 and 0x54. */
function header(): Uint8Array {
  const c = new Uint8Array(256);
  put(c, 0, 2, 0x1af4); put(c, 2, 2, 0x1042); put(c, 4, 2, 0x0007); put(c, 6, 2, 0x0010);
  put(c, 8, 4, 0x01018000 | 1); put(c, 0x2c, 2, 0x1af4); put(c, 0x2e, 2, 2);
  put(c, 0x20, 4, 0xfebf0000 | 0xc); put(c, 0x24, 4, 0);
  put(c, 0x3c, 1, 11); put(c, 0x3d, 1, 1); put(c, 0x34, 1, 0x40);
  // virtio_pci_cap COMMON: vndr 9, next 0x54, len 16, cfg_type 1, bar 4, offset 0, length 0x40
  put(c, 0x40, 1, 9); put(c, 0x41, 1, 0x54); put(c, 0x42, 1, 16); put(c, 0x43, 1, 1); put(c, 0x44, 1, 4); put(c, 0x48, 4, 0); put(c, 0x4c, 4, 0x40);
  // virtio_pci_notify_cap: len 20, cfg_type 2, offset 0x3000, length 0x1000, multiplier 4
  put(c, 0x54, 1, 9); put(c, 0x55, 1, 0); put(c, 0x56, 1, 20); put(c, 0x57, 1, 2); put(c, 0x58, 1, 4); put(c, 0x5c, 4, 0x3000); put(c, 0x60, 4, 0x1000); put(c, 0x64, 4, 4);
  return c;
}

test("ids, class, command, interrupt and a 64-bit BAR", () => {
  const d = decodePciConfig(header(), [undefined, undefined, undefined, undefined, { index: 4, kind: "mem64", size: 0x4000 }]);
  assert.equal(d.vendorId, 0x1af4);
  assert.equal(d.deviceId, 0x1042);
  assert.equal(d.revision, 1);
  assert.equal(d.classCode, 0x010180);
  assert.deepEqual(d.commandBits, ["I/O+", "Mem+", "BusMaster+"]);
  assert.deepEqual(d.statusBits, ["Cap+"]);
  assert.equal(d.interruptLine, 11);
  assert.deepEqual(d.bars, [{ index: 4, kind: "mem64", prefetchable: true, address: 0xfebf0000, size: 0x4000, enabled: true }]);
  assert.equal(d.hex.length, 16);
  assert.match(d.hex[0]!, /^00: f4 1a 42 10 07 00 10 00/);
});

test("capability list: virtio cfg_type, bar, offset, length, notify multiplier", () => {
  const d = decodePciConfig(header());
  assert.deepEqual(d.capabilities.map((c) => c.virtio?.type), ["COMMON", "NOTIFY"]);
  assert.deepEqual(d.capabilities[1]!.virtio, { cfgType: 2, type: "NOTIFY", bar: 4, offset: 0x3000, length: 0x1000, capLen: 20, notifyOffMultiplier: 4 });
  assert.equal(capabilityLine(d.capabilities[0]!), "[40] Vendor Specific: VirtIO: COMMON BAR=4 offset=00000000 size=00000040");
  assert.deepEqual(d.errors, []);
});

test("a looping or out-of-range capability list is reported, not followed forever", () => {
  const c = header();
  c[0x55] = 0x40; // NOTIFY → COMMON → NOTIFY …
  assert.deepEqual(decodePciConfig(c).errors, ["capability list loops at 0x40"]);
  c[0x34] = 0x10;
  assert.deepEqual(decodePciConfig(c).errors, ["capability pointer 0x10 outside 0x40–0xfc"]);
});

test("a real modern virtio-pci function lists COMMON, ISR, DEVICE, NOTIFY and PCI_CFG", () => {
  const p = new VirtioPci(new DummyDevice(), { name: "d", kind: "pci-modern", mem: new RamMemory(new Uint8Array(4096)), log: () => {} });
  const d = decodePciConfig(p.fn.config);
  assert.deepEqual(d.capabilities.map((c) => c.virtio?.type), ["COMMON", "ISR", "DEVICE", "NOTIFY", "PCI_CFG"]);
  assert.ok(d.capabilities.every((c) => c.virtio!.cfgType === 5 || c.virtio!.bar === 4));
});
