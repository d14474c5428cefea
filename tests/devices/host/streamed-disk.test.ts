// The streamed disk (devices/host/streamed-disk.ts) against a local HTTP server: byte ranges as
// RFC 9110 §14 defines them (206, Content-Range "bytes first-last/complete-length"), and servers
// that get them wrong. Expected bytes and hashes come from the test's own image and node:crypto.
// Then the same disk under virtio-blk with a copy-on-write overlay, as the page runs it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { StreamedDisk, StreamError } from "../../../devices/host/streamed-disk.ts";
import { MemoryChunkCache, type ChunkCache } from "../../../devices/host/chunk-cache.ts";
import { MANIFEST_FORMAT, ManifestError, makeManifest, parseManifest, type DiskManifest } from "../../../devices/host/disk-manifest.ts";
import { OverlayBlockBackend, type OverlayStore } from "../../../devices/host/overlay-block.ts";
import { VirtioBlk } from "../../../devices/virtio/blk.ts";
import { Harness } from "../virtio/device-harness.ts";
import { diskId } from "../../../devices/state/digest.ts";

const CHUNK = 16 << 10;

/** Every byte says where it is, so a chunk served from the wrong offset shows. */
function image(bytes: number, seed = 0): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + (i >> 11) + seed) & 0xff;
  return out;
}

/** The manifest computed here, with node:crypto, not by the code under test. */
function manifestOf(img: Uint8Array, chunkSize = CHUNK): DiskManifest {
  const chunks: string[] = [];
  for (let at = 0; at < img.length; at += chunkSize) chunks.push(createHash("sha256").update(img.subarray(at, at + chunkSize)).digest("hex"));
  return { format: MANIFEST_FORMAT, size: img.length, chunkSize, chunks };
}

type Mode = "ranges" | "no-ranges" | "longer" | "shorter" | "wrong-total" | "wrong-start" | "flaky";

/** A server of one image at /disk.img (and its manifest), recording each request's Range. */
class ImageServer {
  readonly ranges: string[] = [];
  mode: Mode = "ranges";
  /** Bytes written to answers (a client that aborts stops this short). */
  sent = 0;
  /** > 0: range answers wait until this many requests are waiting (requests made one after another never get one). */
  hold = 0;
  private held: (() => void)[] = [];
  private readonly server = createServer((req, res) => this.serve(req, res));
  origin = "";

  constructor(public img: Uint8Array, public manifest: DiskManifest = manifestOf(img)) {}

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get manifestUrl(): string {
    return `${this.origin}/disk.img.manifest.json`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== "GET") return void res.writeHead(405).end();
    if (req.url === "/disk.img.manifest.json") return void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(this.manifest));
    if (req.url !== "/disk.img") return void res.writeHead(404).end();
    const range = req.headers.range;
    this.ranges.push(range ?? "");
    const m = /^bytes=(\d+)-(\d+)$/.exec(range ?? "");
    if (this.mode === "no-ranges" || !m) return this.whole(res);
    if (this.hold > 0) {
      this.held.push(() => this.answer(res, m));
      if (this.held.length >= this.hold) for (const go of this.held.splice(0)) go();
      return;
    }
    this.answer(res, m);
  }

  private answer(res: ServerResponse, m: RegExpExecArray): void {
    let first = Number(m[1]), last = Math.min(Number(m[2]), this.img.length - 1);
    if (this.mode === "flaky" && this.ranges.length % 2 === 0) return void res.destroy(); // every other connection drops
    let body = this.img.subarray(first, last + 1);
    let total = this.img.length;
    if (this.mode === "longer") body = this.img.subarray(first, last + 2);
    if (this.mode === "shorter") body = body.subarray(0, body.length - 1);
    if (this.mode === "wrong-total") total += 512;
    if (this.mode === "wrong-start") first += 512, last += 512;
    // The header keeps what was asked (or the wrong start): the body's length is the lie.
    res.writeHead(206, { "Content-Range": `bytes ${first}-${last}/${total}`, "Content-Length": String(body.length) });
    this.sent += body.length;
    res.end(body);
  }

  /** The whole file, written as the client takes it (so an abort stops it). */
  private whole(res: ServerResponse): void {
    res.writeHead(200, { "Content-Length": String(this.img.length) });
    let at = 0;
    const more = () => {
      while (at < this.img.length) {
        const piece = this.img.subarray(at, at + 65536);
        at += piece.length;
        this.sent += piece.length;
        if (!res.write(piece)) return void res.once("drain", more);
      }
      res.end();
    };
    res.on("close", () => (at = this.img.length));
    more();
  }
}

