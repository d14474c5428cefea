// virtio-blk (virtio 1.2 §5.2): one request queue over a BlockBackend (devices/host/block.ts).
// What the guest's driver expects: Linux 6.1 drivers/block/virtio_blk.c — virtblk_add_req()
// frames a request as [16-byte header][data][1-byte status], data readable for OUT and
// writable for IN/GET_ID; virtblk_probe() reads seg_max, size_max and blk_size only when their
// feature is offered, obeys VIRTIO_BLK_F_RO with set_disk_ro(), and turns the write cache on
// (so it sends FLUSH) when VIRTIO_BLK_F_FLUSH is offered.
//
// Requests are byte streams (§2.7.4 message framing): the header is the first 16 readable
// bytes wherever the descriptors split them, the status byte is the last writable byte. Every
// request is checked as a whole before a byte of the image changes: a bad one completes with
// VIRTIO_BLK_S_IOERR (or UNSUPP for an unknown type) and leaves the image untouched. A request
// with no writable byte at all cannot be answered, so the device asks for a reset instead.
//
// Reads and writes finish inside notify(), one request after another, so a write is never
// torn or reordered against another request. Only FLUSH may finish later (an asynchronous
// backend); its chain is completed from poll() once the backend's Promise has settled. A
// backend whose bytes arrive later (a streamed disk: BlockBackend.prepare) parks the request
// that needs them, and every request after it, in arrival order; poll() serves them once the
// bytes are there, so the guest runs on (other processes, timers) while the disk fetches.
import { serveQueue, PARKED, STOP } from "./notify-loop.ts";
import { type Width } from "../bus/region.ts";
import { SECTOR_SIZE, inBounds, type BlockBackend } from "../host/block.ts";
import { bit, has, type Chain, type VirtioContext, type VirtioDevice } from "./device.ts";
import { ConfigSpace, type ConfigField } from "./config-space.ts";
import type { BlockDeviceSpec, DeviceType } from "./device-type.ts";
import type { StateTable, Stateful } from "../state/fields.ts";
import { StateError } from "../state/wire.ts";

// Feature bits, §5.2.3.
export const VIRTIO_BLK_F_SIZE_MAX = 1n;
export const VIRTIO_BLK_F_SEG_MAX = 2n;
export const VIRTIO_BLK_F_RO = 5n;
export const VIRTIO_BLK_F_BLK_SIZE = 6n;
export const VIRTIO_BLK_F_FLUSH = 9n;
export const VIRTIO_BLK_F_DISCARD = 13n;
export const VIRTIO_BLK_F_WRITE_ZEROES = 14n;

// Request types and status values, §5.2.6.
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_T_DISCARD = 11;
export const VIRTIO_BLK_T_WRITE_ZEROES = 13;
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

/** struct virtio_blk_req's header: le32 type, le32 reserved, le64 sector (§5.2.6). */
export const BLK_HEADER_BYTES = 16;
/** struct virtio_blk_discard_write_zeroes: le64 sector, le32 num_sectors, le32 flags (§5.2.6). */
export const BLK_RANGE_BYTES = 16;
/** The range flag for WRITE_ZEROES (§5.2.6); every other bit is reserved. */
export const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;
/**
 * Limits offered for DISCARD and WRITE_ZEROES (§5.2.4). A request runs inside the vCPU's trap,
 * so WRITE_ZEROES is bounded to 8 ranges × 4 MiB of zeros; Linux splits larger ones.
 */
export const BLK_MAX_RANGE_SECTORS = 8192;
export const BLK_MAX_RANGES = 8;

/** GET_ID answers with exactly this many bytes, NUL-padded (§5.2.6, VIRTIO_BLK_ID_BYTES). */
export const BLK_ID_BYTES = 20;

