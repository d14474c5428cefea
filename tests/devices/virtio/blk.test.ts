// virtio-blk against virtio 1.2 §5.2 and Linux 6.1 drivers/block/virtio_blk.c: requests are
// [le32 type, le32 reserved, le64 sector][data][u8 status]; types IN 0, OUT 1, FLUSH 4,
// GET_ID 8; status OK 0, IOERR 1, UNSUPP 2; config capacity @0 (u64), size_max @8,
// seg_max @12, blk_size @20; features SIZE_MAX 1, SEG_MAX 2, RO 5, BLK_SIZE 6, FLUSH 9.
import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtioBlk } from "../../../devices/virtio/blk.ts";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryBlockBackend, type BlockBackend } from "../../../devices/host/block.ts";
import { NodeFileBlockBackend } from "../../../devices/host/node-file-block.ts";
import { Harness } from "./device-harness.ts";

const T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_WRITE_ZEROES = 13, T_SECURE_ERASE = 14;
const S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;

function hdr(type: number, sector = 0, reserved = 0): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, reserved, true);
  dv.setBigUint64(8, BigInt(sector), true);
  return b;
}

function pattern(len: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (i * 7 + seed) & 0xff);
}

function setup(sectors = 16, opts: { readonly?: boolean; id?: string } = {}) {
  const image = new Uint8Array(sectors * 512);
  const backend = new MemoryBlockBackend(image, opts);
  const dev = new VirtioBlk({ backend, queueSize: 32 });
  const h = new Harness(dev).activate();
  return { image, backend, dev, h, q: h.drivers[0]! };
}

const bit = (n: number) => 1n << BigInt(n);

test("device id 2; features SIZE_MAX SEG_MAX BLK_SIZE FLUSH, plus DISCARD WRITE_ZEROES when writable, RO when not", () => {
  const { dev } = setup();
  assert.equal(dev.deviceId, 2);
  assert.equal(dev.queueSizes.length, 1);
  for (const f of [1, 2, 6, 9, 13, 14]) assert.ok(dev.features & bit(f), `feature ${f}`);
  assert.equal(dev.features & bit(5), 0n);
  // Never offered: GEOMETRY 4, TOPOLOGY 10, CONFIG_WCE 11, MQ 12, SECURE_ERASE 16.
  for (const f of [4, 10, 11, 12, 16]) assert.equal(dev.features & bit(f), 0n, `feature ${f}`);
  const ro = setup(16, { readonly: true }).dev.features;
  assert.ok(ro & bit(5));
  assert.equal(ro & (bit(13) | bit(14)), 0n);
});

test("config space: capacity in 512-byte sectors, size_max, seg_max, blk_size = 512", () => {
  const { h } = setup(0x30);
  assert.equal(h.cfg(0, 4), 0x30); // capacity low half (a legacy driver reads a u64 as two u32)
  assert.equal(h.cfg(4, 4), 0); // capacity high half
  assert.equal(h.cfg(0, 1), 0x30);
  assert.equal(h.cfg(8, 4), 0x10000); // size_max default 64 KiB
  assert.equal(h.cfg(12, 4), 32 - 2); // seg_max: queue size minus header and status
  assert.equal(h.cfg(20, 4), 512);
  assert.equal(h.cfg(22, 2), 0);
  // DISCARD / WRITE_ZEROES limits at 36..56 (§5.2.4).
  assert.equal(h.cfg(36, 4), 8192); // max_discard_sectors
  assert.equal(h.cfg(40, 4), 8); // max_discard_seg
  assert.equal(h.cfg(44, 4), 1); // discard_sector_alignment
  assert.equal(h.cfg(48, 4), 8192); // max_write_zeroes_sectors
  assert.equal(h.cfg(52, 4), 8); // max_write_zeroes_seg
  assert.equal(h.cfg(56, 1), 0); // write_zeroes_may_unmap: never deallocates
  assert.ok(h.device.configSize >= 60);
});

