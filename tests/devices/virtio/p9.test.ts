// virtio-9p over the driver mock: config space, requests split across descriptors the way
// Linux's zero-copy path splits them, async completion through poll(), and hostile chains.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Virtio9p, VIRTIO_9P_MOUNT_TAG } from "../../../devices/virtio/p9.ts";
import { MemoryFs } from "../../../devices/p9/memory-fs.ts";
import type { FsBackend } from "../../../devices/p9/backend.ts";
import { NOFID } from "../../../devices/p9/messages.ts";
import { Reader } from "../../../devices/p9/wire.ts";
import { Harness } from "./device-harness.ts";
import { request, s, d, q, T } from "../p9/client.ts";

/** A backend that answers every call later (as IndexedDB does), over an in-memory one. */
function later(fs: MemoryFs): FsBackend {
  return new Proxy(fs, {
    get(t, k) {
      const v = (t as unknown as Record<string | symbol, unknown>)[k];
      return typeof v === "function" ? (...a: unknown[]) => Promise.resolve().then(() => v.apply(t, a)) : v;
    },
  }) as unknown as FsBackend;
}

/** Let the device's request chain run, then complete what is ready. */
async function settle(dev: Virtio9p): Promise<void> {
  for (let i = 0; i < 20 && dev.hostIo(); i++) await dev.hostIo();
  dev.poll();
}

test("device id 9, VIRTIO_9P_MOUNT_TAG, config = le16 tag_len + tag", () => {
  const dev = new Virtio9p({ fs: new MemoryFs(), tag: "hostshare" });
  assert.equal(dev.deviceId, 9);
  assert.equal(dev.features, 1n << VIRTIO_9P_MOUNT_TAG);
  assert.equal(dev.configSize, 2 + 9);
  assert.equal(dev.readConfig(0, 2), 9);
  const tag = Array.from({ length: 9 }, (_, i) => dev.readConfig(2 + i, 1));
  assert.equal(String.fromCharCode(...tag), "hostshare");
  assert.equal(dev.readConfig(2, 4), 0x74736f68, "'host' little-endian");
  assert.throws(() => new Virtio9p({ fs: new MemoryFs(), tag: "" }));
});

test("version, attach, then a write split like Linux's zero-copy path lands in the folder (a backend that answers later)", async () => {
  const fs = new MemoryFs();
  const dev = new Virtio9p({ fs: later(fs) });
  const h = new Harness(dev).activate();
  const vq = h.drivers[0]!;
  const v = vq.post(request(T.version, 0xffff, d(65536), s("9P2000.L")), 64);
  const a = vq.post(request(T.attach, 1, d(0), d(NOFID), s("root"), s(""), d(0)), 64);
  vq.kick();
  // Tversion needs no backend call: done inside the kick; Tattach waits for the backend.
  const used = vq.takeUsed();
  assert.deepEqual(used.map((u) => u.id), [v.id]);
  assert.ok(dev.hostIo() instanceof Promise);
  await settle(dev);
  assert.deepEqual(vq.takeUsed().map((u) => u.id), [a.id]);
  const rv = new Reader(h.bytes(v.bufs[1]!));
  assert.equal(rv.u32(), used[0]!.len);
  assert.equal(rv.u8(), T.version + 1);
  rv.u16();
  assert.equal(rv.u32(), 65536);
  assert.equal(rv.str(), "9P2000.L");
  assert.equal(h.interrupts[0], 2, "one interrupt per completion batch");

  vq.post(request(T.lcreate, 2, d(0), s("f"), d(2), d(0o644), d(0)), 64);
  vq.kick();
  await settle(dev);
  vq.takeUsed();
  // Twrite: the header in one buffer, the data in two more (pages), the reply in a fourth.
  const data = new Uint8Array(3000).map((_, i) => i & 0xff);
  const msg = request(T.write, 3, d(0), q(0), ["D", data]);
  const w = vq.post(msg.subarray(0, 23), msg.subarray(23, 1023), msg.subarray(1023), 11);
  vq.kick();
  await settle(dev);
  assert.deepEqual(vq.takeUsed(), [{ id: w.id, len: 11 }]);
  const rw = new Reader(h.bytes(w.bufs[3]!));
  rw.u32(); assert.equal(rw.u8(), T.write + 1); rw.u16();
  assert.equal(rw.u32(), 3000);
  const h2 = await fs.open(["f"], { access: 0, trunc: false, append: false });
  assert.deepEqual(await fs.read(h2, 0, 5000), data);

  // Tread: an 11-byte header buffer, then the data pages.
  const r = vq.post(request(T.read, 4, d(0), q(1000), d(4096)), 11, 1024, 4096);
  vq.kick();
  await settle(dev);
  assert.deepEqual(vq.takeUsed(), [{ id: r.id, len: 11 + 2000 }]);
  assert.equal(new Reader(h.bytes(r.bufs[1]!)).u32(), 11 + 2000);
  const got = new Uint8Array([...h.bytes(r.bufs[2]!), ...h.bytes(r.bufs[3]!)]).subarray(0, 2000);
  assert.deepEqual(got, data.subarray(1000));
});