/** The device configuration layout, virtio 1.2 §5.2.4 struct virtio_blk_config (fields we fill). */
export const BLK_CONFIG: readonly ConfigField[] = [
  { offset: 0, width: 8, name: "capacity", ref: "virtio 1.2 §5.2.4, 512-byte sectors" },
  { offset: 8, width: 4, name: "size_max", ref: "virtio 1.2 §5.2.4, VIRTIO_BLK_F_SIZE_MAX" },
  { offset: 12, width: 4, name: "seg_max", ref: "virtio 1.2 §5.2.4, VIRTIO_BLK_F_SEG_MAX" },
  { offset: 16, width: 2, name: "geometry.cylinders", ref: "virtio 1.2 §5.2.4, VIRTIO_BLK_F_GEOMETRY (not offered)" },
  { offset: 18, width: 1, name: "geometry.heads", ref: "virtio 1.2 §5.2.4 (not offered)" },
  { offset: 19, width: 1, name: "geometry.sectors", ref: "virtio 1.2 §5.2.4 (not offered)" },
  { offset: 20, width: 4, name: "blk_size", ref: "virtio 1.2 §5.2.4, VIRTIO_BLK_F_BLK_SIZE" },
  // 24–35: topology, wce, num_queues — their features are not offered; they read 0.
  { offset: 36, width: 4, name: "max_discard_sectors", ref: "virtio 1.2 §5.2.4, VIRTIO_BLK_F_DISCARD" },
  { offset: 40, width: 4, name: "max_discard_seg", ref: "virtio 1.2 §5.2.4, VIRTIO_BLK_F_DISCARD" },
  { offset: 44, width: 4, name: "discard_sector_alignment", ref: "virtio 1.2 §5.2.4, VIRTIO_BLK_F_DISCARD" },
  { offset: 48, width: 4, name: "max_write_zeroes_sectors", ref: "virtio 1.2 §5.2.4, VIRTIO_BLK_F_WRITE_ZEROES" },
  { offset: 52, width: 4, name: "max_write_zeroes_seg", ref: "virtio 1.2 §5.2.4, VIRTIO_BLK_F_WRITE_ZEROES" },
  { offset: 56, width: 1, name: "write_zeroes_may_unmap", ref: "virtio 1.2 §5.2.4, VIRTIO_BLK_F_WRITE_ZEROES (0: never deallocates)" },
  { offset: 57, width: 1, name: "unused1[0]", ref: "virtio 1.2 §5.2.4 padding" },
  { offset: 58, width: 2, name: "unused1[1..2]", ref: "virtio 1.2 §5.2.4 padding" },
];

export interface VirtioBlkOptions {
  backend: BlockBackend;
  /** Ring size offered for the request queue (a power of two). Default 256. */
  queueSize?: number;
  /** size_max: the largest single data segment the driver may use. Default 64 KiB. */
  sizeMax?: number;
}

/** hostIo() for completions poll() has yet to serve. */
const SETTLED: Promise<void> = Promise.resolve();

/** The source of WRITE_ZEROES data (never written to). */
const ZEROS = new Uint8Array(0x10000);

export class VirtioBlk implements VirtioDevice, Stateful {
  readonly name = blkType.name;
  readonly deviceId = 2;
  readonly features: bigint;
  readonly queueSizes: readonly number[];
  readonly config = new ConfigSpace(BLK_CONFIG);
  readonly backend: BlockBackend;
  private readonly sizeMax: number;
  private readonly idBytes: Uint8Array;
  private ctx: VirtioContext | null = null;
  /** FLUSH requests waiting for an asynchronous backend flush, oldest first (one in progress). */
  private flushQueue: Chain[] = [];
  private flushResult: number | null = null; // status of the settled head of flushQueue
  private flushing: Promise<void> | null = null; // the backend flush in progress, until it settles
  private epoch = 0; // bumped by reset: completions of an older epoch are dropped
  /** Requests parked behind a backend's prepare(), oldest first; the head's bytes are on their way. */
  private waiting: Chain[] = [];
  private loadWait: Promise<void> | null = null; // the head's prepare, until it settles
  private loadSettled = false; // the head's prepare settled: poll() serves the parked requests
  private readonly counters = { reads: 0, writes: 0, flushes: 0, getIds: 0, ioErrors: 0, unsupported: 0, bytesRead: 0, bytesWritten: 0, discards: 0, writeZeroes: 0, hostWaits: 0 };

