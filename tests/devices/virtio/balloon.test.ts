// virtio-balloon against virtio 1.2 §5.5 and what Linux 6.1 virtio_balloon.c does: device id 5,
// inflate/deflate/stats queues, STATS_VQ offered (DEFLATE_ON_OOM not, so ballooned pages leave
// MemTotal), num_pages/actual as little-endian config, PFN arrays, the stats buffer held and
// returned to ask for an update.
import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtioBalloon, VIRTIO_BALLOON_F_STATS_VQ } from "../../../devices/virtio/balloon.ts";
import { bit } from "../../../devices/virtio/device.ts";
import { Harness } from "./device-harness.ts";

const RAM = 64 << 20;
/** PFNs one buffer may hand over at most (balloon.ts BALLOON_MAX_PFNS; Linux sends ≤ 256). */
const BALLOON_MAX_PFNS = 4096;
const pfns = (...n: number[]) => {
  const b = new Uint8Array(n.length * 4);
  n.forEach((p, i) => new DataView(b.buffer).setUint32(i * 4, p, true));
  return b;
};
/** struct virtio_balloon_stat { le16 tag; le64 val; } __packed, one per (tag, value). */
const statsBuf = (entries: [number, number][]) => {
  const b = new Uint8Array(entries.length * 10);
  const v = new DataView(b.buffer);
  entries.forEach(([tag, val], i) => {
    v.setUint16(i * 10, tag, true);
    v.setBigUint64(i * 10 + 2, BigInt(val), true);
  });
  return b;
};

test("device id 5, three queues, STATS_VQ only, 8 bytes of config", () => {
  const dev = new VirtioBalloon({ ramBytes: RAM });
  assert.equal(dev.deviceId, 5);
  assert.equal(dev.queueSizes.length, 3);
  assert.equal(dev.features, bit(VIRTIO_BALLOON_F_STATS_VQ));
  assert.equal(dev.configSize, 8);
});

test("num_pages is the host's target (little-endian, any width); only actual is writable", () => {
  const dev = new VirtioBalloon({ ramBytes: RAM, targetPages: 0x1234 });
  assert.equal(dev.readConfig(0, 4), 0x1234);
  assert.equal(dev.readConfig(0, 1), 0x34);
  assert.equal(dev.readConfig(1, 1), 0x12);
  dev.writeConfig(0, 4, 99); // num_pages is the device's
  assert.equal(dev.readConfig(0, 4), 0x1234);
  dev.writeConfig(4, 4, 0x0102_0304);
  assert.equal(dev.readConfig(4, 4), 0x0102_0304);
  dev.writeConfig(5, 1, 0xff);
  assert.equal(dev.readConfig(4, 4), 0x0102_ff04);
  // A target beyond RAM is clamped to RAM.
  assert.equal(new VirtioBalloon({ ramBytes: RAM, targetPages: 1e9 }).readConfig(0, 4), RAM / 4096);
});

test("inflate and deflate PFN arrays; each buffer used with length 0; PFNs outside RAM refused and logged once", () => {
  const dev = new VirtioBalloon({ ramBytes: RAM, queueSize: 16 });
  const h = new Harness(dev).activate();
  const [inflate, deflate] = h.drivers;
  const a = inflate!.post(pfns(10, 11, 12, 13));
  inflate!.kick();
  assert.deepEqual(inflate!.takeUsed(), [{ id: a.id, len: 0 }]);
  assert.equal(dev.stats().heldPages, 4);
  const b = deflate!.post(pfns(11, 12));
  deflate!.kick();
  assert.deepEqual(deflate!.takeUsed(), [{ id: b.id, len: 0 }]);
  assert.equal(dev.stats().heldPages, 2);
  const c = inflate!.post(pfns(RAM / 4096, 0xffff_ffff, 14));
  inflate!.kick();
  assert.deepEqual(inflate!.takeUsed(), [{ id: c.id, len: 0 }]);
  assert.equal(dev.stats().heldPages, 3);
  assert.equal(dev.stats().refused, 2);
  assert.equal(h.logs.length, 1);
  assert.equal(h.resetReasons.length, 0, "a bad PFN is the driver's problem, not a broken device");
});

test("setTarget raises a config change; reset forgets the held pages and actual", () => {
  const dev = new VirtioBalloon({ ramBytes: RAM, queueSize: 16 });
  const h = new Harness(dev).activate();
  dev.setTarget(256);
  assert.equal(h.configChanges, 1);
  assert.equal(dev.readConfig(0, 4), 256);
  h.drivers[0]!.post(pfns(1, 2));
  h.drivers[0]!.kick();
  dev.writeConfig(4, 4, 2);
  dev.reset();
  assert.equal(dev.stats().heldPages, 0);
  assert.equal(dev.readConfig(4, 4), 0);
  assert.equal(dev.readConfig(0, 4), 256, "the host's target survives a driver reset");
});

test("stats: the buffer queued before DRIVER_OK is read at activation and held; requestStats returns it", () => {
  const dev = new VirtioBalloon({ ramBytes: RAM, queueSize: 16 });
  const h = new Harness(dev);
  const stats = h.drivers[2]!;
  const first = stats.post(statsBuf([[4, 50 << 20], [5, 60 << 20], [6, 55 << 20], [42, 7]]));
  h.activate();
  assert.deepEqual(dev.guestStats(), { stats: { memFree: 50 << 20, memTotal: 60 << 20, memAvailable: 55 << 20, tag42: 7 }, updates: 1 });
  assert.deepEqual(stats.takeUsed(), [], "held until the device wants an update");
  assert.equal(dev.requestStats(), true);
  assert.deepEqual(stats.takeUsed(), [{ id: first.id, len: 0 }]);
  assert.equal(h.interrupts[2], 1);
  assert.equal(dev.requestStats(), false, "nothing to return until the driver re-queues");
  stats.post(statsBuf([[4, 40 << 20]]));
  stats.kick();
  assert.equal(dev.guestStats().stats.memFree, 40 << 20);
  assert.equal(dev.guestStats().updates, 2);
});

test("an inflate chain of overlapping descriptors (1 GiB claimed) reads at most BALLOON_MAX_PFNS and never throws", () => {
  // Issue #15: 128 descriptors over all of the harness's 8 MiB of RAM claim 1 GiB of PFNs; the
  // device allocated that much (a RangeError out of notify() past the allocation limit).
  const dev = new VirtioBalloon({ ramBytes: RAM, targetPages: 0 });
  const h = new Harness(dev, 0n).activate();
  const q = h.drivers[0]!;
  const id = q.postRaw(Array.from({ length: 128 }, () => ({ addr: 0, len: h.ram.length, writable: false })));
  const t0 = performance.now();
  q.kick();
  assert.ok(performance.now() - t0 < 200, "bounded time");
  assert.deepEqual(q.takeUsed(), [{ id, len: 0 }]);
  const s = dev.stats();
  assert.equal(s.inflated! + s.refused!, (128 * h.ram.length) / 4);
  assert.ok(s.inflated! <= BALLOON_MAX_PFNS);
  assert.deepEqual(h.resetReasons, []);
});
