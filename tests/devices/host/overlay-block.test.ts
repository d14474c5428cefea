// The copy-on-write overlay (devices/host/overlay-block.ts) over an in-memory store whose
// commits can be held, failed and inspected; then the same overlay under virtio-blk, where a
// failed commit must reach the guest as VIRTIO_BLK_S_IOERR.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OverlayBlockBackend, mergeOverlay, type OverlayStore } from "../../../devices/host/overlay-block.ts";
import { VirtioBlk } from "../../../devices/virtio/blk.ts";
import { Harness } from "../virtio/device-harness.ts";

const B = 4096;

/** A store in a Map: commits are recorded, and fail while `failing` is set or `failNext` > 0. */
class MapStore implements OverlayStore {
  readonly saved = new Map<number, Uint8Array>();
  readonly commits: number[][] = [];
  failing = false;
  failNext = 0;

  async load(): Promise<Map<number, Uint8Array>> {
    return new Map([...this.saved].map(([i, b]) => [i, b.slice()]));
  }

  async commit(blocks: ReadonlyMap<number, Uint8Array>): Promise<void> {
    await new Promise((r) => setTimeout(r, 1)); // settle on a later macrotask, as IndexedDB does
    if (this.failing || this.failNext-- > 0) throw new Error("quota exceeded");
    this.commits.push([...blocks.keys()].sort((a, b) => a - b));
    for (const [i, b] of blocks) this.saved.set(i, b.slice());
  }
}

/** A base whose every byte says where it is (so a wrong offset shows). */
function baseImage(bytes: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => (i * 13 + (i >> 9)) & 0xff);
}

function readAll(d: OverlayBlockBackend, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  d.read(offset, out);
  return out;
}

test("a partial-block write keeps the block's other base bytes, and the base is never written", () => {
  const base = baseImage(4 * B);
  const pristine = base.slice();
  const d = new OverlayBlockBackend(base, new MapStore());
  d.write(B + 100, new Uint8Array([1, 2, 3]));
  assert.deepEqual(base, pristine);
  const expect = pristine.slice();
  expect.set([1, 2, 3], B + 100);
  assert.deepEqual(readAll(d, 0, 4 * B), expect);
  assert.equal(d.changedBlocks, 1);
  assert.equal(d.dirtyBlocks, 1);
});

test("reads and writes that span blocks mix base and overlay bytes at the right offsets", () => {
  const base = baseImage(8 * B);
  const d = new OverlayBlockBackend(base, new MapStore());
  const expect = base.slice();
  // 3 blocks' worth, starting 512 bytes before a boundary: touches blocks 2, 3, 4, 5.
  const w = Uint8Array.from({ length: 3 * B }, (_, i) => (i * 7 + 1) & 0xff);
  d.write(3 * B - 512, w);
  expect.set(w, 3 * B - 512);
  assert.equal(d.changedBlocks, 4);
  // A read from the base-only block 1 through the overlay blocks into the base-only block 6.
  assert.deepEqual(readAll(d, B + 17, 6 * B - 34), expect.subarray(B + 17, 7 * B - 17));
  assert.deepEqual(readAll(d, 0, 8 * B), expect);
});

test("flush commits exactly the dirty blocks, once; a flush with nothing dirty completes at once", async () => {
  const store = new MapStore();
  const d = new OverlayBlockBackend(baseImage(16 * B), store);
  assert.equal(d.flush(), undefined);
  d.write(5 * B + 8, new Uint8Array(8).fill(0xaa));
  d.write(2 * B, new Uint8Array(B).fill(0xbb));
  d.write(5 * B, new Uint8Array(4).fill(0xcc)); // block 5 again: one record
  await d.flush();
  assert.deepEqual(store.commits, [[2, 5]]);
  assert.equal(d.dirtyBlocks, 0);
  assert.equal(d.flush(), undefined);
  d.write(9 * B, new Uint8Array(1).fill(1));
  await d.flush();
  assert.deepEqual(store.commits, [[2, 5], [9]]);
  assert.deepEqual(store.saved.get(5)!.subarray(0, 16), Uint8Array.from([0xcc, 0xcc, 0xcc, 0xcc, ...baseImage(16 * B).subarray(5 * B + 4, 5 * B + 8), ...new Array(8).fill(0xaa)]));
});

test("a flush commits the block as it was at flush time, not a later write's bytes", async () => {
  const store = new MapStore();
  const d = new OverlayBlockBackend(new Uint8Array(4 * B), store);
  d.write(0, new Uint8Array([1]));
  const p = d.flush();
  d.write(0, new Uint8Array([2])); // lands while the store works
  await p;
  assert.equal(store.saved.get(0)![0], 1);
  assert.equal(d.dirtyBlocks, 1);
  await d.flush();
  assert.equal(store.saved.get(0)![0], 2);
});

