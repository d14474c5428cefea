// A copy-on-write disk: a read-only base image plus the blocks the guest has changed, held in
// memory and made durable in a pluggable store (the page's is IndexedDB, web/idb-disk.ts). The
// base is never written, so the same bundled image serves every user and a reset is "forget the
// overlay". Free of DOM and Node imports: the worker and the tests both use it.
//
// Durability follows the guest's flushes, as with a disk's volatile write cache: write() only
// changes memory; flush() commits every block dirtied since the last commit, in one store
// transaction, and its Promise settles when the store says so. A failed commit leaves those
// blocks dirty (the next flush retries them) and rejects, so virtio-blk answers IOERR.
// writeBack() is the same commit started by the host while the guest idles: Linux's ext2 never
// sends FLUSH for a plain `sync` (only fsync does), so without it a reload would lose synced data.
import { checkBlockSize, inBounds, type BlockBackend } from "./block.ts";

/** Overlay granularity: one store record per 4 KiB, the guest's page and ext2 block size. */
export const OVERLAY_BLOCK_SIZE = 4096;

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
  static async open(base: Uint8Array, store: OverlayStore, opts: OverlayOptions = {}): Promise<OverlayBlockBackend> {
    return new OverlayBlockBackend(base, store, await store.load(), opts);
  }

  constructor(
    private readonly base: Uint8Array,
    private readonly store: OverlayStore,
    stored: ReadonlyMap<number, Uint8Array> = new Map(),
    opts: OverlayOptions = {},
  ) {
    checkBlockSize(base.length, "overlay base");
    this.size = base.length;
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

  read(offset: number, dst: Uint8Array): void {
    if (!inBounds(this.size, offset, dst.length)) throw new RangeError(`read outside the disk: ${offset}+${dst.length}`);
    this.each(offset, dst.length, (i, from, at, len) => {
      const b = this.blocks.get(i);
      dst.set(b ? b.subarray(from, from + len) : this.base.subarray(offset + at, offset + at + len), at);
    });
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readonly) throw new Error("write to a read-only disk");
    if (!inBounds(this.size, offset, src.length)) throw new RangeError(`write outside the disk: ${offset}+${src.length}`);
    this.each(offset, src.length, (i, from, at, len) => {
      let b = this.blocks.get(i);
      if (!b) {
        // A partial write keeps the rest of the block's base bytes.
        const start = i * this.blockSize;
        b = this.base.slice(start, start + this.extent(i));
        this.blocks.set(i, b);
      }
      b.set(src.subarray(at, at + len), from);
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

/** The whole disk as the guest sees it: a copy of `base` with `blocks` laid over it (download). */
export function mergeOverlay(base: Uint8Array, blocks: ReadonlyMap<number, Uint8Array>, blockSize = OVERLAY_BLOCK_SIZE): Uint8Array {
  const out = base.slice();
  for (const [i, data] of blocks) {
    const at = i * blockSize;
    if (Number.isSafeInteger(i) && i >= 0 && at + data.length <= out.length && data.length <= blockSize) out.set(data, at);
  }
  return out;
}
