// A little-endian reader over bytes [start, end) of a buffer that never reads past `end`: each
// read names what it wanted, and running short throws the caller's own error (a 9P message and
// a state file are both hostile input, each with its error type).

export class LeReader {
  protected at: number;
  protected readonly dv: DataView;

  constructor(protected readonly buf: Uint8Array, start: number, protected readonly limit: number,
    private readonly short: (what: string, n: number, left: number) => Error) {
    this.at = start;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number { return this.at; }
  get remaining(): number { return this.limit - this.at; }

  /** Take n bytes: their offset in buf. */
  protected need(n: number, what: string): number {
    if (n > this.limit - this.at) throw this.short(what, n, this.limit - this.at);
    const at = this.at;
    this.at += n;
    return at;
  }

  u8(what = "a byte"): number { return this.buf[this.need(1, what)]!; }
  u16(what = "a u16"): number { return this.dv.getUint16(this.need(2, what), true); }
  u32(what = "a u32"): number { return this.dv.getUint32(this.need(4, what), true); }
  i32(what = "an i32"): number { return this.dv.getInt32(this.need(4, what), true); }
  f64(what = "an f64"): number { return this.dv.getFloat64(this.need(8, what), true); }
  u64(what = "a u64"): bigint { return this.dv.getBigUint64(this.need(8, what), true); }
  /** n bytes as a view of the input (no copy). */
  bytes(n: number, what = "bytes"): Uint8Array { const at = this.need(n, what); return this.buf.subarray(at, at + n); }
}
