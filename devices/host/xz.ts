// The .xz container (The .xz File Format, tukaani.org), one stream of it:
//   stream header   magic FD '7zXZ' 00, two flag bytes (the check type), their CRC-32
//   blocks          a header (its size, flags, optional sizes, the filter chain, CRC-32), the
//                   filtered data, zero padding to 4 bytes, the check of the uncompressed data
//   index           00, the record count, per block its unpadded and uncompressed sizes, zero
//                   padding, CRC-32
//   stream footer   CRC-32, the index size / 4 - 1, the flags again, 'YZ'
// Sizes are multi-byte integers (7 bits a byte, low first). Of the filters, only what a kernel
// build uses is decoded (Linux's scripts/xz_wrap.sh: --x86 --lzma2): LZMA2 alone or after the x86 BCJ
// filter; the checks none, CRC-32 and CRC-64. Everything else is refused by name, and every
// field that can be checked is: a damaged stream is an XzError, its output never more than
// `maxBytes`. The LZMA2 dictionary costs nothing extra (the output is the dictionary), so its
// declared size is only a limit on match distances.
import { crc32, crc64 } from "./crc.ts";
import { lzma2Decode, lzma2DictSize } from "./lzma2.ts";
import { LzmaDecoder, LzmaError } from "./lzma.ts";
import { bcjX86Decode } from "./bcj-x86.ts";
import { BoundedBytes } from "./bounded-bytes.ts";

export class XzError extends Error {}

export const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FOOTER_MAGIC = [0x59, 0x5a];
const HEADER_SIZE = 12;
const FILTER_BCJ_X86 = 0x04;
const FILTER_LZMA2 = 0x21;
/** Check field sizes by check ID (the spec fixes them even for IDs it has not assigned). */
const CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
const CHECK_NAME: Record<number, string> = { 0: "none", 1: "CRC-32", 4: "CRC-64", 10: "SHA-256" };
/** Names of the filters the spec defines, for the refusal message. */
const FILTER_NAME: Record<number, string> = { 3: "Delta", 4: "x86 BCJ", 5: "PowerPC BCJ", 6: "IA-64 BCJ", 7: "ARM BCJ", 8: "ARM-Thumb BCJ", 9: "SPARC BCJ", 0x0a: "ARM64 BCJ", 0x21: "LZMA2" };

export interface XzStream {
  /** The stream's uncompressed bytes. */
  data: Uint8Array;
  /** Offset in the input just past the stream footer. */
  end: number;
}

export const isXz = (b: Uint8Array): boolean => b.length >= XZ_MAGIC.length && XZ_MAGIC.every((m, i) => b[i] === m);

const le32 = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** A multi-byte integer at b[at] (within b[.., end)): its value and the position after it. */
function vli(b: Uint8Array, at: number, end: number, what: string): [number, number] {
  let value = 0;
  for (let n = 0; n < 9; n++) {
    if (at >= end) throw new XzError(`${what}: integer runs past its field`);
    const byte = b[at++]!;
    value += (byte & 0x7f) * 2 ** (7 * n);
    if ((byte & 0x80) === 0) {
      if (byte === 0 && n > 0) throw new XzError(`${what}: integer not in its shortest form`);
      if (value > Number.MAX_SAFE_INTEGER) throw new XzError(`${what}: integer too large`);
      return [value, at];
    }
  }
  throw new XzError(`${what}: integer longer than nine bytes`);
}

/** The filter chain of a block header: the dictionary size and the BCJ start offset, if any. */
interface Chain {
  dictSize: number;
  bcjOrigin?: number;
}

