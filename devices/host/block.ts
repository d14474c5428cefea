// The host side of a disk (docs/ARCHITECTURE.md "Host backends"): a flat array of bytes that a block device model reads
// and writes, behind an interface small enough that the same virtio-blk runs over memory in a
// test, a file in the Node worker, and (later) an IndexedDB overlay in the page. This file must
// stay free of Node imports: the browser build includes it. The Node file backend lives in
// node-file-block.ts.
//
// Reads and writes are synchronous: the device model runs inside the vCPU's trap handler, and a
// request must be complete (data in guest memory, status byte written) before the used ring
// says so. Only flush may finish later: a persistent store (IndexedDB, a remote disk) cannot
// promise durability synchronously, so `flush()` may return a Promise and the device completes
// the guest's FLUSH request when it settles.

/** Bytes per sector: the unit of virtio-blk `capacity` and request offsets (virtio 1.2 §5.2.4). */
export const SECTOR_SIZE = 512;

export interface BlockBackend {
  /** Size in bytes; a multiple of SECTOR_SIZE. */
  readonly size: number;
  /** The host refuses writes; the device offers VIRTIO_BLK_F_RO and fails OUT requests. */
  readonly readonly: boolean;
  /** Identifies the disk to the guest (virtio-blk GET_ID: up to 20 bytes, §5.2.6). */
  readonly id: string;
  /**
   * Optional: a backend whose bytes arrive later (a disk streamed over HTTP). Make
   * [offset, offset + length) ready for a synchronous read (or, `write`, for a write that may
   * cover part of a block): `undefined` when it already is, else a Promise that settles once it
   * is — or once it has failed, after which read() throws with the reason. virtio-blk parks the
   * request meanwhile and serves it when the Promise settles.
   */
  prepare?(offset: number, length: number, write: boolean): Promise<void> | undefined;
  /** Fill `dst` from byte `offset`. The caller keeps offset + dst.length within `size`. Throws on a host I/O error. */
  read(offset: number, dst: Uint8Array): void;
  /**
   * Store `src` at byte `offset`, all of it or (on a throw) reporting failure. Never called when
   * `readonly`. `src` may be a live view of guest RAM: consume (or copy) it before returning.
   */
  write(offset: number, src: Uint8Array): void;
  /**
   * Make every completed write durable. `undefined`: done now. A Promise: done when it
   * resolves (rejects: the flush failed). The caller does not issue overlapping flushes.
   */
  flush(): void | Promise<void>;
  /**
   * Optional: write back unflushed writes on the host's own initiative, as a drive empties its
   * write cache when idle. The run loop calls it while the guest halts (at most every
   * WRITE_BACK_MS, realtime clock only); it must be cheap when there is nothing to write.
   * Guest-visible guarantees still come from flush() alone.
   */
  writeBack?(): void | Promise<void>;
  /**
   * Optional: the disk's content identity (size and a SHA-256) without reading it whole — a
   * streamed disk's bytes are mostly not here. A snapshot records it, and a resume compares it.
   */
  contentId?(): Promise<{ size: number; sha256: string }>;
  /** Release the host resource (a file descriptor) once the VM is done with the disk. */
  close?(): void;
}

/** Check what every backend promises: a whole number of sectors. */
export function checkBlockSize(size: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0 || size % SECTOR_SIZE !== 0) {
    throw new RangeError(`${what}: size ${size} bytes is not a multiple of ${SECTOR_SIZE} (pad the image, e.g. truncate -s %${SECTOR_SIZE})`);
  }
}

/** True when [offset, offset + length) lies inside a disk of `size` bytes. */
export function inBounds(size: number, offset: number, length: number): boolean {
  return Number.isSafeInteger(offset) && offset >= 0 && length >= 0 && offset + length <= size;
}

export interface MemoryBlockOptions {
  readonly?: boolean;
  id?: string;
}

/** A disk in a Uint8Array: tests, and images fetched whole into the page. Writes change `bytes`. */
export class MemoryBlockBackend implements BlockBackend {
  readonly size: number;
  readonly readonly: boolean;
  readonly id: string;
  /** How many flushes completed (tests and the inspector). */
  flushes = 0;

  constructor(readonly bytes: Uint8Array, opts: MemoryBlockOptions = {}) {
    checkBlockSize(bytes.length, "memory disk");
    this.size = bytes.length;
    this.readonly = opts.readonly ?? false;
    this.id = opts.id ?? "vireo-mem";
  }

  read(offset: number, dst: Uint8Array): void {
    if (!inBounds(this.size, offset, dst.length)) throw new RangeError(`read outside the disk: ${offset}+${dst.length}`);
    dst.set(this.bytes.subarray(offset, offset + dst.length));
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readonly) throw new Error("write to a read-only disk");
    if (!inBounds(this.size, offset, src.length)) throw new RangeError(`write outside the disk: ${offset}+${src.length}`);
    this.bytes.set(src, offset);
  }

  flush(): void {
    this.flushes++;
  }
}
