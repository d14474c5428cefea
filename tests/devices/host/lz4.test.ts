// lz4LegacyDecode: hand-built legacy frames (the LZ4 block format's literal and match rules,
// extended lengths, overlapping matches), the kernel build's size trailer, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lz4LegacyDecode, Lz4Error } from "../../../devices/host/lz4.ts";

const MAGIC = [0x02, 0x21, 0x4c, 0x18];
const le32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
/** A legacy frame of these blocks (each block's bytes get their length header). */
const frame = (...blocks: number[][]) => new Uint8Array([...MAGIC, ...blocks.flatMap((b) => [...le32(b.length), ...b])]);
const text = (b: Uint8Array) => String.fromCharCode(...b);

test("literals only, then a match that overlaps its own output", () => {
  assert.equal(text(lz4LegacyDecode(frame([0x50, ...ascii("hello")]))), "hello");
  // "ab", then 6 bytes from 2 back (overlapping: repeats "ab"), then the literal "!".
  assert.equal(text(lz4LegacyDecode(frame([0x22, ...ascii("ab"), 2, 0, 0x10, ...ascii("!")]))), "abababab!");
  // Offset 1: a run of the last byte.
  assert.equal(text(lz4LegacyDecode(frame([0x10, ...ascii("z"), 1, 0, 0x00]))), "zzzzz");
});

test("extended literal and match lengths (15, then bytes of 255 until one is less)", () => {
  const lits = Array.from({ length: 300 }, (_, i) => 65 + (i % 26));
  // 300 literals = 15 + 255 + 30; a match of 4 + 15 + 255 + 1 = 275 bytes at offset 26.
  const block = [0xff, 255, 30, ...lits, 26, 0, 255, 1];
  const out = lz4LegacyDecode(frame(block));
  assert.equal(out.length, 575);
  for (let i = 0; i < out.length; i++) assert.equal(out[i], 65 + (i % 26), `byte ${i}`);
});

test("long matches that overlap their output: a run of one byte, and a repeated short pattern", () => {
  // "x", then a match of 4 + 15 + 255 + 80 = 354 bytes at offset 1: 355 "x" in all.
  const run = lz4LegacyDecode(frame([0x1f, ...ascii("x"), 1, 0, 255, 80, 0x00]));
  assert.equal(text(run), "x".repeat(355));
  // "abc", then 4 + 15 + 100 = 119 bytes at offset 3 (the pattern repeats), then "!".
  const pattern = lz4LegacyDecode(frame([0x3f, ...ascii("abc"), 3, 0, 100, 0x10, ...ascii("!")]));
  assert.equal(text(pattern), "abc".repeat(40) + "ab!");
  // Both stop at the block's end like any match: a run past the allowed output is refused.
  assert.throws(() => lz4LegacyDecode(frame([0x1f, ...ascii("x"), 1, 0, 255, 80, 0x00]), 100), /output larger than allowed/);
});

test("several blocks, a second frame's magic, and the kernel build's size trailer", () => {
  const f = frame([0x30, ...ascii("one")], [0x30, ...ascii("two")]);
  const joined = new Uint8Array([...f, ...MAGIC, ...le32(4), 0x30, ...ascii("3!!"), ...le32(9)]);
  assert.equal(text(lz4LegacyDecode(joined, 9)), "onetwo3!!");
  // Blocks are independent: a match cannot reach into the previous block.
  assert.throws(() => lz4LegacyDecode(frame([0x30, ...ascii("abc")], [0x00, 3, 0])), /points before the block/);
});

test("bad input is an Lz4Error, never a wild read or write", () => {
  const bad: [string, Uint8Array, number?][] = [
    ["bad magic", new Uint8Array([1, 2, 3, 4, 0, 0, 0, 0])],
    ["offset 0", frame([0x10, 0x41, 0, 0])],
    ["offset before the output", frame([0x10, 0x41, 2, 0])],
    ["block longer than the input", new Uint8Array([...MAGIC, ...le32(100), 0x10, 0x41])],
    ["literals past the block", frame([0x50, 0x41])],
    ["unterminated length", frame([0xf0, 255])],
    ["more output than expected", frame([0x50, ...ascii("hello")]), 3],
    ["less output than expected", frame([0x50, ...ascii("hello")]), 6],
  ];
  for (const [what, bytes, size] of bad) assert.throws(() => lz4LegacyDecode(bytes, size), Lz4Error, what);
});
