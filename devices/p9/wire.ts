// 9P wire primitives: little-endian integers, strings (u16 length + UTF-8 bytes) and qids, read
// from and written to byte buffers. Everything the guest sends is hostile: every read is bounds
// checked and a short or malformed field throws ProtoError, which the server turns into an
// Rlerror (EPROTO) instead of letting it escape. Field layout: 9P2000 intro(5) "Data types"
// and the 9P2000.L additions (Linux include/net/9p/9p.h, net/9p/protocol.c format letters
// b w d q s Q).

import { LeReader } from "../host/le-reader.ts";

/** A message that does not parse (short, a length past the end, bad UTF-8 …). */
export class ProtoError extends Error {}

/** qid: type[1] version[4] path[8] — the server's unique id of a file (13 bytes). */
export interface Qid {
  type: number;
  version: number;
  path: bigint;
}
export const QID_BYTES = 13;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Enc = new TextEncoder();

export class Reader extends LeReader {
  /** Read `buf` from `start` up to (not including) `end`. */
  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    super(buf, start, end, (what, n, left) => new ProtoError(`${what}: needs ${n} bytes, ${left} left`));
  }

  /** A u64 that must fit a JS number exactly (file offsets, sizes): larger is EINVAL-worthy, so ProtoError. */
  u64n(what = "u64"): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtoError(`${what}: ${v} too large`);
    return Number(v);
  }

  /** s: len[2] then len bytes of UTF-8 (9P strings carry no NUL). */
  str(what = "string"): string {
    const n = this.u16(what);
    const at = this.need(n, what);
    try {
      return utf8.decode(this.buf.subarray(at, at + n));
    } catch {
      throw new ProtoError(`${what}: not UTF-8`);
    }
  }

  qid(what = "qid"): Qid {
    return { type: this.u8(what), version: this.u32(what), path: this.u64(what) };
  }
}

/** A growable little-endian writer for replies. */
export class Writer {
  private buf: Uint8Array;
  private dv: DataView;
  private at = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.dv = new DataView(this.buf.buffer);
  }

  get length(): number { return this.at; }

  private room(n: number): number {
    if (this.at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
      next.set(this.buf.subarray(0, this.at));
      this.buf = next;
      this.dv = new DataView(next.buffer);
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  // room() may replace buf and dv, so it runs before either is read.
  u8(v: number): this { const at = this.room(1); this.buf[at] = v; return this; }
  u16(v: number): this { const at = this.room(2); this.dv.setUint16(at, v, true); return this; }
  u32(v: number): this { const at = this.room(4); this.dv.setUint32(at, v >>> 0, true); return this; }
  u64(v: bigint | number): this {
    const at = this.room(8);
    this.dv.setBigUint64(at, BigInt.asUintN(64, typeof v === "bigint" ? v : BigInt(Math.trunc(v))), true);
    return this;
  }
  str(s: string): this {
    const b = utf8Enc.encode(s);
    if (b.length > 0xffff) throw new RangeError("9P string longer than 65535 bytes");
    return this.u16(b.length).bytes(b);
  }
  bytes(b: Uint8Array): this { const at = this.room(b.length); this.buf.set(b, at); return this; }
  qid(q: Qid): this { return this.u8(q.type).u32(q.version).u64(q.path); }

  /** Overwrite a u32 already written (the size[4] field once the message is complete). */
  patchU32(at: number, v: number): void { this.dv.setUint32(at, v >>> 0, true); }

  /** The bytes written (a view into the writer's buffer). */
  finish(): Uint8Array { return this.buf.subarray(0, this.at); }
}

/** Bytes a string takes on the wire: 2 + its UTF-8 length. */
export function strBytes(s: string): number {
  return 2 + utf8Enc.encode(s).length;
}