test("a write lands in the image and a read returns it, across split descriptors", () => {
  const { image, h, q } = setup();
  const data = pattern(1024, 3);
  const w = q.post(hdr(T_OUT, 2), data.subarray(0, 100), data.subarray(100), 1);
  q.kick();
  assert.deepEqual(q.takeUsed(), [{ id: w.id, len: 1 }]); // only the status byte written
  assert.deepEqual([...h.bytes(w.bufs[3]!)], [S_OK]);
  assert.deepEqual(image.subarray(1024, 2048), data);
  assert.ok(image.subarray(0, 1024).every((b) => b === 0));
  assert.ok(image.subarray(2048).every((b) => b === 0));

  // Header split too (§2.7.4: no assumption about framing), data over three buffers.
  const r = q.post(hdr(T_IN, 2).subarray(0, 5), hdr(T_IN, 2).subarray(5), 7, 1000, 17, 1);
  q.kick();
  assert.deepEqual(q.takeUsed(), [{ id: r.id, len: 1025 }]); // 1024 data + status
  const got = new Uint8Array([...h.bytes(r.bufs[2]!), ...h.bytes(r.bufs[3]!), ...h.bytes(r.bufs[4]!)]);
  assert.deepEqual(got, data);
  assert.deepEqual([...h.bytes(r.bufs[5]!)], [S_OK]);
});

test("the status byte may share the last buffer with the data", () => {
  const { image, h, q } = setup();
  image.set(pattern(512, 9), 512 * 5);
  const r = q.post(hdr(T_IN, 5), 513);
  q.kick();
  assert.deepEqual(q.takeUsed(), [{ id: r.id, len: 513 }]);
  const b = h.bytes(r.bufs[1]!);
  assert.deepEqual(b.subarray(0, 512), pattern(512, 9));
  assert.equal(b[512], S_OK);
});

test("FLUSH flushes the backend and completes with OK and a used length of 1", () => {
  const { backend, h, q } = setup();
  const f = q.post(hdr(T_FLUSH), 1);
  q.kick();
  assert.deepEqual(q.takeUsed(), [{ id: f.id, len: 1 }]);
  assert.deepEqual([...h.bytes(f.bufs[1]!)], [S_OK]);
  assert.equal(backend.flushes, 1);
});

test("GET_ID writes the 20-byte id, NUL-padded; a 20-byte id has no terminator", () => {
  const { h, q } = setup(16, { id: "vireo-disk" });
  const g = q.post(hdr(T_GET_ID), 20, 1);
  q.kick();
  assert.deepEqual(q.takeUsed(), [{ id: g.id, len: 21 }]);
  const want = new Uint8Array(20);
  want.set(new TextEncoder().encode("vireo-disk"));
  assert.deepEqual(h.bytes(g.bufs[1]!), want);
  assert.deepEqual([...h.bytes(g.bufs[2]!)], [S_OK]);

  const long = setup(16, { id: "0123456789abcdefghijKLMN" });
  const g2 = long.q.post(hdr(T_GET_ID), 20, 1);
  long.q.kick();
  assert.equal(new TextDecoder().decode(long.h.bytes(g2.bufs[1]!)), "0123456789abcdefghij");
  // Too small a buffer for the id: IOERR, nothing written into the data.
  const g3 = long.q.post(hdr(T_GET_ID), 19, 1);
  long.q.kick();
  assert.ok(long.h.bytes(g3.bufs[1]!).every((b) => b === 0xcc));
  assert.deepEqual([...long.h.bytes(g3.bufs[2]!)], [S_IOERR]);
});

test("a write reaching past the end fails with IOERR and leaves the image untouched", () => {
  const { image, h, q } = setup(16);
  const before = image.slice();
  const cases = [
    q.post(hdr(T_OUT, 15), pattern(1024, 1), 1), // last sector + one past
    q.post(hdr(T_OUT, 16), pattern(512, 1), 1), // first sector past the end
    q.post(hdr(T_OUT, 2 ** 53 - 1), pattern(512, 1), 1),
  ];
  // sector = 2^64 - 1 (header written by hand: beyond a JS number's exact range)
  const huge = hdr(T_OUT);
  huge.fill(0xff, 8, 16);
  cases.push(q.post(huge, pattern(512, 1), 1));
  q.kick();
  const used = q.takeUsed();
  assert.deepEqual(used.map((u) => u.len), [1, 1, 1, 1]);
  for (const c of cases) assert.deepEqual([...h.bytes(c.bufs[2]!)], [S_IOERR]);
  assert.deepEqual(image, before);
});

test("a read reaching past the end fails with IOERR", () => {
  const { h, q } = setup(16);
  const r = q.post(hdr(T_IN, 15), 1024, 1);
  q.kick();
  assert.equal(q.takeUsed()[0]!.len, 1);
  assert.deepEqual([...h.bytes(r.bufs[2]!)], [S_IOERR]);
  // The last sector itself is fine.
  const ok = q.post(hdr(T_IN, 15), 512, 1);
  q.kick();
  assert.deepEqual([...h.bytes(ok.bufs[2]!)], [S_OK]);
});