const servers: ImageServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function serve(img: Uint8Array, manifest?: DiskManifest): Promise<ImageServer> {
  const s = await new ImageServer(img, manifest).start();
  servers.push(s);
  return s;
}

/** Read through prepare() then read(), as virtio-blk does. */
async function readDisk(d: StreamedDisk, offset: number, length: number): Promise<Uint8Array> {
  await d.prepare(offset, length);
  const out = new Uint8Array(length);
  d.read(offset, out);
  return out;
}

test("reads fetch only the chunks they touch, with Range requests, and return the image's bytes", async () => {
  const img = image(64 * CHUNK);
  const s = await serve(img);
  const d = await StreamedDisk.open(s.manifestUrl);
  assert.deepEqual(s.ranges, [`bytes=${img.length - 1}-${img.length - 1}`]); // the probe: ranges served, the size right
  s.ranges.length = 0;
  // 3 KiB across the boundary of chunks 5 and 6.
  assert.deepEqual(await readDisk(d, 6 * CHUNK - 1024, 3072), img.subarray(6 * CHUNK - 1024, 6 * CHUNK + 2048));
  assert.deepEqual(s.ranges.sort(), [`bytes=${5 * CHUNK}-${6 * CHUNK - 1}`, `bytes=${6 * CHUNK}-${7 * CHUNK - 1}`].sort());
  // Already here: no request, and prepare says so.
  assert.equal(d.prepare(5 * CHUNK, 512), undefined);
  assert.deepEqual(await readDisk(d, 5 * CHUNK, 512), img.subarray(5 * CHUNK, 5 * CHUNK + 512));
  assert.equal(s.ranges.length, 2);
  assert.equal(d.progress.fetchedChunks, 2);
  assert.equal(d.progress.fetchedBytes, 2 * CHUNK);
  // Reading beyond the end is refused without a request.
  assert.equal(d.prepare(img.length - 512, 1024), undefined);
  assert.throws(() => d.read(img.length - 512, new Uint8Array(1024)), RangeError);
  assert.equal(s.ranges.length, 2);
});

test("a second disk over the same cache reads from it: no request for a chunk fetched before", async () => {
  const img = image(32 * CHUNK, 7);
  const s = await serve(img);
  const cache = new MemoryChunkCache();
  const first = await StreamedDisk.open(s.manifestUrl, { cache });
  assert.deepEqual(await readDisk(first, 0, 4 * CHUNK), img.subarray(0, 4 * CHUNK));
  await new Promise((r) => setTimeout(r, 10)); // the cache's puts are not awaited by the read
  const fetched = s.ranges.length;
  const second = await StreamedDisk.open(s.manifestUrl, { cache });
  assert.deepEqual(await readDisk(second, CHUNK, 2 * CHUNK), img.subarray(CHUNK, 3 * CHUNK));
  assert.equal(s.ranges.length, fetched + 1, "only the second disk's probe went to the server");
  assert.deepEqual(second.progress, { size: img.length, fetchedBytes: 0, fetchedChunks: 0, cacheHits: 2, failures: 0 });
});

test("a damaged cache entry is fetched again, never handed to the guest", async () => {
  const img = image(8 * CHUNK, 3);
  const s = await serve(img);
  const m = manifestOf(img);
  const stored = new Map<string, Uint8Array>([[m.chunks[2]!, new Uint8Array(CHUNK).fill(0xee)]]);
  const logs: string[] = [];
  const cache: ChunkCache = { kind: "test", get: async (h) => stored.get(h), put: async (h, b) => void stored.set(h, b.slice()) };
  const d = await StreamedDisk.open(s.manifestUrl, { cache, log: (l) => logs.push(l) });
  assert.deepEqual(await readDisk(d, 2 * CHUNK, CHUNK), img.subarray(2 * CHUNK, 3 * CHUNK));
  assert.equal(d.progress.fetchedChunks, 1);
  assert.match(logs.join("\n"), /damaged chunk in the test cache/);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(stored.get(m.chunks[2]!), img.subarray(2 * CHUNK, 3 * CHUNK), "the good bytes replace the damaged entry");
});

