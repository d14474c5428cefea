// The two cyclic redundancy checks the .xz format uses: CRC-32 (the IEEE 802.3 polynomial, as in
// gzip and zlib: it guards every xz header and is the kernel build's check) and CRC-64 (the
// ECMA-182 polynomial, xz's default check of the data). Both are the reflected, all-ones-initial,
// all-ones-final variants, computed a byte at a time from a 256-entry table. CRC-64 is kept as two
// 32-bit halves so the loop stays in integer arithmetic (a BigInt per byte would allocate).
import { nativeZlib } from "./native-zlib.ts";

const CRC32_POLY = 0xedb88320; // 0x04C11DB7 bit-reversed
const CRC64_POLY_LO = 0xd7870f42; // 0x42F0E1EBA9EA3693 bit-reversed = 0xC96C5795D7870F42
const CRC64_POLY_HI = 0xc96c5795;

const crc32Table = new Uint32Array(256);
const crc64Lo = new Uint32Array(256);
const crc64Hi = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  let lo = n;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    c = c & 1 ? (c >>> 1) ^ CRC32_POLY : c >>> 1;
    const odd = lo & 1;
    lo = (lo >>> 1) | ((hi & 1) << 31);
    hi >>>= 1;
    if (odd) {
      lo ^= CRC64_POLY_LO;
      hi ^= CRC64_POLY_HI;
    }
  }
  crc32Table[n] = c >>> 0;
  crc64Lo[n] = lo >>> 0;
  crc64Hi[n] = hi >>> 0;
}

/** Below this many bytes the table loop is as quick as a call into zlib. */
const NATIVE_MIN = 1024;

/**
 * CRC-32 of bytes[start, end): zlib's where the host has it (Node), ~10× the table loop's
 * speed — a state file's checksum covers megabytes, checked on every restore.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (nativeZlib && end - start >= NATIVE_MIN) return nativeZlib.crc32(bytes.subarray(start, end)) >>> 0;
  return crc32Portable(bytes, start, end);
}

/** crc32 a byte at a time, in JavaScript: the page's. */
export function crc32Portable(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = -1;
  for (let i = start; i < end; i++) c = crc32Table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-64 of bytes[start, end), as its eight little-endian bytes (the order xz stores it in). */
export function crc64(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  let lo = -1;
  let hi = -1;
  for (let i = start; i < end; i++) {
    const t = (lo ^ bytes[i]!) & 0xff;
    lo = crc64Lo[t]! ^ ((lo >>> 8) | (hi << 24));
    hi = crc64Hi[t]! ^ (hi >>> 8);
  }
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint32(0, ~lo >>> 0, true);
  v.setUint32(4, ~hi >>> 0, true);
  return out;
}
