// The byte level of a state file: a growable little-endian writer and a reader that never reads
// past its end. A state file is untrusted input (a download, a URL, a file handed out), so every
// read is bounds-checked and every length is checked against what is left before anything is
// allocated; a breach is a StateError naming what was being read.

/** A state that cannot be resumed: damaged, truncated, from another build, or not a state. */
import { LeReader } from "../host/le-reader.ts";

export class StateError extends Error {}

export class StateWriter {
  private buf = new Uint8Array(1 << 12);
  private view = new DataView(this.buf.buffer);
  private n = 0;

  get length(): number { return this.n; }

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }

  u8(v: number): void { this.room(1); this.buf[this.n++] = v; }
  u16(v: number): void { this.room(2); this.view.setUint16(this.n, v, true); this.n += 2; }
  u32(v: number): void { this.room(4); this.view.setUint32(this.n, v >>> 0, true); this.n += 4; }
  i32(v: number): void { this.room(4); this.view.setInt32(this.n, v, true); this.n += 4; }
  f64(v: number): void { this.room(8); this.view.setFloat64(this.n, v, true); this.n += 8; }
  u64(v: bigint): void { this.room(8); this.view.setBigUint64(this.n, BigInt.asUintN(64, v), true); this.n += 8; }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.n); this.n += b.length; }
  /** A length-prefixed (u32) byte string. */
  blob(b: Uint8Array): void { this.u32(b.length); this.bytes(b); }
  str(s: string): void { this.blob(new TextEncoder().encode(s)); }
  /** Overwrite 4 bytes written earlier (a length known only afterwards). */
  patchU32(at: number, v: number): void { this.view.setUint32(at, v >>> 0, true); }

  /** The bytes written (a copy-free view: do not write more afterwards). */
  finish(): Uint8Array { return this.buf.subarray(0, this.n); }
}

export class StateReader extends LeReader {
  constructor(buf: Uint8Array, private readonly what = "state") {
    super(buf, 0, buf.length, (w) => new StateError(`${what}: ${w} runs past the end (the file is truncated or damaged)`));
  }

  get left(): number { return this.remaining; }

  /** A length-prefixed byte string of at most `max` bytes, as a view. */
  blob(max: number, what = "a byte string"): Uint8Array {
    const n = this.u32(what);
    if (n > max) throw new StateError(`${this.what}: ${what} of ${n} bytes is longer than ${max}`);
    return this.bytes(n, what);
  }
  str(max: number, what = "a string"): string {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.blob(max, what));
    } catch (e) {
      if (e instanceof StateError) throw e;
      throw new StateError(`${this.what}: ${what} is not UTF-8`);
    }
  }
  /** Nothing may be left over: a section longer than its fields is as wrong as a shorter one. */
  end(): void {
    if (this.left !== 0) throw new StateError(`${this.what}: ${this.left} bytes left over after the last field`);
  }
}
