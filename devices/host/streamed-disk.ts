// A disk image read over HTTP as the guest needs it: fixed-size chunks (disk-manifest.ts) fetched
// with Range requests on first read, checked against the manifest's SHA-256, kept in memory
// (least recently used out past a bound) and in a ChunkCache between boots (chunk-cache.ts).
// Read-only: the guest's writes go to an overlay laid over it (overlay-block.ts), never to the
// server. Free of DOM and Node imports: the page's VM worker and Node both run it.
//
// The device model reads synchronously (block.ts), so a read of a chunk not yet here goes through
// prepare(): virtio-blk parks the request, the chunk arrives, the request is served. What the
// server says is untrusted: a 200 to a Range request (no range support), a Content-Range for
// other bytes or another image size, a body longer or shorter than asked, bytes whose hash is
// not the manifest's — each is a clear error, the body is not read past what was asked, and the
// request fails with it (IOERR to the guest) rather than handing it wrong bytes.
import { checkBlockSize, inBounds, type BlockBackend } from "./block.ts";
import { MANIFEST_SUFFIX, MAX_MANIFEST_BYTES, ManifestError, chunkCount, manifestId, parseManifest, sha256Hex, type DiskManifest } from "./disk-manifest.ts";
import type { ChunkCache } from "./chunk-cache.ts";

/** What the disk has done so far (the page shows it while the guest boots). */
export interface StreamProgress {
  /** Image size in bytes. */
  size: number;
  /** Bytes and chunks fetched from the server. */
  fetchedBytes: number;
  fetchedChunks: number;
  /** Chunks found in the cache (no request). */
  cacheHits: number;
  /** Chunks that could not be loaded (each failure ends a guest request with IOERR). */
  failures: number;
}

export interface StreamedDiskOptions {
  /** Chunks kept between boots. */
  cache?: ChunkCache;
  /** GET_ID string. */
  id?: string;
  /** Chunk bytes held in memory (least recently used dropped past it). Default 128 MiB, at least 32 MiB. */
  maxResidentBytes?: number;
  /** Requests in flight at once. Default 4. */
  parallel?: number;
  /** A request that has not finished in this long fails. Default 30 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** After every chunk loaded (or failed); `idle`: no other load is in flight. */
  onProgress?: (p: Readonly<StreamProgress>, idle: boolean) => void;
  log?: (message: string) => void;
}

/** A fault of the server or of its image, not of the network: retrying will not help. */
export class StreamError extends Error {}

const MIN_RESIDENT = 32 << 20;
/** One retry, after this long, for a failed connection or a 5xx. */
const RETRY_MS = 500;

export class StreamedDisk implements BlockBackend {
  readonly size: number;
  readonly readonly = true;
  readonly id: string;
  readonly progress: StreamProgress;
  private readonly chunkSize: number;
  private readonly resident = new Map<number, Uint8Array>(); // insertion order: least recently used first
  private residentBytes = 0;
  private readonly maxResident: number;
  private readonly loading = new Map<number, Promise<void>>();
  /** Why each chunk that could not be loaded was not (until it loads). */
  private readonly failed = new Map<number, string>();
  /** A StreamError: the server cannot serve this disk; every later load fails with it at once. */
  private broken: string | null = null;
  private readonly fetchFn: typeof fetch;
  private active = 0;
  private readonly queued: (() => void)[] = [];
  private cacheFailed = false;