  constructor(opts: VirtioBlkOptions) {
    this.backend = opts.backend;
    const q = opts.queueSize ?? 256;
    this.queueSizes = [q];
    this.sizeMax = opts.sizeMax ?? 0x10000;
    // DISCARD and WRITE_ZEROES change the disk: offered only when it is writable.
    this.features = bit(VIRTIO_BLK_F_SIZE_MAX) | bit(VIRTIO_BLK_F_SEG_MAX) | bit(VIRTIO_BLK_F_BLK_SIZE) |
      bit(VIRTIO_BLK_F_FLUSH) |
      (this.backend.readonly ? bit(VIRTIO_BLK_F_RO) : bit(VIRTIO_BLK_F_DISCARD) | bit(VIRTIO_BLK_F_WRITE_ZEROES));
    const id = new TextEncoder().encode(this.backend.id);
    this.idBytes = new Uint8Array(BLK_ID_BYTES);
    this.idBytes.set(id.subarray(0, BLK_ID_BYTES)); // a 20-byte id has no NUL (§5.2.6)
    this.config.set("capacity", this.backend.size / SECTOR_SIZE);
    this.config.set("size_max", this.sizeMax);
    this.config.set("seg_max", this.segMax);
    this.config.set("blk_size", SECTOR_SIZE);
    if (!this.backend.readonly) {
      this.config.set("max_discard_sectors", BLK_MAX_RANGE_SECTORS);
      this.config.set("max_discard_seg", BLK_MAX_RANGES);
      this.config.set("discard_sector_alignment", 1);
      this.config.set("max_write_zeroes_sectors", BLK_MAX_RANGE_SECTORS);
      this.config.set("max_write_zeroes_seg", BLK_MAX_RANGES);
    }
  }

  get configSize(): number {
    return this.config.size;
  }

  /** seg_max: the header and the status byte take two of the ring's descriptors. */
  get segMax(): number {
    return this.queueSizes[0]! - 2;
  }

  readConfig(offset: number, width: Width): number {
    return this.config.read(offset, width);
  }

