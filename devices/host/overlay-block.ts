// A copy-on-write disk: a read-only base image plus the blocks the guest has changed, held in
// memory and made durable in a pluggable store (the page's is IndexedDB, web/idb-disk.ts). The
// base is never written, so the same bundled image serves every user and a reset is "forget the
// overlay". The base is bytes in memory or a backend whose bytes arrive later (a disk streamed
// over HTTP, streamed-disk.ts): prepare() then asks it only for the blocks the overlay does not
// hold. Free of DOM and Node imports: the worker and the tests both use it.
//
// Durability follows the guest's flushes, as with a disk's volatile write cache: write() only
// changes memory; flush() commits every block dirtied since the last commit, in one store
// transaction, and its Promise settles when the store says so. A failed commit leaves those
// blocks dirty (the next flush retries them) and rejects, so virtio-blk answers IOERR.
// writeBack() is the same commit started by the host while the guest idles: Linux's ext2 never
// sends FLUSH for a plain `sync` (only fsync does), so without it a reload would lose synced data.
import { checkBlockSize, inBounds, type BlockBackend } from "./block.ts";
import { sha256Hex } from "./disk-manifest.ts";

/** Overlay granularity: one store record per 4 KiB, the guest's page and ext2 block size. */
export const OVERLAY_BLOCK_SIZE = 4096;

/** What the overlay reads unchanged blocks from: bytes, or a read-only backend. */
export type OverlayBase = Uint8Array | Pick<BlockBackend, "size" | "read" | "prepare" | "contentId">;

/** Where an overlay's blocks live between sessions. Block `i` covers bytes [i·B, i·B + B). */
export interface OverlayStore {
  /** Every stored block (index → contents), read once when the disk opens. */
  load(): Promise<Map<number, Uint8Array>>;
  /** Store these blocks all together (one transaction); reject if they may not all be stored. */
  commit(blocks: ReadonlyMap<number, Uint8Array>): Promise<void>;
}

export interface OverlayOptions {
  readonly?: boolean;
  /** GET_ID string. */
  id?: string;
  /** Block size in bytes: a multiple of 512. Default OVERLAY_BLOCK_SIZE. */
  blockSize?: number;
  /** Where to report stored blocks that do not fit the base (skipped, not fatal). */
  log?: (message: string) => void;
}

export class OverlayBlockBackend implements BlockBackend {
  readonly size: number;
  readonly readonly: boolean;
  readonly id: string;
  readonly blockSize: number;
  /** Current contents of every block that differs from the base (committed or not). */
  private readonly blocks = new Map<number, Uint8Array>();
  /** Blocks changed since the last commit started. */
  private readonly dirty = new Set<number>();
  /** The newest commit in progress; each commit waits for the one before (they stay ordered). */
  private inflight: Promise<void> | null = null;
  /** Completed commits (tests and the inspector). */
  commits = 0;

  /** Open over `base`, loading the store's blocks first. */
  static async open(base: OverlayBase, store: OverlayStore, opts: OverlayOptions = {}): Promise<OverlayBlockBackend> {
    return new OverlayBlockBackend(base, store, await store.load(), opts);
  }

  private readonly base: Pick<BlockBackend, "size" | "read" | "prepare" | "contentId">;
  /**
   * Over a base with an identity of its own (a streamed disk): the base's identity and the
   * changed blocks' hashes, so a snapshot never reads the whole disk. Absent otherwise (the
   * snapshot then reads the disk: devices/state/digest.ts).
   */
  readonly contentId?: () => Promise<{ size: number; sha256: string }>;

  constructor(
    base: OverlayBase,
    private readonly store: OverlayStore,
    stored: ReadonlyMap<number, Uint8Array> = new Map(),
    opts: OverlayOptions = {},
  ) {
    this.base = base instanceof Uint8Array ? bytesBase(base) : base;
    checkBlockSize(this.base.size, "overlay base");
    this.size = this.base.size;
    if (this.base.contentId) this.contentId = () => this.layeredId();
    this.readonly = opts.readonly ?? false;
    this.id = opts.id ?? "vireo-overlay";
    this.blockSize = opts.blockSize ?? OVERLAY_BLOCK_SIZE;
    checkBlockSize(this.blockSize, "overlay block");
    if (this.blockSize === 0) throw new RangeError("overlay block size 0");
    let skipped = 0;
    for (const [i, data] of stored) {
      if (Number.isSafeInteger(i) && i >= 0 && i * this.blockSize < this.size && data.length === this.extent(i)) {
        this.blocks.set(i, data);
      } else {
        skipped++;
      }
    }
    if (skipped) opts.log?.(`overlay ${this.id}: skipped ${skipped} stored block(s) that do not fit a ${this.size}-byte base`);
  }

  /** Blocks that differ from the base. */
  get changedBlocks(): number {
    return this.blocks.size;
  }

  /** Blocks written but not yet committed. */
  get dirtyBlocks(): number {
    return this.dirty.size;
  }

