// A single-producer single-consumer byte ring in a SharedArrayBuffer: how console output and
// keystrokes cross between the VM worker and the page (or the CLI's main thread) without a
// postMessage per byte (docs/ARCHITECTURE.md "Threads").
//
// Layout: Int32 [0] = head (next byte to read), [1] = tail (next byte to write), both
// free-running counters; the data follows at byte 8. Only the producer writes `tail` and only
// the consumer writes `head`; Atomics order the data writes before the index update. The
// consumer can sleep on `tail` with Atomics.wait (worker) or Atomics.waitAsync (page).

const HEAD = 0;
const TAIL = 1;
const DATA = 8;

export class ByteRing {
  readonly sab: SharedArrayBuffer;
  private readonly idx: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;

  /** Create a ring of `capacity` bytes (a power of two), or attach to an existing buffer. */
  constructor(capacityOrBuffer: number | SharedArrayBuffer) {
    if (typeof capacityOrBuffer === "number") {
      const cap = capacityOrBuffer;
      if (cap < 2 || (cap & (cap - 1)) !== 0) throw new RangeError("ring capacity must be a power of two");
      this.sab = new SharedArrayBuffer(DATA + cap);
    } else {
      this.sab = capacityOrBuffer;
    }
    this.idx = new Int32Array(this.sab, 0, 2);
    this.data = new Uint8Array(this.sab, DATA);
    this.mask = this.data.length - 1;
  }

  get capacity(): number {
    return this.data.length;
  }

  /** Bytes waiting to be read. */
  available(): number {
    return (Atomics.load(this.idx, TAIL) - Atomics.load(this.idx, HEAD)) | 0;
  }

  /** Producer: append as much of `bytes` as fits; returns how many were written. */
  write(bytes: Uint8Array): number {
    const tail = Atomics.load(this.idx, TAIL);
    const head = Atomics.load(this.idx, HEAD);
    const free = this.data.length - ((tail - head) | 0);
    const n = Math.min(free, bytes.length);
    for (let i = 0; i < n; i++) this.data[(tail + i) & this.mask] = bytes[i]!;
    if (n > 0) {
      Atomics.store(this.idx, TAIL, (tail + n) | 0);
      Atomics.notify(this.idx, TAIL);
    }
    return n;
  }

  /** Producer: append one byte; false if the ring is full. */
  push(byte: number): boolean {
    const tail = Atomics.load(this.idx, TAIL);
    if (((tail - Atomics.load(this.idx, HEAD)) | 0) >= this.data.length) return false;
    this.data[tail & this.mask] = byte;
    Atomics.store(this.idx, TAIL, (tail + 1) | 0);
    Atomics.notify(this.idx, TAIL);
    return true;
  }

  /** Consumer: take up to `max` bytes (a fresh copy). */
  read(max = Infinity): Uint8Array {
    const head = Atomics.load(this.idx, HEAD);
    const n = Math.min(max, (Atomics.load(this.idx, TAIL) - head) | 0);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.data[(head + i) & this.mask]!;
    if (n > 0) Atomics.store(this.idx, HEAD, (head + n) | 0);
    return out;
  }

  /** Consumer: take one byte, or -1 if empty. */
  shift(): number {
    const head = Atomics.load(this.idx, HEAD);
    if (head === Atomics.load(this.idx, TAIL)) return -1;
    const b = this.data[head & this.mask]!;
    Atomics.store(this.idx, HEAD, (head + 1) | 0);
    return b;
  }

  /** The tail counter, for Atomics.wait/waitAsync on new data. */
  get waitCell(): { array: Int32Array; index: number; value: number } {
    return { array: this.idx, index: TAIL, value: Atomics.load(this.idx, TAIL) };
  }
}
