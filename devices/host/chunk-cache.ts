// Where a streamed disk (streamed-disk.ts) keeps the chunks it fetched, between boots: keyed by
// the chunk's SHA-256 (disk-manifest.ts), so one cache serves every image and version, and
// the same bytes are stored once. A cache is a hint, never trusted: the disk checks each hash
// again, and a failing cache only costs a fetch. The page's caches are OPFS and IndexedDB
// (web/chunk-cache.ts); this file holds the interface and the in-memory one (a Node process, tests).

export interface ChunkCache {
  /** Human name for messages ("OPFS", "IndexedDB", "memory"). */
  readonly kind: string;
  /** The stored bytes for `sha256`, or undefined. */
  get(sha256: string): Promise<Uint8Array | undefined>;
  /** Store `bytes` under `sha256` (the caller has checked the hash). */
  put(sha256: string, bytes: Uint8Array): Promise<void>;
}

/** Chunks in a Map, for as long as the process lives; at most `maxBytes` (oldest stored first out). */
export class MemoryChunkCache implements ChunkCache {
  readonly kind = "memory";
  private readonly chunks = new Map<string, Uint8Array>();
  private bytes = 0;

  constructor(private readonly maxBytes = 256 << 20) {}

  async get(sha256: string): Promise<Uint8Array | undefined> {
    return this.chunks.get(sha256)?.slice();
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    if (this.chunks.has(sha256) || bytes.length > this.maxBytes) return;
    for (const [k, v] of this.chunks) {
      if (this.bytes + bytes.length <= this.maxBytes) break;
      this.chunks.delete(k);
      this.bytes -= v.length;
    }
    this.chunks.set(sha256, bytes.slice());
    this.bytes += bytes.length;
  }

  get size(): number {
    return this.chunks.size;
  }
}