/** The block header at input[at] (its first byte non-zero): its size, sizes if stated, chain. */
function blockHeader(input: Uint8Array, at: number, n: number): { size: number; packed?: number; unpacked?: number; chain: Chain } {
  const what = `block ${n} header`;
  const size = (input[at]! + 1) * 4;
  if (size > input.length - at) throw new XzError(`${what} runs past the end of the input`);
  const end = at + size - 4;
  if (crc32(input, at, end) !== le32(input, end)) throw new XzError(`${what}: CRC-32 mismatch`);
  const flags = input[at + 1]!;
  if (flags & 0x3c) throw new XzError(`${what}: reserved flag bits set (0x${flags.toString(16)})`);
  let p = at + 2;
  let packed: number | undefined;
  let unpacked: number | undefined;
  if (flags & 0x40) [packed, p] = vli(input, p, end, `${what} compressed size`);
  if (flags & 0x80) [unpacked, p] = vli(input, p, end, `${what} uncompressed size`);
  const filters: { id: number; props: Uint8Array }[] = [];
  for (let f = 0; f <= (flags & 3); f++) {
    let id: number;
    let propsSize: number;
    [id, p] = vli(input, p, end, `${what} filter ID`);
    [propsSize, p] = vli(input, p, end, `${what} filter properties size`);
    if (propsSize > end - p) throw new XzError(`${what}: filter properties run past the header`);
    filters.push({ id, props: input.subarray(p, p + propsSize) });
    p += propsSize;
  }
  for (; p < end; p++) if (input[p] !== 0) throw new XzError(`${what}: non-zero header padding`);
  const names = filters.map((f) => FILTER_NAME[f.id] ?? `filter 0x${f.id.toString(16)}`).join(" + ");
  const last = filters[filters.length - 1]!;
  const first = filters[0]!;
  const bcj = filters.length === 2 && first.id === FILTER_BCJ_X86;
  if (last.id !== FILTER_LZMA2 || (filters.length > 1 && !bcj)) throw new XzError(`${what}: unsupported filter chain ${names} (only LZMA2, alone or after x86 BCJ)`);
  // LZMA2: the dictionary size byte; x86 BCJ: nothing, or a 32-bit start offset.
  if (last.props.length !== 1 || (bcj && first.props.length !== 0 && first.props.length !== 4)) throw new XzError(`${what}: bad filter properties size`);
  let dictSize: number;
  try {
    dictSize = lzma2DictSize(last.props[0]!);
  } catch (e) {
    throw new XzError(`${what}: ${(e as Error).message}`);
  }
  const chain: Chain = { dictSize };
  if (bcj) chain.bcjOrigin = first.props.length === 4 ? le32(first.props, 0) : 0;
  return { size, packed, unpacked, chain };
}

/** Compare the check field at input[at] with the check of data, or throw. */
function verify(check: number, data: Uint8Array, start: number, end: number, input: Uint8Array, at: number, n: number): void {
  if (check === 1) {
    if (crc32(data, start, end) !== le32(input, at)) throw new XzError(`block ${n}: CRC-32 mismatch (the data is corrupt)`);
  } else if (check === 4) {
    const c = crc64(data, start, end);
    for (let i = 0; i < 8; i++) if (c[i] !== input[at + i]) throw new XzError(`block ${n}: CRC-64 mismatch (the data is corrupt)`);
  }
}

/**
 * Decode the .xz stream at the start of `input`; output past `maxBytes` is an error. `sizeHint`,
 * when the caller knows the size (a kernel build's trailer), sizes the output buffer up front.
 */
