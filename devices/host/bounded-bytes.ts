// An output buffer that grows (doubling) up to a hard bound, for decoders whose output size is
// only known at the end: a small hostile input costs at most `max` bytes of memory, and asking
// for more is an error rather than an allocation.

export class BoundedBytes {
  bytes: Uint8Array;
  /** Bytes written so far (the start of the free space). */
  length = 0;

  /** `initial` is a guess of the final size (kept within `max`); `onOverflow` makes the error. */
  constructor(readonly max: number, initial: number, private readonly onOverflow: (wanted: number) => Error) {
    this.bytes = new Uint8Array(Math.max(0, Math.min(initial, max)));
  }

  /** Make room for `n` more bytes (this.bytes may be replaced), or throw past `max`. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.bytes.length) return;
    if (need > this.max) throw this.onOverflow(need);
    const bigger = new Uint8Array(Math.min(this.max, Math.max(need, this.bytes.length * 2, 1 << 16)));
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
  }

  /** What was written. */
  result(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}