test("a server without range support is refused at open, without downloading the image", async () => {
  const img = image(2048 * CHUNK); // 32 MiB
  const s = await serve(img);
  s.mode = "no-ranges";
  await assert.rejects(StreamedDisk.open(s.manifestUrl), (e: Error) => e instanceof StreamError && /ignored the Range request \(HTTP 200/.test(e.message));
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(s.sent < img.length / 2, `the body was cut off (${s.sent} of ${img.length} bytes sent)`);
});

test("a server whose image has another size than the manifest is refused at open", async () => {
  const img = image(16 * CHUNK);
  const s = await serve(img);
  s.mode = "wrong-total";
  await assert.rejects(StreamedDisk.open(s.manifestUrl), new RegExp(`the server's image is ${img.length + 512} bytes, the manifest says ${img.length}`));
});

for (const [mode, message] of [
  ["longer", /sent more than the \d+ bytes asked for/],
  ["shorter", /sent \d+ of the \d+ bytes asked for|terminated|other side closed/],
  ["wrong-start", /asked for bytes \d+–\d+, the server sent/],
] as const) {
  test(`a server that answers a range wrongly (${mode}) fails the read with a clear error`, async () => {
    const img = image(16 * CHUNK);
    const s = await serve(img);
    const logs: string[] = [];
    const d = await StreamedDisk.open(s.manifestUrl, { log: (l) => logs.push(l) });
    s.mode = mode;
    await d.prepare(4 * CHUNK, 512);
    assert.throws(() => d.read(4 * CHUNK, new Uint8Array(512)), message);
    assert.equal(d.progress.failures, 1);
    assert.equal(d.progress.fetchedChunks, 0);
  });
}

test("bytes that do not match the manifest's hash (a changed image) fail the read; the disk says why once", async () => {
  const img = image(16 * CHUNK);
  const changed = img.slice();
  changed[9 * CHUNK + 5]! ^= 1;
  const s = await serve(changed, manifestOf(img));
  const logs: string[] = [];
  const d = await StreamedDisk.open(s.manifestUrl, { log: (l) => logs.push(l) });
  assert.deepEqual(await readDisk(d, 8 * CHUNK, 512), img.subarray(8 * CHUNK, 8 * CHUNK + 512)); // an unchanged chunk reads
  await d.prepare(9 * CHUNK, 512);
  assert.throws(() => d.read(9 * CHUNK, new Uint8Array(512)), /do not match the manifest's SHA-256/);
  // The server is not trusted again: a later chunk fails at once, without a request.
  const before = s.ranges.length;
  await d.prepare(12 * CHUNK, 512);
  assert.throws(() => d.read(12 * CHUNK, new Uint8Array(512)), /do not match the manifest's SHA-256/);
  assert.equal(s.ranges.length, before);
  assert.equal(logs.filter((l) => /SHA-256/.test(l)).length, 1);
});

test("a dropped connection is retried once", async () => {
  const img = image(16 * CHUNK, 1);
  const s = await serve(img);
  const d = await StreamedDisk.open(s.manifestUrl);
  s.mode = "flaky";
  assert.deepEqual(await readDisk(d, 3 * CHUNK, CHUNK), img.subarray(3 * CHUNK, 4 * CHUNK));
  assert.equal(s.ranges.length, 3); // probe, the dropped one, the retry
});

test("the manifest is checked before use: format, size, chunk size and count, hashes", async () => {
  const good = manifestOf(image(4 * CHUNK));
  const bad = (patch: object) => JSON.stringify({ ...good, ...patch });
  assert.deepEqual(parseManifest(JSON.stringify(good), "m"), good);
  assert.throws(() => parseManifest("{", "m"), ManifestError);
  assert.throws(() => parseManifest(bad({ format: "x" }), "m"), /not a disk manifest/);
  assert.throws(() => parseManifest(bad({ size: good.size + 1 }), "m"), /whole number of 512-byte sectors/);
  assert.throws(() => parseManifest(bad({ size: 2 ** 53 }), "m"), /whole number/);
  assert.throws(() => parseManifest(bad({ chunkSize: 3000 }), "m"), /power of two/);
  assert.throws(() => parseManifest(bad({ chunks: good.chunks.slice(1) }), "m"), /3 chunk hashes for 4 chunks/);
  assert.throws(() => parseManifest(bad({ chunks: [...good.chunks.slice(1), "zz"] }), "m"), /chunk 3's hash/);
  // makeManifest agrees with node:crypto.
  const img = image(5 * CHUNK + 512, 9);
  assert.deepEqual(await makeManifest(img.length, (o, d) => d.set(img.subarray(o, o + d.length)), CHUNK), manifestOf(img));
});

/** An overlay store in memory (the page's is IndexedDB). */
const memoryStore = (): OverlayStore & { saved: Map<number, Uint8Array> } => {
  const saved = new Map<number, Uint8Array>();
  return { saved, load: async () => new Map(saved), commit: async (b) => void b.forEach((v, k) => saved.set(k, v.slice())) };
};

const T_IN = 0, T_OUT = 1, S_OK = 0, S_IOERR = 1;
function hdr(type: number, sector: number): Uint8Array {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(0, type, true);
  new DataView(b.buffer).setBigUint64(8, BigInt(sector), true);
  return b;
}

test("under virtio-blk: a read waits for its chunks while the queue is parked, then completes; writes stay in the overlay", async () => {
  const img = image(32 * CHUNK, 5);
  const s = await serve(img);
  const disk = await StreamedDisk.open(s.manifestUrl);
  const overlay = await OverlayBlockBackend.open(disk, memoryStore());
  const dev = new VirtioBlk({ backend: overlay, queueSize: 16 });
  const h = new Harness(dev).activate();
  const q = h.drivers[0]!;
  const serveHost = async () => {
    for (let io = dev.hostIo(); io; io = dev.hostIo()) {
      await io;
      dev.poll();
    }
  };

  // A read of chunk 3, then a write behind it: both wait, in order, for the fetch.
  const r = q.post(hdr(T_IN, (3 * CHUNK) / 512), 4096, 1);
  const w = q.post(hdr(T_OUT, (3 * CHUNK) / 512 + 1), new Uint8Array(512).fill(0xab), 1);
  q.kick();
  assert.deepEqual(q.takeUsed(), []);
  assert.notEqual(dev.hostIo(), null);
  await serveHost();
  assert.deepEqual(q.takeUsed().map((u) => u.id), [r.id, w.id]);
  assert.deepEqual(h.bytes(r.bufs[1]!), img.subarray(3 * CHUNK, 3 * CHUNK + 4096), "the read saw the bytes before the write");
  assert.equal(h.bytes(r.bufs[2]!)[0], S_OK);
  assert.equal(h.bytes(w.bufs[2]!)[0], S_OK);

  // A whole-block write needs no fetch; a partial one into a chunk not here fetches it first.
  const fetched = s.ranges.length;
  const whole = q.post(hdr(T_OUT, (20 * CHUNK) / 512), new Uint8Array(4096).fill(1), 1);
  q.kick();
  assert.deepEqual(q.takeUsed().map((u) => u.id), [whole.id]);
  assert.equal(s.ranges.length, fetched);
  const part = q.post(hdr(T_OUT, (24 * CHUNK) / 512 + 3), new Uint8Array(512).fill(2), 1);
  q.kick();
  await serveHost();
  assert.deepEqual(q.takeUsed().map((u) => u.id), [part.id]);
  assert.equal(s.ranges.length, fetched + 1);

  // Read back: the overlay's bytes over the image's.
  const back = q.post(hdr(T_IN, (24 * CHUNK) / 512), 4096, 1);
  q.kick();
  await serveHost();
  const expect = img.slice(24 * CHUNK, 24 * CHUNK + 4096);
  expect.fill(2, 3 * 512, 4 * 512);
  assert.deepEqual(q.takeUsed().map((u) => u.id), [back.id]);
  assert.deepEqual(h.bytes(back.bufs[1]!), expect);
  assert.ok(s.ranges.every((r) => /^bytes=\d+-\d+$/.test(r)), "only GETs of ranges reached the server");

  // The server starts failing: the guest's read ends with IOERR, the device serves on.
  s.mode = "longer";
  const bad = q.post(hdr(T_IN, (30 * CHUNK) / 512), 512, 1);
  const good = q.post(hdr(T_IN, (3 * CHUNK) / 512), 512, 1);
  q.kick();
  await serveHost();
  assert.deepEqual(q.takeUsed().map((u) => u.id), [bad.id, good.id]);
  assert.equal(h.bytes(bad.bufs[2]!)[0], S_IOERR);
  assert.equal(h.bytes(good.bufs[2]!)[0], S_OK);
  assert.ok(h.logs.some((l) => /sent more than/.test(l)));
});

test("a reset drops the requests parked for the host; their fetch completes nothing", async () => {
  const img = image(16 * CHUNK, 2);
  const s = await serve(img);
  const disk = await StreamedDisk.open(s.manifestUrl);
  const dev = new VirtioBlk({ backend: await OverlayBlockBackend.open(disk, memoryStore()), queueSize: 16 });
  const h = new Harness(dev).activate();
  const q = h.drivers[0]!;
  const r = q.post(hdr(T_IN, (7 * CHUNK) / 512), 512, 1);
  q.kick();
  const io = dev.hostIo();
  assert.notEqual(io, null);
  dev.reset();
  await io;
  dev.poll();
  assert.deepEqual(q.takeUsed(), []);
  assert.deepEqual([...h.bytes(r.bufs[2]!)], [0xcc]);
  assert.equal(dev.hostIo(), null);
});

test("a snapshot's disk identity comes from the manifest and the overlay's blocks, without fetching the disk", async () => {
  const img = image(16 * CHUNK, 4);
  const s = await serve(img);
  const open = async () => OverlayBlockBackend.open(await StreamedDisk.open(s.manifestUrl), memoryStore());
  const a = await open();
  const b = await open();
  const before = s.ranges.length;
  const idA = await diskId(a);
  assert.equal(idA.size, img.length);
  assert.deepEqual(await diskId(b), idA, "the same image, no changes: the same identity");
  a.write(4096, new Uint8Array(4096).fill(9));
  const changed = await diskId(a);
  assert.notEqual(changed.sha256, idA.sha256);
  b.write(4096, new Uint8Array(4096).fill(9));
  assert.deepEqual(await diskId(b), changed, "the same writes: the same identity");
  assert.equal(s.ranges.length, before, "no chunk was fetched for it");
  // Another image (another manifest) is another identity.
  const other = await serve(image(16 * CHUNK, 5));
  const c = await OverlayBlockBackend.open(await StreamedDisk.open(other.manifestUrl), memoryStore());
  assert.notEqual((await diskId(c)).sha256, idA.sha256);
});

test("requests parked behind one that waits have their chunks asked for at once: the fetches run side by side", async () => {
  const img = image(32 * CHUNK, 6);
  const s = await serve(img);
  const disk = await StreamedDisk.open(s.manifestUrl, { timeoutMs: 3000 }); // fetched one by one, the first times out
  const dev = new VirtioBlk({ backend: await OverlayBlockBackend.open(disk, memoryStore()), queueSize: 16 });
  const h = new Harness(dev).activate();
  const q = h.drivers[0]!;
  s.hold = 3; // no answer until three requests wait: one fetch after another would never finish
  const reads = [2, 9, 17].map((c) => q.post(hdr(T_IN, (c * CHUNK) / 512), 512, 1));
  q.kick();
  for (let io = dev.hostIo(); io; io = dev.hostIo()) {
    await io;
    dev.poll();
  }
  assert.deepEqual(q.takeUsed().map((u) => u.id), reads.map((r) => r.id));
  reads.forEach((r, n) => assert.equal(h.bytes(r.bufs[2]!)[0], S_OK));
  reads.forEach((r, n) => assert.deepEqual(h.bytes(r.bufs[1]!), img.subarray([2, 9, 17][n]! * CHUNK, [2, 9, 17][n]! * CHUNK + 512)));
});