test("a read-only disk fails writes with IOERR and writes nothing, and still reads", () => {
  const { image, h, q } = setup(16, { readonly: true });
  image.set(pattern(512, 4), 0);
  const before = image.slice();
  const w = q.post(hdr(T_OUT, 0), pattern(512, 200), 1);
  const r = q.post(hdr(T_IN, 0), 512, 1);
  q.kick();
  assert.deepEqual(q.takeUsed().map((u) => u.len), [1, 513]);
  assert.deepEqual([...h.bytes(w.bufs[2]!)], [S_IOERR]);
  assert.deepEqual(image, before);
  assert.deepEqual(h.bytes(r.bufs[1]!), pattern(512, 4));
});

test("writes fail on a read-only disk even when the driver did not accept VIRTIO_BLK_F_RO", () => {
  const image = new Uint8Array(16 * 512);
  const dev = new VirtioBlk({ backend: new MemoryBlockBackend(image, { readonly: true }), queueSize: 16 });
  const h = new Harness(dev, dev.features & ~bit(5)).activate();
  const w = h.drivers[0]!.post(hdr(T_OUT, 0), pattern(512, 1), 1);
  h.drivers[0]!.kick();
  assert.deepEqual([...h.bytes(w.bufs[2]!)], [S_IOERR]);
  assert.ok(image.every((b) => b === 0));
});

test("malformed requests complete with IOERR or UNSUPP and never touch the image", () => {
  const { image, h, q } = setup(16);
  const short = q.post(hdr(T_OUT, 0).subarray(0, 8), 1); // header shorter than 16 bytes
  const odd = q.post(hdr(T_OUT, 0), pattern(100, 1), 1); // data not whole sectors
  const oddIn = q.post(hdr(T_IN, 0), 100, 1);
  const unknown = q.post(hdr(T_SECURE_ERASE, 0), new Uint8Array(16), 1); // not offered
  const scsi = q.post(hdr(2, 0), 1); // legacy SCSI_CMD
  const barrier = q.post(hdr(0x8000_0001, 0), pattern(512, 1), 1); // legacy BARRIER | OUT
  const flushData = q.post(hdr(T_FLUSH), pattern(512, 1), 1); // FLUSH carries no data
  const writeWithIn = q.post(hdr(T_OUT, 0), pattern(512, 1), 512, 1); // OUT with writable data
  q.kick();
  assert.equal(q.takeUsed().length, 8);
  const status = (c: { bufs: { addr: number; len: number; writable: boolean }[] }) => h.bytes(c.bufs[c.bufs.length - 1]!).at(-1);
  assert.equal(status(short), S_IOERR);
  assert.equal(status(odd), S_IOERR);
  assert.equal(status(oddIn), S_IOERR);
  assert.equal(status(unknown), S_UNSUPP);
  assert.equal(status(scsi), S_UNSUPP);
  assert.equal(status(barrier), S_UNSUPP);
  assert.equal(status(flushData), S_IOERR);
  assert.equal(status(writeWithIn), S_IOERR);
  assert.ok(image.every((b) => b === 0));
  assert.deepEqual(h.resetReasons, []);
});

test("a request without a writable status byte asks for a device reset and writes nothing", () => {
  const { image, h, q } = setup(16);
  q.post(hdr(T_OUT, 0), pattern(512, 1), new Uint8Array([0xcc])); // "status" is device-readable
  q.kick();
  assert.equal(h.resetReasons.length, 1);
  assert.match(h.resetReasons[0]!, /status/);
  assert.ok(image.every((b) => b === 0));
});

test("a batch of requests is published with one used-index update and one interrupt", () => {
  const { h, q } = setup(16);
  const ids = [0, 1, 2, 3].map((i) => q.post(hdr(T_OUT, i), pattern(512, i), 1).id);
  q.kick();
  assert.equal(q.usedIdx(), 4);
  assert.equal(h.interrupts[0], 1);
  assert.deepEqual(q.takeUsed().map((u) => u.id), ids);
  // A kick with nothing new publishes nothing and raises nothing.
  q.kick();
  assert.equal(h.interrupts[0], 1);
  // And the device wants kicks again (VIRTQ_USED_F_NO_NOTIFY clear, §2.7.10): no lost wake-up.
  assert.equal(h.mem.u16(q.used) & 1, 0);
});

