// Bounded gzip inflation for the boot images (host/initrd.ts, host/kernel-payload.ts), one gzip
// member at a time (pako's zlib port, the same code in Node, the page and its Worker). It
// checks what gzip itself guarantees — the member is complete, its CRC-32 and ISIZE trailer
// match — reports how many input bytes the member used (an initramfs may continue after it with
// padding and more archives, which the kernel reads on), and stops once the output passes
// `maxBytes`, so a small hostile file (127 KiB that inflates to 128 MiB) costs at most
// `maxBytes` of memory. Every failure is a BootError with one line.
import { ZStream, zlibInflateInit2, zlibInflate, Z_NO_FLUSH, Z_OK, Z_STREAM_END, Z_BUF_ERROR } from "pako";
import { BootError } from "../board/linux-boot.ts";

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
 * Output past `maxBytes` stops the inflater and is an error.
 */
export function gunzipMember(input: Uint8Array, at: number, maxBytes: number, what: string): GzipMember {
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
