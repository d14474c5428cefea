// lzma2Decode's chunk layer with hand-built chunks (the control bytes of the .xz format's LZMA2
// description): uncompressed chunks, the rules on dictionary resets and properties, the output
// bound; and the properties and dictionary-size bytes against the spec's own examples.
// (LZMA chunks themselves are checked against the xz tool in xz.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { lzma2Decode, lzma2DictSize } from "../../../devices/host/lzma2.ts";
import { lzmaProperties, LzmaError } from "../../../devices/host/lzma.ts";
import { BoundedBytes } from "../../../devices/host/bounded-bytes.ts";

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
/** An uncompressed chunk: control, size - 1 (big-endian), the bytes. */
const raw = (control: number, s: string) => [control, (s.length - 1) >> 8, (s.length - 1) & 255, ...ascii(s)];
const sink = (max = 1 << 20) => new BoundedBytes(max, 16, (n) => new LzmaError(`wanted ${n}`));
function run(bytes: number[], max?: number): { text: string; end: number } {
  const out = sink(max);
  const end = lzma2Decode(new Uint8Array(bytes), 0, out, 1 << 20);
  return { text: String.fromCharCode(...out.result()), end };
}

test("uncompressed chunks, with and without a dictionary reset, then the end marker", () => {
  const r = run([...raw(0x01, "hello, "), ...raw(0x02, "world"), 0x00, 0xee]);
  assert.equal(r.text, "hello, world");
  assert.equal(r.end, 3 + 7 + 3 + 5 + 1, "stops after the end marker");
  assert.equal(run([0x00]).text, "", "empty");
});

test("chunk-layer errors", () => {
  const bad: [string, number[], RegExp, number?][] = [
    ["no dictionary reset first", [...raw(0x02, "x"), 0x00], /does not begin with a dictionary reset/],
    ["control byte 0x03", [...raw(0x01, "x"), 0x03, 0x00], /invalid LZMA2 control byte 0x3/],
    ["LZMA chunk without properties after a reset", [...raw(0x01, "x"), 0x80, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0x00], /without properties/],
    ["no end marker", raw(0x01, "abc"), /ends before its end marker/],
    ["chunk longer than the input", [0x01, 0, 9, ...ascii("abc")], /runs past the end of the input/],
    ["LZMA chunk whose first byte is not zero", [0xe0, 0, 0, 0, 4, 0x5d, 1, 0, 0, 0, 0, 0x00], /does not start with a zero byte/],
    ["LZMA chunk shorter than the range decoder's start", [0xe0, 0, 0, 0, 3, 0x5d, 0, 0, 0, 0, 0x00], /too short/],
    ["invalid properties", [0xe0, 0, 0, 0, 4, 225, 0, 0, 0, 0, 0, 0x00], /invalid LZMA properties/],
    ["output past the bound", [...raw(0x01, "0123456789"), 0x00], /wanted 10/, 8],
  ];
  for (const [what, bytes, reason, max] of bad) assert.throws(() => run(bytes, max), (e: unknown) => e instanceof LzmaError && reason.test(e.message), what);
});

test("properties byte (pb × 5 + lp) × 9 + lc, with lc + lp ≤ 4", () => {
  assert.deepEqual(lzmaProperties(0x5d), { lc: 3, lp: 0, pb: 2 }); // the LZMA default, 93
  assert.deepEqual(lzmaProperties(0), { lc: 0, lp: 0, pb: 0 });
  assert.deepEqual(lzmaProperties(4 * 45 + 4 * 9), { lc: 0, lp: 4, pb: 4 });
  assert.throws(() => lzmaProperties(1 * 9 + 4), /lc \+ lp ≤ 4/);
  assert.throws(() => lzmaProperties(225), /invalid/);
});

test("dictionary size byte: 4 KiB, 6 KiB, 8 KiB … 3 GiB, 4 GiB - 1", () => {
  assert.equal(lzma2DictSize(0), 4 << 10);
  assert.equal(lzma2DictSize(1), 6 << 10);
  assert.equal(lzma2DictSize(2), 8 << 10);
  assert.equal(lzma2DictSize(22), 8 << 20); // xz -6
  assert.equal(lzma2DictSize(26), 32 << 20); // the kernel build's dict=32MiB (its block header says 0x1a)
  assert.equal(lzma2DictSize(39), 3 * 2 ** 30);
  assert.equal(lzma2DictSize(40), 2 ** 32 - 1);
  assert.throws(() => lzma2DictSize(41), /invalid LZMA2 dictionary size/);
});