test("an asynchronous flush completes when the backend settles, in order, and not after a reset", async () => {
  const image = new Uint8Array(16 * 512);
  const mem = new MemoryBlockBackend(image);
  const pending: { resolve(): void; reject(e: Error): void }[] = [];
  const backend: BlockBackend = {
    size: mem.size, readonly: false, id: "async",
    read: (o, d) => mem.read(o, d),
    write: (o, s) => mem.write(o, s),
    flush: () => new Promise<void>((resolve, reject) => void pending.push({ resolve, reject })),
  };
  const dev = new VirtioBlk({ backend, queueSize: 16 });
  const h = new Harness(dev).activate();
  const q = h.drivers[0]!;
  const f1 = q.post(hdr(T_FLUSH), 1);
  const f2 = q.post(hdr(T_FLUSH), 1);
  const w = q.post(hdr(T_OUT, 1), pattern(512, 1), 1);
  q.kick();
  // The write completes at once; the flushes wait, and only one is issued to the backend.
  assert.deepEqual(q.takeUsed().map((u) => u.id), [w.id]);
  assert.equal(pending.length, 1);
  pending[0]!.resolve();
  await Promise.resolve();
  dev.poll();
  assert.deepEqual(q.takeUsed(), [{ id: f1.id, len: 1 }]);
  assert.deepEqual([...h.bytes(f1.bufs[1]!)], [S_OK]);
  assert.equal(pending.length, 2); // the second flush started after the first settled
  pending[1]!.reject(new Error("quota exceeded"));
  await Promise.resolve();
  dev.poll();
  assert.deepEqual(q.takeUsed(), [{ id: f2.id, len: 1 }]);
  assert.deepEqual([...h.bytes(f2.bufs[1]!)], [S_IOERR]);
  assert.equal(h.interrupts[0], 3);

  // A flush still pending at reset is dropped with the rest of the device state.
  const f3 = q.post(hdr(T_FLUSH), 1);
  q.kick();
  dev.reset();
  pending[2]!.resolve();
  await Promise.resolve();
  dev.poll();
  assert.deepEqual(q.takeUsed(), []);
  assert.deepEqual([...h.bytes(f3.bufs[1]!)], [0xcc]);
});

test("a host I/O error on read or write completes the request with IOERR", () => {
  const image = new Uint8Array(16 * 512);
  const backend: BlockBackend = {
    size: image.length, readonly: false, id: "bad",
    read: () => { throw new Error("EIO"); },
    write: () => { throw new Error("EIO"); },
    flush: () => { throw new Error("EIO"); },
  };
  const h = new Harness(new VirtioBlk({ backend, queueSize: 16 })).activate();
  const q = h.drivers[0]!;
  const r = q.post(hdr(T_IN, 0), 512, 1);
  const w = q.post(hdr(T_OUT, 0), pattern(512, 1), 1);
  const f = q.post(hdr(T_FLUSH), 1);
  q.kick();
  assert.equal(q.takeUsed().length, 3);
  for (const c of [r, w, f]) assert.equal(h.bytes(c.bufs.at(-1)!)[0], S_IOERR);
  assert.ok(h.logs.some((l) => /EIO/.test(l)));
});

function ranges(...rs: [sector: number, count: number, flags: number][]): Uint8Array {
  const b = new Uint8Array(16 * rs.length);
  const dv = new DataView(b.buffer);
  rs.forEach(([sector, count, flags], i) => {
    dv.setBigUint64(16 * i, BigInt(sector), true);
    dv.setUint32(16 * i + 8, count, true);
    dv.setUint32(16 * i + 12, flags, true);
  });
  return b;
}

test("WRITE_ZEROES zeroes every range, with or without UNMAP, and nothing else", () => {
  const { image, h, q } = setup(32);
  image.fill(0xaa);
  const z = q.post(hdr(T_WRITE_ZEROES), ranges([2, 3, 0], [10, 1, 1]), 1);
  q.kick();
  assert.deepEqual(q.takeUsed(), [{ id: z.id, len: 1 }]);
  assert.deepEqual([...h.bytes(z.bufs[2]!)], [S_OK]);
  const zero = (s: number, n: number) => image.subarray(s * 512, (s + n) * 512).every((b) => b === 0);
  const aa = (s: number, n: number) => image.subarray(s * 512, (s + n) * 512).every((b) => b === 0xaa);
  assert.ok(zero(2, 3) && zero(10, 1));
  assert.ok(aa(0, 2) && aa(5, 5) && aa(11, 21));
});

