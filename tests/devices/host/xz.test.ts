// xzDecode against the real xz tool: what `xz` compresses (the kernel build's options, other
// checks, several blocks, incompressible data, empty input, other LZMA properties and
// dictionary sizes) comes back byte for byte; what it cannot vouch for is an XzError that says
// why — a refused filter or check, a damaged or truncated stream, output past the bound.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { xzDecode, XzError } from "../../../devices/host/xz.ts";
import { lz4LegacyDecode } from "../../../devices/host/lz4.ts";
import { crc32 } from "../../../devices/host/crc.ts";

/** `xz` (xz-utils) with these options over `data`: the expected bytes come from outside. */
const xz = (data: Uint8Array, ...opts: string[]) => new Uint8Array(execFileSync("xz", ["-c", "--format=xz", ...opts], { input: data, maxBuffer: 64 << 20 }));
const decode = (bytes: Uint8Array, max = 64 << 20) => xzDecode(bytes, max).data;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;

/** Deterministic bytes (xorshift32). */
function random(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s;
  }
  return out;
}

// 32-bit x86 code for the BCJ filter: the start of the default guest's vmlinux (its .text).
const bzImage = new Uint8Array(readFileSync(new URL("../../../guest-images/bzImage", import.meta.url)));
const hv = new DataView(bzImage.buffer, bzImage.byteOffset);
const payloadAt = (bzImage[0x1f1]! + 1) * 512 + hv.getUint32(0x248, true);
const vmlinux = lz4LegacyDecode(bzImage.subarray(payloadAt, payloadAt + hv.getUint32(0x24c, true)));
const code = vmlinux.subarray(0x1000, 0x1000 + (96 << 10));
// Bytes crowded with E8/E9 and 00/FF, so every case of the filter's rule (candidates one, two,
// three bytes apart; operands ending in 00/FF or not) occurs many times.
const calls = random(32 << 10, 7).map((b, i) => [0xe8, 0xe9, 0x00, 0xff, b][(b * 31 + i) % 5]!);
const text = new TextEncoder().encode("the quick brown fox jumps over the lazy dog. ".repeat(2000));

test("the kernel build's options (--check=crc32 --x86 --lzma2=dict=...): x86 code and call-dense bytes", () => {
  // The build's dict=32MiB makes the encoder allocate ~370 MiB; the data fits in 1 MiB anyway.
  for (const [what, data] of [["vmlinux code", code], ["E8/E9-dense bytes", calls]] as const) {
    const packed = xz(data, "--check=crc32", "--x86", "--lzma2=dict=1MiB");
    assert.ok(same(decode(packed), data), what);
  }
  // A start offset for the filter (its 4-byte properties).
  assert.ok(same(decode(xz(code, "--x86=start=4096", "--lzma2=preset=6")), code), "x86 start offset");
});

test("checks CRC-64 and none, several blocks, sizes in the block headers", () => {
  assert.ok(same(decode(xz(text, "--check=crc64")), text), "crc64");
  assert.ok(same(decode(xz(code, "--check=none", "--x86", "--lzma2")), code), "none");
  // Single-threaded blocks carry no sizes; threaded ones carry both in each header.
  assert.ok(same(decode(xz(code, "--check=crc32", "--x86", "--lzma2=dict=64KiB", "--block-size=40000")), code), "blocks");
  assert.ok(same(decode(xz(code, "-T2", "--block-size=50000")), code), "blocks with sizes");
});

test("incompressible data (uncompressed LZMA2 chunks), empty input, other lc/lp/pb and dictionaries", () => {
  const noise = random(80 << 10, 99);
  assert.ok(same(decode(xz(noise, "--check=crc32")), noise), "noise");
  // Noise between text: LZMA chunks, then uncompressed ones, then LZMA again without a reset.
  const mixed = new Uint8Array([...text.subarray(0, 30000), ...noise, ...text.subarray(0, 30000)]);
  assert.ok(same(decode(xz(mixed)), mixed), "mixed");
  assert.equal(decode(xz(new Uint8Array(0))).length, 0, "empty");
  const some = code.subarray(0, 32 << 10);
  for (const lzma2 of ["lc=0,lp=0,pb=0", "lc=0,lp=4,pb=4", "lc=4,lp=0,pb=2", "lc=1,lp=3,pb=1", "preset=0", "dict=4KiB,nice=273"]) {
    assert.ok(same(decode(xz(some, `--lzma2=${lzma2}`)), some), lzma2);
  }
});