test("a failed commit rejects the flush and keeps the blocks dirty for the next flush", async () => {
  const store = new MapStore();
  const d = new OverlayBlockBackend(new Uint8Array(4 * B), store);
  d.write(B, new Uint8Array([7]));
  store.failing = true;
  await assert.rejects(Promise.resolve(d.flush()), /quota exceeded/);
  assert.equal(store.saved.size, 0);
  assert.equal(d.dirtyBlocks, 1);
  store.failing = false;
  await d.flush();
  assert.deepEqual(store.commits, [[1]]);
});

test("a flush issued while an earlier one fails fails too: it vouches for the earlier writes", async () => {
  const store = new MapStore();
  const d = new OverlayBlockBackend(new Uint8Array(4 * B), store);
  d.write(0, new Uint8Array([1]));
  store.failNext = 1; // only the first commit fails
  const first = Promise.resolve(d.flush());
  d.write(2 * B, new Uint8Array([2]));
  const second = Promise.resolve(d.flush());
  await assert.rejects(first);
  await assert.rejects(second);
  assert.equal(d.dirtyBlocks, 2);
  await d.flush();
  assert.deepEqual(store.commits, [[0, 2]]);
});

test("reopening from the store sees the flushed writes, not the unflushed ones", async () => {
  const store = new MapStore();
  const base = baseImage(8 * B);
  const d = new OverlayBlockBackend(base, store);
  d.write(3 * B - 2, new Uint8Array([9, 9, 9, 9]));
  await d.flush();
  d.write(7 * B, new Uint8Array([5])); // never flushed: lost, as on a power cut
  const again = await OverlayBlockBackend.open(base, store);
  const expect = base.slice();
  expect.set([9, 9, 9, 9], 3 * B - 2);
  assert.deepEqual(readAll(again, 0, 8 * B), expect);
  assert.equal(again.changedBlocks, 2);
  assert.equal(again.dirtyBlocks, 0);
  assert.deepEqual(mergeOverlay(base, await store.load()), expect);
});

test("a base that is not a whole number of blocks has a short last block", async () => {
  const store = new MapStore();
  const base = baseImage(B + 1024);
  const d = new OverlayBlockBackend(base, store);
  d.write(B + 1000, new Uint8Array(24).fill(3));
  await d.flush();
  assert.equal(store.saved.get(1)!.length, 1024);
  assert.throws(() => d.write(B + 1020, new Uint8Array(8)), RangeError); // past the end
  assert.throws(() => d.read(-512, new Uint8Array(512)), RangeError);
  const again = await OverlayBlockBackend.open(base, store);
  assert.deepEqual(readAll(again, B + 1000, 24), new Uint8Array(24).fill(3));
});

test("stored blocks that do not fit the base are skipped and reported", () => {
  const logs: string[] = [];
  const stored = new Map<number, Uint8Array>([[0, new Uint8Array(B).fill(1)], [1, new Uint8Array(100)], [99, new Uint8Array(B)], [-1, new Uint8Array(B)]]);
  const d = new OverlayBlockBackend(new Uint8Array(2 * B), new MapStore(), stored, { log: (m) => logs.push(m) });
  assert.equal(d.changedBlocks, 1);
  assert.equal(readAll(d, 0, 1)[0], 1);
  assert.match(logs.join("\n"), /skipped 3 stored block/);
});

test("a read-only overlay refuses writes", () => {
  const d = new OverlayBlockBackend(new Uint8Array(B), new MapStore(), new Map(), { readonly: true });
  assert.throws(() => d.write(0, new Uint8Array(1)));
});

// Under virtio-blk: OUT + FLUSH with a store that fails → IOERR; then a good flush → OK.
function hdr(type: number, sector = 0): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, true);
  dv.setBigUint64(8, BigInt(sector), true);
  return b;
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 5));
}

test("under virtio-blk a failed commit completes FLUSH with IOERR, and a later one with OK", async () => {
  const store = new MapStore();
  const d = new OverlayBlockBackend(new Uint8Array(64 * 512), store);
  const dev = new VirtioBlk({ backend: d, queueSize: 16 });
  const h = new Harness(dev).activate();
  const q = h.drivers[0]!;
  const w = q.post(hdr(1, 9), new Uint8Array(512).fill(0x5a), 1);
  const f = q.post(hdr(4), 1);
  store.failing = true;
  q.kick();
  assert.deepEqual(q.takeUsed().map((u) => u.id), [w.id]); // the write at once, the flush later
  assert.deepEqual(dev.stats().flushesPending, 1);
  await settle();
  dev.poll();
  assert.deepEqual(q.takeUsed(), [{ id: f.id, len: 1 }]);
  assert.equal(h.bytes(f.bufs[1]!)[0], 1); // VIRTIO_BLK_S_IOERR
  assert.ok(h.logs.some((l) => /quota exceeded/.test(l)));

  store.failing = false;
  const f2 = q.post(hdr(4), 1);
  q.kick();
  await settle();
  dev.poll();
  assert.deepEqual(q.takeUsed(), [{ id: f2.id, len: 1 }]);
  assert.equal(h.bytes(f2.bufs[1]!)[0], 0); // VIRTIO_BLK_S_OK
  assert.deepEqual(store.commits, [[1]]); // sector 9 lies in block 1
  assert.equal(store.saved.get(1)![512], 0x5a);
});