  /**
   * Fetch and check the manifest at `manifestUrl`, then ask the server for the image's last
   * byte: a server without range support, or whose image has another size, is refused here,
   * before the guest runs. The image is the manifest's URL without ".manifest.json".
   */
  static async open(manifestUrl: string, opts: StreamedDiskOptions = {}): Promise<StreamedDisk> {
    const f = opts.fetch ?? fetch;
    if (!manifestUrl.endsWith(MANIFEST_SUFFIX)) throw new StreamError(`${manifestUrl}: a streamed disk is named by its manifest, IMAGE${MANIFEST_SUFFIX}`);
    const res = await f(manifestUrl, { signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
    if (!res.ok) throw new StreamError(`${manifestUrl}: HTTP ${res.status}${res.status === 404 ? " (no manifest: make it with npm run disk-manifest -- IMAGE)" : ""}`);
    const text = new TextDecoder().decode(await readBody(res, MAX_MANIFEST_BYTES, manifestUrl, null));
    const manifest = parseManifest(text, manifestUrl);
    const disk = new StreamedDisk(manifest, manifestUrl.slice(0, -MANIFEST_SUFFIX.length), opts);
    await disk.probe();
    return disk;
  }

  constructor(readonly manifest: DiskManifest, readonly url: string, private readonly opts: StreamedDiskOptions = {}) {
    checkBlockSize(manifest.size, url);
    if (manifest.chunks.length !== chunkCount(manifest.size, manifest.chunkSize)) throw new ManifestError(`${url}: the manifest's chunk count does not fit its size`);
    this.size = manifest.size;
    this.chunkSize = manifest.chunkSize;
    this.id = opts.id ?? "vireo-stream";
    this.maxResident = Math.max(MIN_RESIDENT, 2 * this.chunkSize, opts.maxResidentBytes ?? 128 << 20);
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.progress = { size: this.size, fetchedBytes: 0, fetchedChunks: 0, cacheHits: 0, failures: 0 };
  }

  /** Check that the server serves ranges of this image: a one-byte request for its last byte. */
  async probe(): Promise<void> {
    await this.range(this.size - 1, 1);
  }

  prepare(offset: number, length: number): Promise<void> | undefined {
    if (length === 0 || !inBounds(this.size, offset, length)) return undefined; // read() refuses it
    const missing: Promise<void>[] = [];
    const last = Math.floor((offset + length - 1) / this.chunkSize);
    for (let i = Math.floor(offset / this.chunkSize); i <= last; i++) {
      if (!this.resident.has(i)) missing.push(this.load(i));
    }
    return missing.length === 0 ? undefined : Promise.all(missing).then(() => {});
  }

  read(offset: number, dst: Uint8Array): void {
    if (!inBounds(this.size, offset, dst.length)) throw new RangeError(`read outside ${this.url}: ${offset}+${dst.length}`);
    for (let at = 0; at < dst.length; ) {
      const pos = offset + at;
      const i = Math.floor(pos / this.chunkSize);
      const chunk = this.resident.get(i);
      if (!chunk) throw new Error(this.failed.get(i) ?? this.broken ?? `${this.url}: chunk ${i} read before it was fetched`);
      this.resident.delete(i); // most recently used: last out
      this.resident.set(i, chunk);
      const from = pos - i * this.chunkSize;
      const len = Math.min(dst.length - at, chunk.length - from);
      dst.set(chunk.subarray(from, from + len), at);
      at += len;
    }
  }

  write(): void {
    throw new Error(`${this.url}: a streamed disk is read-only (writes go to its overlay)`);
  }

  flush(): void {}

  /** The image's identity: its manifest's (the SHA-256 of its chunk hashes). */
  async contentId(): Promise<{ size: number; sha256: string }> {
    return { size: this.size, sha256: await manifestId(this.manifest) };
  }

  /** Chunks in memory now. */
  get residentChunks(): number {
    return this.resident.size;
  }

  /** Load chunk `i` (from the cache, else the server); never rejects: a failure is kept in `failed`. */
  private load(i: number): Promise<void> {
    let p = this.loading.get(i);
    if (p) return p;
    p = (async () => {
      await this.slot();
      try {
        const bytes = (await this.fromCache(i)) ?? (await this.fromServer(i));
        this.keep(i, bytes);
        this.failed.delete(i);
      } catch (e) {
        const message = (e as Error)?.message ?? String(e);
        if (e instanceof StreamError && this.broken === null) {
          this.broken = message;
          this.opts.log?.(`streamed disk: ${message}`);
        }
        if (!this.failed.has(i)) this.progress.failures++;
        this.failed.set(i, message);
      } finally {
        this.release();
        this.loading.delete(i);
        this.opts.onProgress?.(this.progress, this.loading.size === 0);
      }
    })();
    this.loading.set(i, p);
    return p;
  }

  private extent(i: number): number {
    return Math.min(this.chunkSize, this.size - i * this.chunkSize);
  }

  private async fromCache(i: number): Promise<Uint8Array | undefined> {
    const cache = this.opts.cache;
    if (!cache) return undefined;
    const hash = this.manifest.chunks[i]!;
    let bytes: Uint8Array | undefined;
    try {
      bytes = await cache.get(hash);
    } catch (e) {
      this.cacheFault(`cannot read the ${cache.kind} cache: ${(e as Error)?.message ?? e}`);
      return undefined;
    }
    if (!bytes) return undefined;
    // A damaged or truncated entry is a miss: the chunk is fetched again (and stored over it).
    if (bytes.length !== this.extent(i) || (await sha256Hex(bytes)) !== hash) {
      this.cacheFault(`a damaged chunk in the ${cache.kind} cache (fetched again)`);
      return undefined;
    }
    this.progress.cacheHits++;
    return bytes;
  }

  private async fromServer(i: number): Promise<Uint8Array> {
    if (this.broken !== null) throw new StreamError(this.broken);
    const start = i * this.chunkSize;
    const len = this.extent(i);
    let bytes: Uint8Array;
    try {
      bytes = await this.range(start, len);
    } catch (e) {
      if (e instanceof StreamError) throw e;
      await new Promise((r) => setTimeout(r, RETRY_MS)); // a dropped connection: once more
      bytes = await this.range(start, len);
    }
    const hash = this.manifest.chunks[i]!;
    if ((await sha256Hex(bytes)) !== hash) {
      throw new StreamError(`${this.url}: bytes ${start}–${start + len - 1} do not match the manifest's SHA-256 (the image changed since its manifest was made: npm run disk-manifest)`);
    }
    this.progress.fetchedBytes += len;
    this.progress.fetchedChunks++;
    const cache = this.opts.cache;
    cache?.put(hash, bytes).catch((e: unknown) => this.cacheFault(`cannot store in the ${cache.kind} cache: ${(e as Error)?.message ?? e}`));
    return bytes;
  }

  /** GET bytes [start, start + len) of the image, checking what the server says at every step. */
  private async range(start: number, len: number): Promise<Uint8Array> {
    const end = start + len - 1;
    const ctl = new AbortController();
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    const timer = setTimeout(() => ctl.abort(new Error(`${this.url}: no answer for bytes ${start}–${end} within ${timeoutMs} ms`)), timeoutMs);
    try {
      const res = await this.fetchFn(this.url, { headers: { Range: `bytes=${start}-${end}` }, signal: ctl.signal });
      if (res.status === 200) {
        throw new StreamError(`${this.url}: the server ignored the Range request (HTTP 200, the whole file): a streamed disk needs a server with byte-range support`);
      }
      if (res.status !== 206) {
        const message = `${this.url}: HTTP ${res.status} for bytes ${start}–${end}`;
        throw res.status >= 500 ? new Error(message) : new StreamError(message);
      }
      const cr = res.headers.get("Content-Range");
      if (cr === null) throw new StreamError(`${this.url}: a 206 answer without Content-Range (a server on another origin must expose it: Access-Control-Expose-Headers: Content-Range)`);
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr.trim());
      if (!m) throw new StreamError(`${this.url}: unreadable Content-Range '${cr.slice(0, 80)}'`);
      if (m[3] !== "*" && Number(m[3]) !== this.size) {
        throw new StreamError(`${this.url}: the server's image is ${m[3]} bytes, the manifest says ${this.size} (the image changed since its manifest was made: npm run disk-manifest)`);
      }
      if (Number(m[1]) !== start || Number(m[2]) !== end) throw new StreamError(`${this.url}: asked for bytes ${start}–${end}, the server sent ${m[1]}–${m[2]}`);
      return await readBody(res, len, this.url, len);
    } catch (e) {
      throw ctl.signal.aborted && ctl.signal.reason instanceof Error ? ctl.signal.reason : e;
    } finally {
      clearTimeout(timer);
      ctl.abort(); // a body not read to its end (an error above) is not downloaded on
    }
  }

  /** Hold chunk `i` in memory, dropping the least recently used past the bound. */
  private keep(i: number, bytes: Uint8Array): void {
    for (const [j, old] of this.resident) {
      if (this.residentBytes + bytes.length <= this.maxResident) break;
      this.resident.delete(j);
      this.residentBytes -= old.length;
    }
    this.resident.set(i, bytes);
    this.residentBytes += bytes.length;
  }

  private cacheFault(message: string): void {
    if (!this.cacheFailed) this.opts.log?.(`streamed disk: ${message}`);
    this.cacheFailed = true;
  }

  private async slot(): Promise<void> {
    if (this.active < (this.opts.parallel ?? 4)) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.queued.push(resolve));
  }

  private release(): void {
    const next = this.queued.shift();
    if (next) next(); // the slot passes on
    else this.active--;
  }
}

/**
 * A response body, at most `max` bytes (more is an error, and the rest is not read); `exact`:
 * exactly that many.
 */
async function readBody(res: Response, max: number, url: string, exact: number | null): Promise<Uint8Array> {
  if (!res.body) throw new StreamError(`${url}: an answer without a body`);
  const reader = res.body.getReader();
  const out = new Uint8Array(exact ?? Math.min(max, Number(res.headers.get("Content-Length")) || 1 << 16));
  let buf = out;
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (n + value.length > max) {
      void reader.cancel();
      throw new StreamError(`${url}: the server sent more than the ${max} bytes asked for`);
    }
    if (n + value.length > buf.length) {
      const grown = new Uint8Array(Math.min(max, Math.max(2 * buf.length, n + value.length)));
      grown.set(buf.subarray(0, n));
      buf = grown;
    }
    buf.set(value, n);
    n += value.length;
  }
  if (exact !== null && n !== exact) throw new StreamError(`${url}: the server sent ${n} of the ${exact} bytes asked for`);
  return buf.subarray(0, n);
}