  writeConfig(_offset: number, _width: Width, _value: number): void {
    // Every field is read-only without VIRTIO_BLK_F_CONFIG_WCE (not offered): ignore.
  }

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
  }

  /**
   * Snapshot fields (devices/state/): the config space (the driver writes the cache mode). The
   * machine is quiesced before a save, so no flush is in flight and flushQueue is empty.
   */
  readonly stateTable: StateTable = { config: "child", pendingFlushes: "u32" };

  /** Flushes (and requests parked for a backend) queued or running: must be 0 in a snapshot (the run loop lets them finish first). */
  get pendingFlushes(): number {
    return this.flushQueue.length + (this.flushing ? 1 : 0) + this.waiting.length;
  }

  set pendingFlushes(n: number) {
    if (n !== 0) throw new StateError("virtio-blk: a snapshot with flushes in flight");
  }

  reset(): void {
    this.ctx = null;
    this.flushQueue = [];
    this.flushResult = null;
    this.flushing = null;
    this.waiting = [];
    this.loadWait = null;
    this.loadSettled = false;
    this.epoch++;
  }

  /** The backend flush or fetch in progress (the run loop yields to the event loop for it). */
  hostIo(): Promise<void> | null {
    // Settled but not yet served (poll() does it at the next advance): still host I/O to wait for.
    const served = this.loadSettled || this.flushResult !== null ? SETTLED : null;
    return this.flushing ?? this.loadWait ?? served;
  }

  /** One used-index update and at most one interrupt per batch (notify-loop.ts). */
  notify(index: number): void {
    if (!this.ctx || index !== 0) return;
    serveQueue(this.ctx, 0, (c) => {
      // Behind a parked request, or itself waiting for the backend's bytes: parked, in order.
      // Behind one, its bytes are asked for now, so the fetches of a batch run side by side.
      if (this.waiting.length > 0 || this.startLoad(c)) {
        if (this.waiting.length > 0) for (const [offset, length, write] of this.extents(c)) void this.backend.prepare?.(offset, length, write);
        this.waiting.push(c);
        return PARKED;
      }
      const written = this.handle(c);
      return written < 0 ? STOP : written === 0 ? PARKED : written; // 0: parked behind an async flush
    });
  }

  /**
   * Complete what has settled (the board calls this between run slices): the requests parked
   * for a backend's bytes, then asynchronous flushes.
   */
  poll(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const vq = ctx.queue(0);
    let pushed = 0;
    if (this.loadSettled) {
      this.loadSettled = false;
      // The head is served as it is now: bytes that failed to arrive make its read throw (IOERR).
      for (let head = true; this.waiting.length > 0; head = false) {
        const c = this.waiting[0]!;
        if (!head && this.startLoad(c)) break;
        this.waiting.shift();
        const written = this.handle(c);
        if (written < 0) return; // needsReset
        if (written > 0) {
          vq.push(c, written);
          pushed++;
        }
      }
    }
    if (this.flushResult === null) {
      if (pushed > 0) ctx.publish(0);
      return;
    }
    while (this.flushResult !== null) {
      const c = this.flushQueue.shift()!;
      this.complete(c, this.flushResult);
      vq.push(c, 1);
      this.flushResult = null;
      // Start the next parked flush; a backend that answers at once completes it right here.
      while (this.flushQueue.length > 0) {
        const next = this.flushQueue[0]!;
        if (this.startFlush() === 0) break;
        vq.push(next, 1);
      }
    }
    ctx.publish(0);
  }

  stats(): Record<string, number> {
    return { ...this.counters, flushesPending: this.flushQueue.length, waitingForHost: this.waiting.length };
  }

  /**
   * Ask the backend to make ready the bytes request `c` will touch (BlockBackend.prepare). True:
   * they are on their way and `c` must wait (loadWait settles when they are there, or failed).
   */
  private startLoad(c: Chain): boolean {
    if (!this.backend.prepare) return false;
    const waits: Promise<void>[] = [];
    for (const [offset, length, write] of this.extents(c)) {
      const p = this.backend.prepare(offset, length, write);
      if (p) waits.push(p);
    }
    if (waits.length === 0) return false;
    this.counters.hostWaits++;
    const epoch = this.epoch;
    const settled = () => {
      if (epoch !== this.epoch) return;
      this.loadWait = null;
      this.loadSettled = true;
    };
    this.loadWait = Promise.all(waits).then(settled, settled);
    return true;
  }

  /**
   * The byte ranges a well-formed request reads or writes: [offset, length, write]. A malformed
   * one touches nothing (handle() answers it with IOERR or UNSUPP at once).
   */
  private extents(c: Chain): [number, number, boolean][] {
    if (c.writableBytes < 1 || c.readableBytes < BLK_HEADER_BYTES) return [];
    const { type, sector } = readHeader(c);
    const dataIn = c.writableBytes - 1;
    const dataOut = c.readableBytes - BLK_HEADER_BYTES;
    if (type === VIRTIO_BLK_T_IN && dataOut === 0 && this.rangeOk(sector, dataIn)) return [[sector * SECTOR_SIZE, dataIn, false]];
    if (type === VIRTIO_BLK_T_OUT && dataIn === 0 && !this.backend.readonly && this.rangeOk(sector, dataOut)) return [[sector * SECTOR_SIZE, dataOut, true]];
    if (type === VIRTIO_BLK_T_WRITE_ZEROES && has(this.features, VIRTIO_BLK_F_WRITE_ZEROES) && dataIn === 0) {
      const n = dataOut / BLK_RANGE_BYTES;
      if (!Number.isInteger(n) || n < 1 || n > BLK_MAX_RANGES) return [];
      const raw = new Uint8Array(dataOut);
      c.read(BLK_HEADER_BYTES, raw);
      const dv = new DataView(raw.buffer);
      const out: [number, number, boolean][] = [];
      for (let i = 0; i < n; i++) {
        const s = dv.getUint32(i * BLK_RANGE_BYTES, true) + dv.getUint32(i * BLK_RANGE_BYTES + 4, true) * 0x1_0000_0000;
        const count = dv.getUint32(i * BLK_RANGE_BYTES + 8, true);
        if (count <= BLK_MAX_RANGE_SECTORS && this.rangeOk(s, count * SECTOR_SIZE)) out.push([s * SECTOR_SIZE, count * SECTOR_SIZE, true]);
      }
      return out;
    }
    return [];
  }

  /**
   * Serve one request. Returns the bytes written into the driver's buffers (data + the status
   * byte, ≥ 1), 0 when the request waits for an asynchronous flush, or -1 after needsReset.
   */
  private handle(c: Chain): number {
    if (c.writableBytes < 1) {
      this.ctx!.needsReset(`virtio-blk: request ${c.id} has no writable status byte (§5.2.6)`);
      return -1;
    }
    const statusAt = c.writableBytes - 1;
    if (c.readableBytes < BLK_HEADER_BYTES) return this.finish(c, statusAt, VIRTIO_BLK_S_IOERR, 0);
    const { type, sector } = readHeader(c);
    const dataIn = statusAt; // writable bytes before the status byte
    const dataOut = c.readableBytes - BLK_HEADER_BYTES; // readable bytes after the header

    switch (type) {
      case VIRTIO_BLK_T_IN: {
        this.counters.reads++;
        if (dataOut !== 0 || !this.rangeOk(sector, dataIn)) return this.finish(c, statusAt, VIRTIO_BLK_S_IOERR, 0);
        let done = 0;
        try {
          for (const v of c.writableViews(0, dataIn)) {
            this.backend.read(sector * SECTOR_SIZE + done, v);
            done += v.length;
          }
        } catch (e) {
          this.ctx!.log(`virtio-blk: read at sector ${sector}: ${(e as Error).message}`);
          return this.finish(c, statusAt, VIRTIO_BLK_S_IOERR, done);
        }
        this.counters.bytesRead += dataIn;
        return this.finish(c, statusAt, VIRTIO_BLK_S_OK, dataIn);
      }
      case VIRTIO_BLK_T_OUT: {
        this.counters.writes++;
        // §5.2.6.1: a read-only device fails writes and writes no data — whether or not the
        // driver accepted VIRTIO_BLK_F_RO.
        if (this.backend.readonly || dataIn !== 0 || !this.rangeOk(sector, dataOut)) {
          return this.finish(c, statusAt, VIRTIO_BLK_S_IOERR, 0);
        }
        let done = 0;
        try {
          for (const v of c.readableViews(BLK_HEADER_BYTES, dataOut)) {
            this.backend.write(sector * SECTOR_SIZE + done, v);
            done += v.length;
          }
        } catch (e) {
          this.ctx!.log(`virtio-blk: write at sector ${sector}: ${(e as Error).message}`);
          return this.finish(c, statusAt, VIRTIO_BLK_S_IOERR, 0);
        }
        this.counters.bytesWritten += dataOut;
        return this.finish(c, statusAt, VIRTIO_BLK_S_OK, 0);
      }
      case VIRTIO_BLK_T_FLUSH: {
        this.counters.flushes++;
        if (dataOut !== 0 || dataIn !== 0) return this.finish(c, statusAt, VIRTIO_BLK_S_IOERR, 0);
        // Flushes run one at a time, in arrival order: a later flush must cover what the earlier
        // ones covered, and the backend does not take overlapping flushes (block.ts).
        this.flushQueue.push(c);
        if (this.flushQueue.length === 1) return this.startFlush();
        return 0;
      }
      case VIRTIO_BLK_T_GET_ID: {
        this.counters.getIds++;
        if (dataOut !== 0 || dataIn < BLK_ID_BYTES) return this.finish(c, statusAt, VIRTIO_BLK_S_IOERR, 0);
        c.write(0, this.idBytes);
        return this.finish(c, statusAt, VIRTIO_BLK_S_OK, BLK_ID_BYTES);
      }
      case VIRTIO_BLK_T_DISCARD:
      case VIRTIO_BLK_T_WRITE_ZEROES: {
        const f = type === VIRTIO_BLK_T_DISCARD ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
        if (!has(this.features, f)) break; // not offered (a read-only disk): UNSUPP below
        if (dataIn !== 0) return this.finish(c, statusAt, VIRTIO_BLK_S_IOERR, 0);
        return this.finish(c, statusAt, this.ranges(c, type, dataOut), 0);
      }
    }
    // SECURE_ERASE, the legacy SCSI and BARRIER types, anything unknown or not offered.
    this.counters.unsupported++;
    return this.finish(c, statusAt, VIRTIO_BLK_S_UNSUPP, 0);
  }

  /**
   * DISCARD / WRITE_ZEROES (§5.2.6): the data is an array of 16-byte ranges. All of them are
   * checked before any is acted on. Unknown flag bits, or UNMAP on a discard → UNSUPP (§5.2.6.2);
   * too many ranges, too long a range or one outside the disk → IOERR. DISCARD is a no-op: the
   * device MAY deallocate and reads of discarded sectors are unspecified; WRITE_ZEROES writes
   * zeros (write_zeroes_may_unmap is 0: it never deallocates).
   */
  private ranges(c: Chain, type: number, bytes: number): number {
    const discard = type === VIRTIO_BLK_T_DISCARD;
    if (discard) this.counters.discards++;
    else this.counters.writeZeroes++;
    const n = bytes / BLK_RANGE_BYTES;
    if (!Number.isInteger(n) || n < 1 || n > BLK_MAX_RANGES) return VIRTIO_BLK_S_IOERR;
    const raw = new Uint8Array(bytes);
    c.read(BLK_HEADER_BYTES, raw);
    const dv = new DataView(raw.buffer);
    const list: { sector: number; count: number }[] = [];
    let status = VIRTIO_BLK_S_OK;
    for (let i = 0; i < n; i++) {
      const at = i * BLK_RANGE_BYTES;
      const sector = dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 0x1_0000_0000;
      const count = dv.getUint32(at + 8, true);
      const flags = dv.getUint32(at + 12, true);
      const allowed = discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
      if ((flags & ~allowed) !== 0) return VIRTIO_BLK_S_UNSUPP;
      if (count > BLK_MAX_RANGE_SECTORS || !this.rangeOk(sector, count * SECTOR_SIZE)) status = VIRTIO_BLK_S_IOERR;
      list.push({ sector, count });
    }
    if (status !== VIRTIO_BLK_S_OK || discard) return status;
    try {
      for (const r of list) {
        for (let done = 0; done < r.count * SECTOR_SIZE; done += ZEROS.length) {
          const len = Math.min(ZEROS.length, r.count * SECTOR_SIZE - done);
          this.backend.write(r.sector * SECTOR_SIZE + done, ZEROS.subarray(0, len));
        }
        this.counters.bytesWritten += r.count * SECTOR_SIZE;
      }
    } catch (e) {
      this.ctx!.log(`virtio-blk: write zeroes: ${(e as Error).message}`);
      return VIRTIO_BLK_S_IOERR;
    }
    return VIRTIO_BLK_S_OK;
  }

  /** Data of `bytes` at `sector`: whole sectors (§5.2.6.2) and wholly inside the disk. */
  private rangeOk(sector: number, bytes: number): boolean {
    if (bytes % SECTOR_SIZE !== 0 || sector > this.backend.size / SECTOR_SIZE) return false;
    return inBounds(this.backend.size, sector * SECTOR_SIZE, bytes);
  }

  /** Write the status byte last and return the used length: `data` bytes plus the status. */
  private finish(c: Chain, statusAt: number, status: number, data: number): number {
    this.complete(c, status, statusAt);
    return data + 1;
  }

  private complete(c: Chain, status: number, statusAt = c.writableBytes - 1): void {
    if (status === VIRTIO_BLK_S_IOERR) this.counters.ioErrors++;
    c.write(statusAt, new Uint8Array([status]));
  }

  /**
   * Flush the backend for the head of flushQueue. Synchronous backends answer at once: the
   * chain is completed here (returns 1, the status byte) and popped from the queue. Otherwise
   * the status lands in flushResult when the Promise settles and poll() completes the chain.
   */
  private startFlush(): number {
    const c = this.flushQueue[0]!;
    let r: void | Promise<void>;
    try {
      r = this.backend.flush();
    } catch (e) {
      this.ctx?.log(`virtio-blk: flush: ${(e as Error).message}`);
      this.flushQueue.shift();
      this.complete(c, VIRTIO_BLK_S_IOERR);
      return 1;
    }
    if (r === undefined) {
      this.flushQueue.shift();
      this.complete(c, VIRTIO_BLK_S_OK);
      return 1;
    }
    const epoch = this.epoch;
    const settled: Promise<void> = r.then(
      () => {
        if (epoch !== this.epoch) return;
        this.flushing = null;
        this.flushResult = VIRTIO_BLK_S_OK;
      },
      (e: unknown) => {
        if (epoch !== this.epoch) return;
        this.flushing = null;
        this.ctx?.log(`virtio-blk: flush: ${(e as Error)?.message ?? e}`);
        this.flushResult = VIRTIO_BLK_S_IOERR;
      },
    );
    this.flushing = settled;
    return 0;
  }

  /** Whether the driver accepted read-only (for the inspector; writes fail either way). */
  get negotiatedReadOnly(): boolean {
    return this.ctx !== null && has(this.ctx.features, VIRTIO_BLK_F_RO);
  }
}