  /**
   * The base blocks a read (or a write) of this range needs that are not here yet: a read needs
   * every block the overlay does not hold, a write only those it covers in part.
   */
  prepare(offset: number, length: number, write: boolean): Promise<void> | undefined {
    if (!this.base.prepare || length === 0 || !inBounds(this.size, offset, length)) return undefined;
    const waits: Promise<void>[] = [];
    let runStart = -1;
    let runEnd = -1;
    const flushRun = () => {
      const p = runStart < 0 ? undefined : this.base.prepare!(runStart, runEnd - runStart, false);
      if (p) waits.push(p);
      runStart = -1;
    };
    this.each(offset, length, (i, from, _at, len) => {
      const start = i * this.blockSize;
      const needed = !this.blocks.has(i) && !(write && from === 0 && len === this.extent(i));
      if (!needed) return flushRun();
      if (runStart < 0) runStart = start;
      runEnd = start + this.extent(i);
    });
    flushRun();
    return waits.length === 0 ? undefined : Promise.all(waits).then(() => {});
  }

  read(offset: number, dst: Uint8Array): void {
    if (!inBounds(this.size, offset, dst.length)) throw new RangeError(`read outside the disk: ${offset}+${dst.length}`);
    this.each(offset, dst.length, (i, from, at, len) => {
      const b = this.blocks.get(i);
      if (b) dst.set(b.subarray(from, from + len), at);
      else this.base.read(offset + at, dst.subarray(at, at + len));
    });
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readonly) throw new Error("write to a read-only disk");
    if (!inBounds(this.size, offset, src.length)) throw new RangeError(`write outside the disk: ${offset}+${src.length}`);
    // New blocks first, each with its base bytes where the write covers it only in part: a base
    // that cannot be read (a streamed chunk that failed) fails the write before anything changes.
    const fresh = new Map<number, Uint8Array>();
    this.each(offset, src.length, (i, from, _at, len) => {
      if (this.blocks.has(i)) return;
      const b = new Uint8Array(this.extent(i));
      if (from !== 0 || len !== b.length) this.base.read(i * this.blockSize, b);
      fresh.set(i, b);
    });
    for (const [i, b] of fresh) this.blocks.set(i, b);
    this.each(offset, src.length, (i, from, at, len) => {
      this.blocks.get(i)!.set(src.subarray(at, at + len), from);
      this.dirty.add(i);
    });
  }

  /**
   * Commit the dirty blocks. `undefined` when there is nothing to make durable; else a Promise
   * that resolves once these blocks, and everything an earlier flush took, are in the store.
   */
  flush(): void | Promise<void> {
    if (this.dirty.size === 0 && this.inflight === null) return;
    // Copy now: the guest may rewrite a block while the store works on it.
    const batch = new Map<number, Uint8Array>();
    for (const i of this.dirty) batch.set(i, this.blocks.get(i)!.slice());
    this.dirty.clear();
    const before = this.inflight;
    const p = (async () => {
      if (before) await before; // an earlier failure fails this flush too: it covered those writes
      if (batch.size > 0) await this.store.commit(batch);
      this.commits++;
    })().catch((e: unknown) => {
      for (const i of batch.keys()) this.dirty.add(i); // retried by the next flush
      throw e;
    });
    this.inflight = p;
    const settled = () => void (this.inflight === p && (this.inflight = null));
    p.then(settled, settled);
    return p;
  }

  /** Idle write-back (block.ts): commit only when something is dirty; never queues an empty commit. */
  writeBack(): void | Promise<void> {
    if (this.dirty.size > 0) return this.flush();
  }

  private async layeredId(): Promise<{ size: number; sha256: string }> {
    const base = await this.base.contentId!();
    const lines = [`${base.size} ${base.sha256} ${this.blockSize}`];
    for (const i of [...this.blocks.keys()].sort((a, b) => a - b)) lines.push(`${i} ${await sha256Hex(this.blocks.get(i)!)}`);
    return { size: this.size, sha256: await sha256Hex(new TextEncoder().encode(lines.join("\n"))) };
  }

  /** Bytes of block `i` (the last block may be short when the size is not a multiple). */
  private extent(i: number): number {
    return Math.min(this.blockSize, this.size - i * this.blockSize);
  }

  /** Split [offset, offset + length) at block boundaries: fn(block, offset in block, offset in range, bytes). */
  private each(offset: number, length: number, fn: (i: number, from: number, at: number, len: number) => void): void {
    for (let at = 0; at < length; ) {
      const pos = offset + at;
      const i = Math.floor(pos / this.blockSize);
      const from = pos - i * this.blockSize;
      const len = Math.min(length - at, this.blockSize - from);
      fn(i, from, at, len);
      at += len;
    }
  }
}

/** A base in memory. */
function bytesBase(bytes: Uint8Array): Pick<BlockBackend, "size" | "read"> {
  return {
    size: bytes.length,
    read: (offset, dst) => dst.set(bytes.subarray(offset, offset + dst.length)),
  };
}

/** The whole disk as the guest sees it: a copy of `base` with `blocks` laid over it (download). */
export function mergeOverlay(base: Uint8Array, blocks: ReadonlyMap<number, Uint8Array>, blockSize = OVERLAY_BLOCK_SIZE): Uint8Array {
  const out = base.slice();
  for (const [i, data] of blocks) {
    const at = i * blockSize;
    if (Number.isSafeInteger(i) && i >= 0 && at + data.length <= out.length && data.length <= blockSize) out.set(data, at);
  }
  return out;
}