test("the stream's end is reported; what follows it is left alone", () => {
  const packed = xz(text);
  const r = xzDecode(new Uint8Array([...packed, 1, 2, 3, 4]), 1 << 20);
  assert.equal(r.end, packed.length);
  assert.ok(same(r.data, text));
});

/** The stream with one block whose header byte at `offset` is set to `value` (CRC-32 fixed up). */
function editBlockHeader(packed: Uint8Array, offset: number, value: number): Uint8Array {
  const out = packed.slice();
  const size = (out[12]! + 1) * 4;
  out[12 + offset] = value;
  new DataView(out.buffer).setUint32(12 + size - 4, crc32(out, 12, 12 + size - 4), true);
  return out;
}

test("refused and damaged streams are XzErrors that say why", () => {
  const packed = xz(code, "--check=crc32", "--x86", "--lzma2=dict=64KiB");
  const big = xz(text, "--lzma2=dict=64KiB");
  // The block's check field: just before the index, whose size the footer gives.
  const indexSize = (new DataView(packed.buffer).getUint32(packed.length - 8, true) + 1) * 4;
  const badData = packed.slice();
  badData[packed.length - 12 - indexSize - 2]! ^= 0x10;
  const badHeader = packed.slice();
  badHeader[13]! ^= 0x80;
  const midData = packed.slice();
  midData[5000]! ^= 0x01;
  // The block header's LZMA2 dictionary byte (after the BCJ filter flags: 04 00, then 21 01):
  // lowered to 4 KiB, the matches that reach farther back are past the dictionary.
  const smallDict = editBlockHeader(packed, 6, 0);
  const cases: [string, Uint8Array, RegExp, number?][] = [
    ["SHA-256 check", xz(text, "--check=sha256"), /unsupported check type SHA-256/],
    ["Delta filter", xz(text, "--delta=dist=4", "--lzma2"), /unsupported filter chain Delta \+ LZMA2/],
    ["ARM BCJ filter", xz(text, "--arm", "--lzma2"), /unsupported filter chain ARM BCJ \+ LZMA2/],
    ["not xz (an .lzma file)", new Uint8Array(execFileSync("xz", ["-c", "--format=lzma"], { input: text })), /not an xz stream/],
    ["block check field flipped", badData, /block 1: CRC-32 mismatch/],
    ["block header flipped", badHeader, /block 1 header: CRC-32 mismatch/],
    ["compressed data flipped", midData, /block 1: (LZMA|match|CRC-32|uncompressed|LZMA2)/],
    ["dictionary smaller than the matches", smallDict, /match distance \d+ reaches before the start of the dictionary/],
    ["output past the bound", big, /unpacks to more than its limit of 65536 bytes/, 64 << 10],
    ["cut in the middle", packed.subarray(0, packed.length >> 1), /block 1: LZMA/],
    ["cut in the index", packed.subarray(0, packed.length - 14), /index|footer/],
    ["cut in the footer", packed.subarray(0, packed.length - 3), /footer/],
  ];
  for (const [what, bytes, reason, max] of cases) {
    assert.throws(() => xzDecode(bytes, max ?? 64 << 20), (e: unknown) => e instanceof XzError && reason.test(e.message), what);
  }
});

test("every truncation and a bit flip in every byte of a small stream is an XzError", () => {
  const packed = xz(code.subarray(0, 800), "--check=crc32", "--x86", "--lzma2=dict=64KiB");
  const onlyXzError = (bytes: Uint8Array, what: string) => {
    try {
      xzDecode(bytes, 1 << 20);
    } catch (e) {
      if (e instanceof XzError) return false;
      throw new Error(`${what}: ${String(e)}`);
    }
    return true;
  };
  for (let n = 0; n < packed.length; n++) assert.equal(onlyXzError(packed.subarray(0, n), `cut at ${n}`), false, `cut at ${n} decoded`);
  for (let i = 0; i < packed.length; i++) {
    const flipped = packed.slice();
    flipped[i]! ^= 1 << (i % 8);
    // Every byte is covered by a CRC-32, or is a size, padding or magic checked against another field.
    assert.equal(onlyXzError(flipped, `flip at ${i}`), false, `flip at ${i} decoded`);
  }
});