/** The request header's type and sector (the chain has at least BLK_HEADER_BYTES readable). */
function readHeader(c: Chain): { type: number; sector: number } {
  const hdr = new Uint8Array(BLK_HEADER_BYTES);
  c.read(0, hdr);
  const dv = new DataView(hdr.buffer);
  // A 64-bit sector as a number: anything ≥ 2^53 is out of range of any disk anyway.
  return { type: dv.getUint32(0, true), sector: dv.getUint32(8, true) + dv.getUint32(12, true) * 0x1_0000_0000 };
}

/** A blk `--device`: the image (and read-only) its block backend opens. */
export type BlkSpec = BlockDeviceSpec;

/** The registry entry (devices/registry.ts). */
export const blkType: DeviceType<BlkSpec> = {
  name: "blk",
  deviceId: 2,
  summary: "a disk over a raw image the guest writes through to",
  options: [
    {
      key: "image", kind: "file", meta: "FILE", required: true, streams: true,
      help: "the raw image (Node: a file, or the http(s) URL of a disk manifest to stream it, writes kept for the run; the page: its own storage)",
      checkSize: (size) => (size === 0 || size % SECTOR_SIZE !== 0 ? `size ${size} is not a non-zero multiple of ${SECTOR_SIZE}` : null),
    },
    { key: "readonly", kind: "flag", help: "offer VIRTIO_BLK_F_RO and refuse writes" },
  ],
  // include/uapi/linux/virtio_blk.h
  features: {
    0: "VIRTIO_BLK_F_BARRIER", // legacy
    1: "VIRTIO_BLK_F_SIZE_MAX",
    2: "VIRTIO_BLK_F_SEG_MAX",
    4: "VIRTIO_BLK_F_GEOMETRY",
    5: "VIRTIO_BLK_F_RO",
    6: "VIRTIO_BLK_F_BLK_SIZE",
    7: "VIRTIO_BLK_F_SCSI", // legacy
    9: "VIRTIO_BLK_F_FLUSH",
    10: "VIRTIO_BLK_F_TOPOLOGY",
    11: "VIRTIO_BLK_F_CONFIG_WCE",
    12: "VIRTIO_BLK_F_MQ",
    13: "VIRTIO_BLK_F_DISCARD",
    14: "VIRTIO_BLK_F_WRITE_ZEROES",
    16: "VIRTIO_BLK_F_SECURE_ERASE",
  },
  config: BLK_CONFIG,
  pciClass: 0x018000,
  roles: ["disk"],
  backend: "block",
  page: { param: "disk", label: "Disk", off: "off", default: "pci-modern", order: 1 },
  create(spec, ctx) {
    if (!ctx.openBlock) throw new Error("virtio-blk: no block backend available in this host");
    return new VirtioBlk({ backend: ctx.openBlock(spec) });
  },
};
