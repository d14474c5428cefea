// Bounded gzip inflation for the boot images (host/initrd.ts, host/kernel-payload.ts), one gzip
// member at a time (pako's zlib port, the same code in Node, the page and its Worker). It
// checks what gzip itself guarantees — the member is complete, its CRC-32 and ISIZE trailer
// match — reports how many input bytes the member used (an initramfs may continue after it with
// padding and more archives, which the kernel reads on), and stops once the output passes
// `maxBytes`, so a small hostile file (127 KiB that inflates to 128 MiB) costs at most
// `maxBytes` of memory. Every failure is a BootError with one line.
import { ZStream, zlibInflateInit2, zlibInflate, Z_NO_FLUSH, Z_OK, Z_STREAM_END, Z_BUF_ERROR } from "pako";
import { BootError } from "../board/linux-boot.ts";
import { nativeZlib, type NativeZlib } from "./native-zlib.ts";

export type { NativeZlib };

export const mib = (n: number): string => `${Math.ceil(n / (1 << 20))} MiB`;

/** Output is taken in pieces (each a fresh buffer, kept until the end), growing to this size. */
const CHUNK_FIRST = 16 << 10;
const CHUNK = 256 << 10;
/** windowBits for zlib's inflateInit2: a 32 KiB window, gzip wrapper only (16 +). */
const GZIP_ONLY = 16 + 15;

export interface GzipMember {
  /** The member's inflated bytes. */
  data: Uint8Array;
  /** Offset in the input just past the member's trailer. */
  end: number;
}

/** zlib's messages, in words. */
function reason(msg: string): string {
  if (/incorrect data check/i.test(msg)) return "gzip CRC-32 mismatch (the data is corrupt)";
  if (/incorrect length check/i.test(msg)) return "gzip ISIZE mismatch (the length in its trailer is wrong)";
  if (/incorrect header check|unknown compression method|unknown header flags/i.test(msg)) return `not a valid gzip header (${msg})`;
  return `corrupt gzip data (${msg})`;
}

/**
 * Inflate the gzip member that starts at `input[at]`, or throw a BootError `${what}: <reason>`.
 * Output past `maxBytes` stops the inflater and is an error. In Node the host's zlib does it
 * (the default initramfs: ≈100 ms in pako on a cold start, ≈30 ms natively); in the page, pako.
 */
export function gunzipMember(input: Uint8Array, at: number, maxBytes: number, what: string): GzipMember {
  return nativeZlib ? gunzipMemberNative(nativeZlib, input, at, maxBytes, what) : gunzipMemberPortable(input, at, maxBytes, what);
}

const FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16;

/** Where the deflate data of the gzip member at `at` starts (RFC 1952 §2.3), or -1 if its
 *  header is not whole and sound. */
function gzipBody(input: Uint8Array, at: number, crc32: (d: Uint8Array) => number): number {
  if (input.length - at < 10 || input[at] !== 0x1f || input[at + 1] !== 0x8b || input[at + 2] !== 8) return -1;
  const flg = input[at + 3]!;
  if (flg & 0xe0) return -1;
  let p = at + 10;
  if (flg & FEXTRA) {
    if (input.length - p < 2) return -1;
    p += 2 + (input[p]! | (input[p + 1]! << 8));
  }
  for (const bit of [FNAME, FCOMMENT]) {
    if (!(flg & bit) || p > input.length) continue;
    const end = input.indexOf(0, p);
    if (end < 0) return -1;
    p = end + 1;
  }
  if (flg & FHCRC) {
    if (input.length - p < 2 || (crc32(input.subarray(at, p)) & 0xffff) !== (input[p]! | (input[p + 1]! << 8))) return -1;
    p += 2;
  }
  return p <= input.length ? p : -1;
}

/** gunzipMember on the host's zlib for a sound member: the header parsed here, the deflate data
 *  inflated natively, the trailer checked here. Anything wrong but the bound goes to the portable
 *  path for the verdict, so the message (which fault is met first: the end of the input, a bad
 *  code, the trailer) is the same on both. */
export function gunzipMemberNative(z: NativeZlib, input: Uint8Array, at: number, maxBytes: number, what: string): GzipMember {
  const portable = () => gunzipMemberPortable(input, at, maxBytes, what);
  const body = maxBytes < 1 ? -1 : gzipBody(input, at, z.crc32); // zlib's bound is at least a byte
  if (body < 0) return portable();
  let data: Uint8Array, used: number;
  try {
    const r = z.inflateRawSync(input.subarray(body), { info: true, maxOutputLength: maxBytes });
    data = new Uint8Array(r.buffer.buffer, r.buffer.byteOffset, r.buffer.byteLength);
    used = r.engine.bytesWritten;
  } catch (e) {
    // Past the bound: the portable path would say so as well, before any later fault.
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw new BootError(`${what}: inflates to more than ${mib(maxBytes)}, the guest's RAM`);
    return portable();
  }
  const t = body + used;
  if (input.length - t < 8) return portable();
  const v = new DataView(input.buffer, input.byteOffset + t, 8);
  if (v.getUint32(0, true) !== z.crc32(data) >>> 0 || v.getUint32(4, true) !== data.length >>> 0) return portable();
  return { data, end: t + 8 };
}

/** gunzipMember on pako (the page, and Node without node:zlib's crc32). */
export function gunzipMemberPortable(input: Uint8Array, at: number, maxBytes: number, what: string): GzipMember {
  const strm = new ZStream();
  zlibInflateInit2(strm, GZIP_ONLY);
  strm.input = input;
  strm.next_in = at;
  strm.avail_in = input.length - at;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let chunk = CHUNK_FIRST;
  for (;;) {
    const room = Math.max(1, Math.min(chunk, maxBytes - total + 1)); // one byte past the bound shows it was crossed
    chunk = Math.min(CHUNK, chunk * 2);
    strm.output = new Uint8Array(room);
    strm.next_out = 0;
    strm.avail_out = room;
    const status = zlibInflate(strm, Z_NO_FLUSH);
    if (strm.next_out > 0) {
      total += strm.next_out;
      if (total > maxBytes) throw new BootError(`${what}: inflates to more than ${mib(maxBytes)}, the guest's RAM`);
      chunks.push(strm.output.subarray(0, strm.next_out));
    }
    if (status === Z_STREAM_END) break;
    if (status === Z_OK && strm.avail_out === 0) continue; // output full: more to come
    if ((status === Z_OK || status === Z_BUF_ERROR) && strm.avail_in === 0) {
      throw new BootError(`${what}: the gzip stream ends early (the file is truncated)`);
    }
    throw new BootError(`${what}: ${reason(strm.msg || `zlib status ${status}`)}`);
  }
  let data: Uint8Array;
  if (chunks.length === 1) data = chunks[0]!;
  else {
    data = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      data.set(c, o);
      o += c.length;
    }
  }
  return { data, end: strm.next_in };
}
