// Wisp packets (devices/net/wisp-frame.ts) against byte strings written from the protocol text:
// type u8, stream id u32 little-endian, then the payload (CONNECT: stream type u8, port u16 LE,
// hostname UTF-8; CONTINUE: buffer remaining u32 LE; CLOSE: reason u8). Parsing any bytes gives
// a packet or a reason, never an exception.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { WISP, closePacket, connectPacket, continuePacket, dataPacket, parsePacket } from "../../../devices/net/wisp-frame.ts";

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean).map((x) => parseInt(x, 16)));
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0).toString(16)).join(" ");

const CASES: [string, Uint8Array, string][] = [
  // CONNECT, stream 1, TCP (0x01), port 80 = 0x0050 little-endian, "example.com"
  ["CONNECT tcp example.com:80 on stream 1", connectPacket(1, 0x01, 80, "example.com"), `01 01 00 00 00 01 50 00 ${ascii("example.com")}`],
  // CONNECT, stream 0x01020304, UDP (0x02), port 53 = 0x0035
  ["CONNECT udp 1.1.1.1:53", connectPacket(0x01020304, 0x02, 53, "1.1.1.1"), `01 04 03 02 01 02 35 00 ${ascii("1.1.1.1")}`],
  ["DATA 'hi' on stream 0x12345678", dataPacket(0x12345678, Uint8Array.of(0x68, 0x69)), "02 78 56 34 12 68 69"],
  // The handshake's CONTINUE: stream 0, buffer remaining 128
  ["CONTINUE 128 on stream 0", continuePacket(0, 128), "03 00 00 00 00 80 00 00 00"],
  ["CONTINUE 0x01000000 on stream 2", continuePacket(2, 0x01000000), "03 02 00 00 00 00 00 00 01"],
  // CLOSE, stream 7, reason 0x02 (voluntary)
  ["CLOSE voluntary on stream 7", closePacket(7, 0x02), "04 07 00 00 00 02"],
  ["CLOSE blocked (0x48) on stream 0xffffffff", closePacket(0xffffffff, 0x48), "04 ff ff ff ff 48"],
];

for (const [what, built, bytes] of CASES) {
  test(`${what}: the bytes the protocol gives`, () => assert.deepEqual(built, hex(bytes)));
}

test("parsing the protocol's byte strings gives the fields back", () => {
  assert.deepEqual(parsePacket(hex(CASES[0]![2])), { type: WISP.CONNECT, stream: 1, streamType: 1, port: 80, host: "example.com" });
  assert.deepEqual(parsePacket(hex(CASES[1]![2])), { type: WISP.CONNECT, stream: 0x01020304, streamType: 2, port: 53, host: "1.1.1.1" });
  const d = parsePacket(hex("02 78 56 34 12 68 69"));
  assert.ok(typeof d !== "string" && "data" in d);
  assert.deepEqual([d.stream, [...d.data]], [0x12345678, [0x68, 0x69]]);
  assert.deepEqual(parsePacket(hex("03 00 00 00 00 80 00 00 00")), { type: WISP.CONTINUE, stream: 0, remaining: 128 });
  assert.deepEqual(parsePacket(hex("04 07 00 00 00 02")), { type: WISP.CLOSE, stream: 7, reason: 2 });
  assert.deepEqual(parsePacket(hex("04 07 00 00 00 02")), { type: WISP.CLOSE, stream: 7, reason: 2 });
  // An empty DATA is a packet (a zero-length payload)
  const e = parsePacket(hex("02 01 00 00 00"));
  assert.ok(typeof e !== "string" && "data" in e && e.data.length === 0);
  // v2's INFO (major 2, minor 0, the UDP extension with no metadata) is kept as another type
  const info = parsePacket(hex("05 00 00 00 00 02 00 01 00 00 00 00"));
  assert.ok(typeof info !== "string" && "other" in info);
  assert.deepEqual([info.type, [...info.other]], [5, [2, 0, 1, 0, 0, 0, 0]]);
});

test("malformed packets are refused with a reason", () => {
  for (const [bytes, why] of [
    ["", /0 bytes/],
    ["02 01 00 00", /4 bytes/],
    ["03 01 00 00 00 80 00 00", /CONTINUE with a 3-byte/],
    ["03 01 00 00 00 80 00 00 00 00", /CONTINUE with a 5-byte/],
    ["04 01 00 00 00", /CLOSE with a 0-byte/],
    ["04 01 00 00 00 02 02", /CLOSE with a 2-byte/],
    ["01 01 00 00 00 01 50 00", /CONNECT with a 3-byte/], // no hostname
    ["01 01 00 00 00 01 50 00 ff fe", /not UTF-8/],
  ] as const) {
    const p = parsePacket(hex(bytes));
    assert.equal(typeof p, "string", bytes);
    assert.match(p as string, why);
  }
  assert.match(parsePacket(connectPacket(1, 1, 80, "a".repeat(256))) as string, /256-byte hostname/);
});

test("any bytes parse to a packet or a reason, never an exception", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
    const p = parsePacket(b);
    assert.ok(typeof p === "string" || typeof p.type === "number");
  }), { numRuns: 2000 });
});
