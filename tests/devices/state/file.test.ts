// The state file's container (devices/state/file.ts): each kind of bad file is refused with the
// words the CLI prints — not a state, truncated, damaged, incompatible — before any section is
// parsed; the build id check comes after the checksum, so damage is never reported as "another build".
import { test } from "node:test";
import assert from "node:assert/strict";
import { FORMAT_VERSION, HEADER_BYTES, readStateFile, writeStateFile } from "../../../devices/state/file.ts";
import { crc32 } from "../../../devices/host/crc.ts";

const BUILD = "00112233445566778899aabbccddeeff";
const sections = [{ name: "a", schema: 1, body: new Uint8Array([1, 2, 3]) }, { name: "b", schema: 2, body: new Uint8Array(100).fill(7) }];
const good = () => writeStateFile(BUILD, sections);

test("a good file reads back its sections", () => {
  const m = readStateFile(good(), BUILD);
  assert.deepEqual([...m.keys()], ["a", "b"]);
  assert.deepEqual(m.get("b")!.body, sections[1]!.body);
  assert.equal(m.get("a")!.schema, 1);
});

test("each kind of bad file says what it is", () => {
  const g = good();
  const edit = (f: (b: Uint8Array) => void) => { const b = g.slice(); f(b); return b; };
  const refixCrc = (b: Uint8Array) => new DataView(b.buffer).setUint32(40, crc32(b.subarray(HEADER_BYTES)), true);
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(0), /not a Vireo state file \(too short\)/],
    [new TextEncoder().encode("GIF89a, certainly not a state file of any kind at all!"), /not a Vireo state file \(no VIREO-VM header\)/],
    [g.subarray(0, g.length - 1), /truncated state file/],
    [g.subarray(0, 30), /not a Vireo state file/],
    [new Uint8Array([...g, 0]), /damaged state file: 1 bytes after its end/],
    [edit((b) => { b[b.length - 1]! ^= 1; }), /damaged state file: checksum mismatch/],
    [edit((b) => { b[16]! ^= 1; }), /incompatible state file: made by core build 01112233/],
    [edit((b) => { b[16]! ^= 1; b[b.length - 1]! ^= 1; }), /checksum mismatch/],
    [edit((b) => new DataView(b.buffer).setUint32(8, FORMAT_VERSION + 1, true)), /format version 2/],
    [edit((b) => new DataView(b.buffer).setUint32(12, 3, true)), /runs past the end/],
    [edit((b) => { new DataView(b.buffer).setUint32(HEADER_BYTES, 0xffff_ff00, true); refixCrc(b); }), /section name of \d+ bytes is longer/],
    [writeStateFile(BUILD, [sections[0]!, sections[0]!]), /section a twice/],
  ];
  for (const [bytes, re] of cases) assert.throws(() => readStateFile(bytes, BUILD), re);
});