test("malformed messages get Rlerror; a chain with no room for any reply asks for a reset", async () => {
  const dev = new Virtio9p({ fs: new MemoryFs() });
  const h = new Harness(dev).activate();
  const vq = h.drivers[0]!;
  const bad = vq.post(Uint8Array.of(200, 0, 0, 0, 120, 9, 0), 64); // size larger than the message
  const empty = vq.post(64); // no request bytes at all
  vq.kick();
  await settle(dev);
  const used = vq.takeUsed();
  assert.deepEqual(used.map((u) => [u.id, u.len]), [[bad.id, 11], [empty.id, 11]]);
  const e = new Reader(h.bytes(bad.bufs[1]!));
  e.u32(); assert.equal(e.u8(), 7); assert.equal(e.u16(), 9); assert.equal(e.u32(), 71 /* EPROTO */);
  assert.deepEqual(h.resetReasons, []);
  vq.post(request(T.clunk, 1, d(0)), 4);
  vq.kick();
  assert.equal(h.resetReasons.length, 1);
  assert.match(h.resetReasons[0]!, /writable bytes/);
});

test("a reply that does not fit the driver's buffer becomes an Rlerror", async () => {
  const dev = new Virtio9p({ fs: new MemoryFs() });
  const h = new Harness(dev).activate();
  const vq = h.drivers[0]!;
  vq.post(request(T.version, 0xffff, d(65536), s("9P2000.L")), 64);
  vq.post(request(T.attach, 1, d(0), d(NOFID), s(""), s(""), d(0)), 64);
  const g = vq.post(request(T.getattr, 2, d(0), q(0x7ff)), 20); // Rgetattr needs 160
  vq.kick();
  await settle(dev);
  assert.deepEqual(vq.takeUsed().pop(), { id: g.id, len: 11 });
  assert.equal(dev.stats().oversizeReplies, 1);
});

test("a synchronous backend completes requests inside the kick, in order, with one interrupt", () => {
  const dev = new Virtio9p({ fs: new MemoryFs() });
  const h = new Harness(dev).activate();
  const vq = h.drivers[0]!;
  const v = vq.post(request(T.version, 0xffff, d(65536), s("9P2000.L")), 64);
  const a = vq.post(request(T.attach, 1, d(0), d(NOFID), s("root"), s(""), d(0)), 64);
  vq.kick();
  assert.deepEqual(vq.takeUsed().map((u) => u.id), [v.id, a.id]);
  assert.equal(h.interrupts[0], 1);
  assert.equal(dev.hostIo(), null);
  assert.equal(dev.stats().immediate, 2);
});

test("requests pending at reset are dropped, never completed into the old rings", async () => {
  const dev = new Virtio9p({ fs: later(new MemoryFs()) });
  const h = new Harness(dev).activate();
  const vq = h.drivers[0]!;
  const v = vq.post(request(T.version, 0xffff, d(65536), s("9P2000.L")), 64);
  const a = vq.post(request(T.attach, 1, d(0), d(NOFID), s("root"), s(""), d(0)), 64);
  const g = vq.post(request(T.getattr, 2, d(0), q(0x7ff)), 256);
  vq.kick();
  assert.deepEqual(vq.takeUsed().map((u) => u.id), [v.id]);
  dev.reset();
  await settle(dev);
  assert.deepEqual(vq.takeUsed(), []);
  for (const c of [a, g]) assert.deepEqual([...h.bytes(c.bufs[1]!).subarray(0, 4)], [0xcc, 0xcc, 0xcc, 0xcc]);
});

test("a reset before the session (the driver's probe) never lands after the Tversion that follows it", async () => {
  const fs = new MemoryFs();
  const dev = new Virtio9p({ fs: later(fs) });
  const h = new Harness(dev);
  dev.reset(); // virtio_dev_probe → reset, then DRIVER_OK
  h.activate();
  const vq = h.drivers[0]!;
  vq.post(request(T.version, 0xffff, d(65536), s("9P2000.L")), 64);
  vq.post(request(T.attach, 1, d(0), d(NOFID), s("root"), s(""), d(0)), 64);
  vq.kick();
  await settle(dev);
  const m = vq.post(request(T.mkdir, 2, d(0), s("dir"), d(0o755), d(0)), 64);
  vq.kick();
  await settle(dev);
  const used = vq.takeUsed();
  assert.equal(used.at(-1)!.id, m.id);
  const r = new Reader(h.bytes(m.bufs[1]!));
  r.u32();
  assert.equal(r.u8(), T.mkdir + 1, "Rmkdir, not an Rlerror from a session reset after Tversion");
  assert.equal(fs.stat(["dir"]).kind, "dir");
});

test("random requests in randomly split chains: every chain is answered, nothing throws", () => {
  const dev = new Virtio9p({ fs: new MemoryFs() });
  const h = new Harness(dev).activate();
  const vq = h.drivers[0]!;
  vq.post(request(T.version, 0xffff, d(65536), s("9P2000.L")), 64);
  vq.post(request(T.attach, 1, d(0), d(NOFID), s(""), s(""), d(0)), 64);
  vq.kick();
  vq.takeUsed();
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  const types = [8, 12, 14, 16, 18, 20, 22, 24, 26, 30, 40, 50, 72, 74, 76, 108, 110, 116, 118, 120, 122, 200];
  for (let i = 0; i < 400; i++) {
    const len = 7 + rand(48);
    const m = new Uint8Array(len).map(() => (rand(3) ? rand(4) : rand(256)));
    new DataView(m.buffer).setUint32(0, rand(5) ? len : rand(200), true);
    m[4] = types[rand(types.length)]!;
    const cut = 1 + rand(len - 1);
    const c = vq.post(m.subarray(0, cut), m.subarray(cut), 11 + rand(64), 1 + rand(200));
    vq.kick();
    const used = vq.takeUsed();
    assert.equal(used.length, 1);
    assert.equal(used[0]!.id, c.id);
    assert.ok(used[0]!.len >= 11);
  }
  assert.deepEqual(h.resetReasons, []);
});
