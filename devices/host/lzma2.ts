// LZMA2, the chunked container around LZMA that .xz blocks hold (the xz file format's filter
// 0x21; Linux's lib/xz reads the same). Each chunk begins with a control byte:
//   0x00       end of the LZMA2 data
//   0x01       uncompressed chunk, dictionary reset first
//   0x02       uncompressed chunk
//   0x80-0xff  LZMA chunk; bits 5-6 say what is reset first: 0 nothing, 1 the state, 2 the state
//              with a new properties byte, 3 those and the dictionary; bits 0-4 are bits 16-20 of
//              the uncompressed size - 1
// then big-endian 16-bit fields: the uncompressed size - 1 (LZMA chunks: its low bits), the
// compressed size - 1 (LZMA chunks only), then the properties byte when the chunk sets one.
// The first chunk must reset the dictionary, and the first LZMA chunk after a dictionary reset
// must set properties. A chunk's sizes are known before it is decoded, so the output is reserved
// (and bounded) a chunk at a time, and an LZMA chunk must use exactly its compressed bytes.
import { LzmaDecoder, LzmaError } from "./lzma.ts";
import type { BoundedBytes } from "./bounded-bytes.ts";

/** The dictionary size a filter-properties byte gives (0..40: 4 KiB .. 4 GiB - 1). */
export function lzma2DictSize(byte: number): number {
  if (byte > 40) throw new LzmaError(`invalid LZMA2 dictionary size byte ${byte}`);
  if (byte === 40) return 0xffffffff;
  return (2 | (byte & 1)) * 2 ** ((byte >>> 1) + 11);
}

/**
 * Decode the LZMA2 data starting at input[at] into `out`, with a dictionary of `dictSize`
 * bytes; returns the input position just past its end marker.
 */
export function lzma2Decode(input: Uint8Array, at: number, out: BoundedBytes, dictSize: number, lzma = new LzmaDecoder()): number {
  let needDictReset = true;
  let needProps = true;
  let dictStart = out.length;
  for (;;) {
    if (at >= input.length) throw new LzmaError("LZMA2 data ends before its end marker");
    const control = input[at++]!;
    if (control === 0x00) return at;
    if (control >= 0xe0 || control === 0x01) {
      needDictReset = false;
      needProps = true;
      dictStart = out.length;
    } else if (needDictReset) {
      throw new LzmaError(`LZMA2 data does not begin with a dictionary reset (control byte 0x${control.toString(16)})`);
    }
    if (control >= 0x80) {
      const header = control >= 0xc0 ? 5 : 4;
      if (input.length - at < header) throw new LzmaError("LZMA2 chunk header cut short");
      const unpacked = (control & 0x1f) * 0x10000 + (input[at]! << 8) + input[at + 1]! + 1;
      const packed = (input[at + 2]! << 8) + input[at + 3]! + 1;
      if (control >= 0xc0) {
        lzma.setProperties(input[at + 4]!);
        needProps = false;
      } else if (needProps) {
        throw new LzmaError("LZMA2 chunk without properties after a dictionary reset");
      } else if (control >= 0xa0) {
        lzma.resetState();
      }
      at += header;
      if (packed > input.length - at) throw new LzmaError("LZMA2 chunk runs past the end of the input");
      out.reserve(unpacked);
      lzma.decodeChunk(input, at, at + packed, out.bytes, out.length, out.length + unpacked, dictStart, dictSize);
      out.length += unpacked;
      at += packed;
    } else {
      if (control > 0x02) throw new LzmaError(`invalid LZMA2 control byte 0x${control.toString(16)}`);
      if (input.length - at < 2) throw new LzmaError("LZMA2 chunk header cut short");
      const size = (input[at]! << 8) + input[at + 1]! + 1;
      at += 2;
      if (size > input.length - at) throw new LzmaError("uncompressed LZMA2 chunk runs past the end of the input");
      out.reserve(size);
      out.bytes.set(input.subarray(at, at + size), out.length);
      out.length += size;
      at += size;
    }
  }
}
