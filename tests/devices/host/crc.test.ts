// crc32 and crc64 give the catalogued check values of "123456789" (CRC-32/ISO-HDLC 0xCBF43926,
// CRC-64/XZ 0x995DC9BBDF1939FA, as in the CRC RevEng catalogue) and agree with Node's zlib
// CRC-32 on longer data, over any sub-range.
import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32 as zlibCrc32 } from "node:zlib";
import { crc32, crc32Portable, crc64 } from "../../../devices/host/crc.ts";

const nine = new TextEncoder().encode("123456789");

test("check values of \"123456789\"", () => {
  assert.equal(crc32(nine), 0xcbf43926);
  assert.equal(crc32Portable(nine), 0xcbf43926);
  assert.deepEqual([...crc64(nine)], [0xfa, 0x39, 0x19, 0xdf, 0xbb, 0xc9, 0x5d, 0x99]); // stored little-endian
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.deepEqual([...crc64(new Uint8Array(0))], [0, 0, 0, 0, 0, 0, 0, 0]);
});

test("a sub-range is the CRC of those bytes alone", () => {
  const framed = new Uint8Array([0xaa, 0xbb, ...nine, 0xcc]);
  assert.equal(crc32(framed, 2, 11), 0xcbf43926);
  assert.deepEqual(crc64(framed, 2, 11), crc64(nine));
});

test("CRC-32 agrees with zlib's on 64 KiB of varied bytes", () => {
  const data = Uint8Array.from({ length: 64 << 10 }, (_, i) => (i * 2654435761) >>> 23);
  assert.equal(crc32Portable(data), zlibCrc32(data));
  assert.equal(crc32(data), zlibCrc32(data));
});

test("CRC-32 of a sub-range of long data, on the native path (≥ 1 KiB) and the portable one", () => {
  const data = Uint8Array.from({ length: 8 << 10 }, (_, i) => (i * 40503) >>> 7);
  for (const [a, b] of [[3, 5000], [0, 1023], [1, 1025], [4096, 8192]] as const) {
    const alone = data.slice(a, b);
    assert.equal(crc32(data, a, b), zlibCrc32(alone), `[${a}, ${b})`);
    assert.equal(crc32Portable(data, a, b), zlibCrc32(alone), `[${a}, ${b}) portable`);
  }
});
