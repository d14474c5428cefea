// A single-producer single-consumer ring of whole Ethernet frames in a SharedArrayBuffer: how
// frames cross between a VM worker and the page, or between two VM workers (docs/ARCHITECTURE.md
// "Threads": rings plus Atomics.notify, no postMessage per frame). The layout is the ByteRing's
// (byte-ring.ts) — Int32 [0] head, [1] tail, free-running byte counters, data from byte 8 — with
// each frame stored as a little-endian u16 length and its bytes, wrapping at the end. A frame
// goes in whole or not at all: a full ring drops it, as a full NIC FIFO does.

const HEAD = 0;
const TAIL = 1;
const DATA = 8;
/** The largest frame a record can hold (u16 length). */
export const FRAME_MAX = 0xffff;

export class FrameRing {
  readonly sab: SharedArrayBuffer;
  private readonly idx: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;

  /** A ring of `capacity` bytes (a power of two), or one attached to an existing buffer. */
  constructor(capacityOrBuffer: number | SharedArrayBuffer) {
    if (typeof capacityOrBuffer === "number") {
      const cap = capacityOrBuffer;
      if (cap < 4 || (cap & (cap - 1)) !== 0) throw new RangeError("ring capacity must be a power of two");
      this.sab = new SharedArrayBuffer(DATA + cap);
    } else {
      this.sab = capacityOrBuffer;
      const cap = this.sab.byteLength - DATA;
      if (cap < 4 || (cap & (cap - 1)) !== 0) throw new RangeError("frame ring buffer has no power-of-two data area");
    }
    this.idx = new Int32Array(this.sab, 0, 2);
    this.data = new Uint8Array(this.sab, DATA);
    this.mask = this.data.length - 1;
  }

  /** Bytes (records) waiting; 0 when empty. */
  available(): number {
    return (Atomics.load(this.idx, TAIL) - Atomics.load(this.idx, HEAD)) | 0;
  }

  /**
   * Producer: append `frame`; false (nothing written) when it does not fit. `notify` false
   * leaves waking the consumer to a later notify() (one wake-up for a batch: a notify that
   * reaches a waiter costs tens of microseconds).
   */
  push(frame: Uint8Array, notify = true): boolean {
    const n = frame.length;
    if (n > FRAME_MAX) return false;
    const tail = Atomics.load(this.idx, TAIL);
    const free = this.data.length - ((tail - Atomics.load(this.idx, HEAD)) | 0);
    if (free < n + 2) return false;
    const m = this.mask;
    this.data[tail & m] = n & 0xff;
    this.data[(tail + 1) & m] = n >>> 8;
    const start = (tail + 2) & m;
    const first = Math.min(n, this.data.length - start);
    this.data.set(frame.subarray(0, first), start);
    if (first < n) this.data.set(frame.subarray(first), 0);
    Atomics.store(this.idx, TAIL, (tail + 2 + n) | 0);
    if (notify) Atomics.notify(this.idx, TAIL);
    return true;
  }

  /** Wake a consumer sleeping on waitCell (after pushes with notify false). */
  notify(): void {
    Atomics.notify(this.idx, TAIL);
  }

  /** Consumer: the next frame (a copy), or null when empty. */
  pop(): Uint8Array | null {
    const head = Atomics.load(this.idx, HEAD);
    const used = (Atomics.load(this.idx, TAIL) - head) | 0;
    if (used < 2) return null;
    const m = this.mask;
    const n = this.data[head & m]! | (this.data[(head + 1) & m]! << 8);
    if (n + 2 > used) return null; // cannot happen with one honest producer; never read past the tail
    const out = new Uint8Array(n);
    const start = (head + 2) & m;
    const first = Math.min(n, this.data.length - start);
    out.set(this.data.subarray(start, start + first));
    if (first < n) out.set(this.data.subarray(0, n - first), first);
    Atomics.store(this.idx, HEAD, (head + 2 + n) | 0);
    return out;
  }

  /** Consumer: the next frame copied into `dst` (which must hold FRAME_MAX bytes or the frame); its length, or -1 when empty. */
  popInto(dst: Uint8Array): number {
    const head = Atomics.load(this.idx, HEAD);
    const used = (Atomics.load(this.idx, TAIL) - head) | 0;
    if (used < 2) return -1;
    const m = this.mask;
    const n = this.data[head & m]! | (this.data[(head + 1) & m]! << 8);
    if (n + 2 > used) return -1;
    if (n <= dst.length) {
      const start = (head + 2) & m;
      const first = Math.min(n, this.data.length - start);
      dst.set(this.data.subarray(start, start + first));
      if (first < n) dst.set(this.data.subarray(0, n - first), first);
    }
    Atomics.store(this.idx, HEAD, (head + 2 + n) | 0);
    return n <= dst.length ? n : 0; // a frame too large for dst is skipped (length 0: dropped)
  }

  /** Where a consumer sleeps for the next frame: Atomics.wait(array, index, value). */
  get waitCell(): { array: Int32Array; index: number; value: number } {
    return { array: this.idx, index: TAIL, value: Atomics.load(this.idx, TAIL) };
  }
}