test("DISCARD of valid ranges succeeds and may leave the data (the device never deallocates)", () => {
  const { image, h, q } = setup(32);
  image.fill(0xaa);
  const d = q.post(hdr(T_DISCARD), ranges([0, 8, 0], [16, 16, 0]), 1);
  q.kick();
  assert.deepEqual([...h.bytes(d.bufs[2]!)], [S_OK]);
  assert.ok(image.every((b) => b === 0xaa));
});

test("DISCARD and WRITE_ZEROES check every range first: bad flags UNSUPP, bad ranges IOERR, image untouched", () => {
  const { image, h, q } = setup(32);
  image.fill(0xaa);
  const st = (c: { bufs: { addr: number; len: number; writable: boolean }[] }) => h.bytes(c.bufs.at(-1)!)[0];
  const cases: [Uint8Array, Uint8Array, number][] = [
    [hdr(T_DISCARD), ranges([0, 1, 1]), S_UNSUPP], // UNMAP on a discard (§5.2.6.2)
    [hdr(T_WRITE_ZEROES), ranges([0, 1, 2]), S_UNSUPP], // a reserved flag bit
    [hdr(T_WRITE_ZEROES), ranges([0, 1, 0], [31, 2, 0]), S_IOERR], // the second range leaves the disk
    [hdr(T_WRITE_ZEROES), ranges([0, 8193, 0]), S_IOERR], // over max_write_zeroes_sectors
    [hdr(T_WRITE_ZEROES), ranges(...Array.from({ length: 9 }, (_, i): [number, number, number] => [i, 1, 0])), S_IOERR], // over max_write_zeroes_seg
    [hdr(T_WRITE_ZEROES), ranges([0, 1, 0]).subarray(0, 12), S_IOERR], // a partial range
    [hdr(T_WRITE_ZEROES), new Uint8Array(0), S_IOERR], // no range at all
  ];
  const posted = cases.map(([h0, data]) => q.post(h0, data, 1));
  q.kick();
  assert.equal(q.takeUsed().length, cases.length);
  posted.forEach((c, i) => assert.equal(st(c), cases[i]![2], `case ${i}`));
  assert.ok(image.every((b) => b === 0xaa));
});

test("a read-only disk answers DISCARD and WRITE_ZEROES with UNSUPP (not offered)", () => {
  const { image, h, q } = setup(16, { readonly: true });
  const z = q.post(hdr(T_WRITE_ZEROES), ranges([0, 1, 0]), 1);
  const d = q.post(hdr(T_DISCARD), ranges([0, 1, 0]), 1);
  image.fill(0xaa);
  q.kick();
  assert.equal(h.bytes(z.bufs[2]!)[0], S_UNSUPP);
  assert.equal(h.bytes(d.bufs[2]!)[0], S_UNSUPP);
  assert.ok(image.every((b) => b === 0xaa));
});

test("overlapping writes in one batch apply whole and in ring order (no torn or reordered write)", () => {
  const { image, q } = setup(16);
  q.post(hdr(T_OUT, 1), new Uint8Array(1024).fill(1), 1); // sectors 1–2
  q.post(hdr(T_OUT, 2), new Uint8Array(256).fill(2), new Uint8Array(256).fill(3), 1); // sector 2
  q.kick();
  assert.ok(image.subarray(512, 1024).every((b) => b === 1));
  assert.ok(image.subarray(1024, 1280).every((b) => b === 2));
  assert.ok(image.subarray(1280, 1536).every((b) => b === 3));
});

test("a disk image file behind virtio-blk: writes reach the file, FLUSH fsyncs, GET_ID is the file name", () => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-vblk-"));
  try {
    const path = join(dir, "root.img");
    writeFileSync(path, new Uint8Array(8 * 512));
    const backend = new NodeFileBlockBackend(path);
    const h = new Harness(new VirtioBlk({ backend, queueSize: 16 })).activate();
    const q = h.drivers[0]!;
    const w = q.post(hdr(T_OUT, 7), pattern(512, 5), 1);
    const f = q.post(hdr(T_FLUSH), 1);
    const g = q.post(hdr(T_GET_ID), 20, 1);
    const r = q.post(hdr(T_IN, 7), 512, 1);
    q.kick();
    for (const c of [w, f, g, r]) assert.equal(h.bytes(c.bufs.at(-1)!)[0], S_OK);
    assert.equal(new TextDecoder().decode(h.bytes(g.bufs[1]!)).replace(/\0+$/, ""), "root.img");
    assert.deepEqual(h.bytes(r.bufs[1]!), pattern(512, 5));
    backend.close();
    assert.deepEqual(new Uint8Array(readFileSync(path)).subarray(7 * 512), pattern(512, 5));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
