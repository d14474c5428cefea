// LZ4 "legacy" frames, the format of an LZ4-compressed Linux kernel (`lz4 -l`, then the
// build's 4-byte little-endian size trailer; lib/decompress_unlz4.c reads the same). A frame is
// the magic 0x184C2102 followed by blocks, each a 32-bit little-endian compressed length and
// an independent LZ4 block of at most 8 MiB output. The block format is the LZ4 project's
// lz4_Block_format.md: sequences of a token (literal length << 4 | match length - 4), the
// literals, a 16-bit match offset; the last sequence has literals only.

export const LZ4_LEGACY_MAGIC = 0x184c2102;
const LEGACY_BLOCK_MAX = 8 << 20;

export class Lz4Error extends Error {}

/**
 * Decode a legacy-format stream. `expectedSize`, when given, bounds the output (and must be
 * met exactly); a trailing 4-byte size field such as the kernel build appends is accepted.
 */
export function lz4LegacyDecode(input: Uint8Array, expectedSize?: number): Uint8Array {
  const v = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (input.length < 4 || v.getUint32(0, true) !== LZ4_LEGACY_MAGIC) throw new Lz4Error("not an LZ4 legacy stream (bad magic)");
  const limit = expectedSize ?? input.length * 255; // LZ4 expands by at most ~255×
  let out = new Uint8Array(Math.min(limit, Math.max(input.length * 4, 1 << 16)));
  let o = 0;
  let i = 4;
  while (input.length - i >= 4) {
    const len = v.getUint32(i, true);
    if (len === LZ4_LEGACY_MAGIC) { i += 4; continue; } // concatenated streams
    // The last four bytes may be the build's size trailer rather than a block header.
    if (input.length - i === 4) break;
    i += 4;
    if (len > input.length - i) throw new Lz4Error(`block of ${len} bytes runs past the end of the input`);
    const room = Math.min(LEGACY_BLOCK_MAX, limit - o);
    if (out.length - o < room) {
      const bigger = new Uint8Array(Math.min(limit, Math.max(out.length * 2, o + room)));
      bigger.set(out.subarray(0, o));
      out = bigger;
    }
    o = decodeBlock(input, i, i + len, out, o, o + room);
    i += len;
  }
  if (expectedSize !== undefined && o !== expectedSize) throw new Lz4Error(`decoded ${o} bytes, expected ${expectedSize}`);
  return out.subarray(0, o);
}

/**
 * One independent LZ4 block (no frame) into `out`, which it must fill exactly: the output size
 * is known to the caller (a state file's RAM chunk), and nothing is written past `out`.
 */
export function lz4BlockDecode(input: Uint8Array, out: Uint8Array): void {
  const o = decodeBlock(input, 0, input.length, out, 0, out.length);
  if (o !== out.length) throw new Lz4Error(`block decoded to ${o} bytes, expected ${out.length}`);
}

/** One LZ4 block from input[i, end) into out[o, outEnd); returns the new output position. */
function decodeBlock(input: Uint8Array, i: number, end: number, out: Uint8Array, o: number, outEnd: number): number {
  const blockStart = o;
  while (i < end) {
    const token = input[i++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (i >= end) throw new Lz4Error("literal length runs past the block");
        b = input[i++]!;
        lit += b;
      } while (b === 255);
    }
    if (lit > end - i) throw new Lz4Error("literals run past the block");
    if (lit > outEnd - o) throw new Lz4Error("output larger than allowed");
    // Most literal runs are short: a byte loop beats making a subarray for each.
    if (lit < 64) for (const stop = i + lit; i < stop; ) out[o++] = input[i++]!;
    else {
      out.set(input.subarray(i, i + lit), o);
      i += lit;
      o += lit;
    }
    if (i === end) break; // the last sequence ends after its literals
    if (end - i < 2) throw new Lz4Error("match offset runs past the block");
    const offset = input[i]! | (input[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o - blockStart) throw new Lz4Error(`match offset ${offset} points before the block`);
    let len = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (i >= end) throw new Lz4Error("match length runs past the block");
        b = input[i++]!;
        len += b;
      } while (b === 255);
    }
    if (len > outEnd - o) throw new Lz4Error("output larger than allowed");
    let from = o - offset;
    if (offset >= len && len >= 64) {
      out.copyWithin(o, from, from + len);
      o += len;
    } else if (offset === 1) {
      // A run of one byte (a RAM page's zeros): fill, not a byte loop.
      out.fill(out[from]!, o, o + len);
      o += len;
    } else if (len >= 64) {
      // Overlapping: the last `offset` bytes repeat. Copy them, then ever longer whole periods.
      const stop = o + len;
      for (let period = offset; o < stop; period += period) {
        const n = Math.min(period, stop - o);
        out.copyWithin(o, from, from + n);
        o += n;
      }
    } else {
      // Short: byte by byte, which repeats the last `offset` bytes when the match overlaps
      // its own output.
      for (const stop = o + len; o < stop; ) out[o++] = out[from++]!;
    }
  }
  return o;
}
