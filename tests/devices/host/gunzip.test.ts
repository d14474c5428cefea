// gunzipMember's two paths (devices/host/gunzip.ts): Node's own zlib, which the CLI uses, and
// pako, which the page uses. The gzip members are made by Node's gzip and by hand (header fields
// of RFC 1952 §2.3 that gzip(1) rarely writes); the two paths must give the same bytes, the same
// end offset and the same one-line refusals — also on random mutations (fast-check).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import fc from "fast-check";
import { fuzz } from "../../fuzz.ts";
import { gunzipMember, gunzipMemberNative, gunzipMemberPortable, type NativeZlib } from "../../../devices/host/gunzip.ts";
import { BootError } from "../../../devices/board/linux-boot.ts";

const native = (i: Uint8Array, at: number, max: number) => gunzipMemberNative(zlib as unknown as NativeZlib, i, at, max, "x");
const portable = (i: Uint8Array, at: number, max: number) => gunzipMemberPortable(i, at, max, "x");
const u8 = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const data = u8(Buffer.from("the quick brown fox jumps over the lazy dog\n".repeat(300)));
const gz = u8(zlib.gzipSync(data));

/** What a path does with the input: its bytes and end, or its refusal. */
function outcome(f: typeof native, i: Uint8Array, at: number, max: number): string {
  try {
    const m = f(i, at, max);
    return `ok ${m.end} ${Buffer.from(m.data).toString("base64")}`;
  } catch (e) {
    if (!(e instanceof BootError)) throw e;
    assert.ok(!e.message.includes("\n"), "one line");
    return `refused: ${e.message}`;
  }
}
function same(i: Uint8Array, at = 0, max = 1 << 20): string {
  const a = outcome(native, i, at, max), b = outcome(portable, i, at, max);
  assert.equal(a, b);
  return a;
}

/** A member with every optional header field: FEXTRA, FNAME, FCOMMENT and FHCRC. */
function fullHeader(): Uint8Array {
  const deflated = zlib.deflateRawSync(data);
  const head = [0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3, 4, 0, 1, 2, 3, 4, ...Buffer.from("name\0comment\0")];
  const crc = zlib.crc32(Uint8Array.from(head)) & 0xffff;
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  return u8(Buffer.concat([Uint8Array.from([...head, crc & 0xff, crc >> 8]), deflated, trailer]));
}

test("the CLI's path is the host's zlib", () => {
  assert.equal(outcome((i, at, max) => gunzipMember(i, at, max, "x"), gz, 0, 1 << 20), outcome(native, gz, 0, 1 << 20));
});

test("both paths: the bytes, where the member ends (another may follow), every header field", () => {
  assert.equal(same(gz), `ok ${gz.length} ${Buffer.from(data).toString("base64")}`);
  const two = u8(Buffer.concat([gz, new Uint8Array(5), gz]));
  assert.equal(same(two, gz.length + 5), `ok ${two.length} ${Buffer.from(data).toString("base64")}`);
  assert.match(same(two), new RegExp(`^ok ${gz.length} `));
  assert.match(same(fullHeader()), /^ok /);
  const badHcrc = fullHeader();
  badHcrc[29]! ^= 1; // the header CRC: after 10 bytes, XLEN and 4 extra bytes, "name\0comment\0"
  assert.match(same(badHcrc), /refused: x: corrupt gzip data \(header crc mismatch\)/);
});

test("both paths refuse alike: truncation anywhere, CRC, ISIZE, method, flags, past the bound", () => {
  for (const n of [0, 5, 9, 10, 20, gz.length >> 1, gz.length - 8, gz.length - 1]) assert.match(same(gz.subarray(0, n)), /refused: x: the gzip stream ends early/, `cut at ${n}`);
  const mut = (at: number, x: number) => { const c = gz.slice(); c[at]! ^= x; return c; };
  assert.match(same(mut(gz.length - 8, 1)), /CRC-32 mismatch/);
  assert.match(same(mut(gz.length - 4, 1)), /ISIZE mismatch/);
  assert.match(same(mut(2, 1)), /not a valid gzip header/);
  assert.match(same(mut(3, 0x80)), /not a valid gzip header/);
  assert.match(same(mut(0, 1)), /not a valid gzip header/);
  assert.match(same(gz, 0, data.length - 1), /inflates to more than 1 MiB, the guest's RAM/);
  assert.match(same(gz, 0, data.length), /^ok /, "exactly the bound");
});

test("fuzz: both paths agree on mutated gzip members", () => {
  const small = u8(zlib.gzipSync(data.subarray(0, 2000)));
  const mutated = fc.tuple(fc.constantFrom(small, fullHeader()), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat())
    .map(([base, flips, cut]) => {
      const c = base.slice();
      for (const [at, x] of flips) c[at % c.length]! ^= x;
      return c.subarray(0, c.length - (cut % 3 === 0 ? cut % c.length : 0));
    });
  fuzz("gunzip native vs pako", fc.property(mutated, fc.integer({ min: 0, max: 4000 }), (input, max) => { same(input, 0, max); }), 2000);
});
