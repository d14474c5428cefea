// An LZ4 block encoder (the LZ4 project's lz4_Block_format.md), for what Vireo compresses itself:
// guest RAM in a state file (devices/state/ram.ts). Greedy matching through a hash table of
// 4-byte sequences, as the reference's fast mode does; lz4.ts decodes the blocks. The format's
// end rules hold: the last 5 bytes are literals, and no match starts in the last 12.
//
// Why LZ4, measured on the default guest's RAM after boot (9.5 MiB of non-zero pages in 1 MiB
// chunks; best of 5, this 2-core machine): this encoder 4.1 MiB in 100 ms, decoded (lz4.ts) in
// 28 ms; fflate's deflate level 1 3.1 MiB in 351 ms, inflated in 97 ms (level 6: 2.9 MiB, 511
// and 87 ms) — size × time 2.6× better here, and a state is saved while a tab closes. The npm
// wasm builds are faster still (lz4-wasm 4.2 MiB, 20/13 ms; @bokuweb/zstd-wasm level 3
// 3.0 MiB, 56/15 ms), but zstd-wasm sizes its output from the untrusted frame header, both
// load their wasm by path at run time (not in the Node bundle) and ship as two packages or
// need an async start; the decoder here is the fuzzed, bounded one the kernel loader uses.

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const HASH_BITS = 16;
const MAX_OFFSET = 0xffff;

/** The most bytes encoding `n` bytes can take (incompressible input: literals and length bytes). */
export function lz4BlockBound(n: number): number {
  return n + Math.ceil(n / 255) + 16;
}

/** Encode `src` as one LZ4 block into `dst` (at least lz4BlockBound(src.length) long); returns its length. */
export function lz4BlockEncode(src: Uint8Array, dst: Uint8Array, table: Int32Array = new Int32Array(1 << HASH_BITS)): number {
  const n = src.length;
  table.fill(-1);
  let anchor = 0; // first literal not yet written
  let o = 0;
  const matchLimit = n - LAST_LITERALS;
  const read32 = (p: number) => src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24);
  const hash = (v: number) => Math.imul(v, 2654435761) >>> (32 - HASH_BITS);
  let ip = 0;
  while (ip < n - MF_LIMIT) {
    const seq = read32(ip);
    const h = hash(seq);
    const ref = table[h]!;
    table[h] = ip;
    if (ref < 0 || ip - ref > MAX_OFFSET || read32(ref) !== seq) { ip++; continue; }
    // Extend the match forward (never into the last literals).
    let len = MIN_MATCH;
    while (ip + len < matchLimit && src[ref + len] === src[ip + len]) len++;
    o = sequence(src, dst, o, anchor, ip - anchor, ip - ref, len);
    ip += len;
    anchor = ip;
  }
  // The last literals.
  return sequence(src, dst, o, anchor, n - anchor, 0, 0);
}

/** One sequence: `lit` literals from `from`, then (len > 0) a match of `len` at `offset`. */
function sequence(src: Uint8Array, dst: Uint8Array, o: number, from: number, lit: number, offset: number, len: number): number {
  const ml = len > 0 ? len - MIN_MATCH : 0;
  const token = o++;
  dst[token] = ((lit >= 15 ? 15 : lit) << 4) | (len > 0 ? (ml >= 15 ? 15 : ml) : 0);
  if (lit >= 15) o = lengthBytes(dst, o, lit - 15);
  dst.set(src.subarray(from, from + lit), o);
  o += lit;
  if (len === 0) return o;
  dst[o++] = offset & 0xff;
  dst[o++] = offset >>> 8;
  if (ml >= 15) o = lengthBytes(dst, o, ml - 15);
  return o;
}

function lengthBytes(dst: Uint8Array, o: number, rest: number): number {
  while (rest >= 255) { dst[o++] = 255; rest -= 255; }
  dst[o++] = rest;
  return o;
}