export function xzDecode(input: Uint8Array, maxBytes: number, sizeHint = input.length * 4): XzStream {
  if (input.length < HEADER_SIZE) throw new XzError("too short for an xz stream header");
  if (!isXz(input)) throw new XzError("not an xz stream (bad magic)");
  if (crc32(input, 6, 8) !== le32(input, 8)) throw new XzError("stream header: CRC-32 mismatch");
  const check = input[7]!;
  if (input[6] !== 0 || check > 0x0f) throw new XzError(`stream header: unsupported flags 0x${input[6]!.toString(16)}${check.toString(16).padStart(2, "0")}`);
  if (check !== 0 && check !== 1 && check !== 4) throw new XzError(`unsupported check type ${CHECK_NAME[check] ?? check} (only none, CRC-32 and CRC-64 are decoded)`);
  const checkSize = CHECK_SIZE[check]!;

  const out = new BoundedBytes(maxBytes, sizeHint, () => new XzError(`unpacks to more than its limit of ${maxBytes} bytes`));
  const lzma = new LzmaDecoder();
  const records: [number, number][] = []; // per block: unpadded size, uncompressed size
  let at = HEADER_SIZE;
  for (;;) {
    if (at >= input.length) throw new XzError("stream ends before its index");
    if (input[at] === 0) break; // the index indicator
    const n = records.length + 1;
    const header = blockHeader(input, at, n);
    const dataStart = at + header.size;
    const outStart = out.length;
    let dataEnd: number;
    try {
      dataEnd = lzma2Decode(input, dataStart, out, header.chain.dictSize, lzma);
    } catch (e) {
      if (e instanceof LzmaError) throw new XzError(`block ${n}: ${e.message}`);
      throw e;
    }
    const packed = dataEnd - dataStart;
    const unpacked = out.length - outStart;
    if (header.packed !== undefined && header.packed !== packed) throw new XzError(`block ${n}: compressed size ${packed}, its header says ${header.packed}`);
    if (header.unpacked !== undefined && header.unpacked !== unpacked) throw new XzError(`block ${n}: uncompressed size ${unpacked}, its header says ${header.unpacked}`);
    if (header.chain.bcjOrigin !== undefined) bcjX86Decode(out.bytes, outStart, out.length, header.chain.bcjOrigin);
    at = dataEnd;
    for (; (at - dataStart) % 4 !== 0; at++) {
      if (at >= input.length) throw new XzError(`block ${n}: stream ends in the block padding`);
      if (input[at] !== 0) throw new XzError(`block ${n}: non-zero block padding`);
    }
    if (checkSize > input.length - at) throw new XzError(`block ${n}: stream ends in the check field`);
    verify(check, out.bytes, outStart, out.length, input, at, n);
    at += checkSize;
    records.push([header.size + packed + checkSize, unpacked]);
  }

  // The index must list exactly the blocks seen.
  const indexStart = at;
  let count: number;
  [count, at] = vli(input, at + 1, input.length, "index");
  if (count !== records.length) throw new XzError(`index lists ${count} blocks, the stream has ${records.length}`);
  for (const [n, [unpadded, unpacked]] of records.entries()) {
    let u: number;
    let s: number;
    [u, at] = vli(input, at, input.length, "index");
    [s, at] = vli(input, at, input.length, "index");
    if (u !== unpadded || s !== unpacked) throw new XzError(`index record ${n + 1} (${u}, ${s}) does not match block ${n + 1} (${unpadded}, ${unpacked})`);
  }
  for (; (at - indexStart) % 4 !== 0; at++) {
    if (at >= input.length) throw new XzError("stream ends in the index padding");
    if (input[at] !== 0) throw new XzError("non-zero index padding");
  }
  if (input.length - at < 4 + HEADER_SIZE) throw new XzError("stream ends in its index or footer");
  if (crc32(input, indexStart, at) !== le32(input, at)) throw new XzError("index: CRC-32 mismatch");
  at += 4;
  const indexSize = at - indexStart;

  const footer = at;
  if (crc32(input, footer + 4, footer + 10) !== le32(input, footer)) throw new XzError("stream footer: CRC-32 mismatch");
  if ((le32(input, footer + 4) + 1) * 4 !== indexSize) throw new XzError("stream footer: its index size does not match the index");
  if (input[footer + 8] !== input[6] || input[footer + 9] !== input[7]) throw new XzError("stream footer: flags differ from the stream header's");
  if (input[footer + 10] !== FOOTER_MAGIC[0] || input[footer + 11] !== FOOTER_MAGIC[1]) throw new XzError("stream footer: bad magic");
  return { data: out.result(), end: footer + HEADER_SIZE };
}
