// The LZ4 block encoder (devices/host/lz4-encode.ts) is checked against the LZ4 project's own
// command-line tool: each block, put in a legacy frame, must decode with `lz4 -d` to the input;
// and through our decoder (lz4.ts lz4BlockDecode), which must refuse a block cut short.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { lz4BlockBound, lz4BlockEncode } from "../../../devices/host/lz4-encode.ts";
import { LZ4_LEGACY_MAGIC, Lz4Error, lz4BlockDecode } from "../../../devices/host/lz4.ts";

const hasLz4 = spawnSync("lz4", ["--version"]).status === 0;

function inputs(): [string, Uint8Array][] {
  const text = new TextEncoder().encode("the guest's page cache, the guest's page cache: repeated text\n".repeat(500));
  const mixed = new Uint8Array(1 << 20);
  for (let i = 0; i < mixed.length; i += 4096) mixed.set(i % 8192 ? randomBytes(64) : text.subarray(0, 4096), i);
  return [
    ["empty", new Uint8Array(0)],
    ["12 bytes", new Uint8Array(12).fill(7)],
    ["13 bytes", new Uint8Array(13).fill(7)],
    ["zeros", new Uint8Array(1 << 20)],
    ["random", new Uint8Array(randomBytes(70000))],
    ["text", text],
    ["mixed", mixed],
    ["kernel", new Uint8Array(readFileSync(new URL("../../../guest-images/bzImage", import.meta.url))).subarray(0, 1 << 20)],
  ];
}

function encode(src: Uint8Array): Uint8Array {
  const dst = new Uint8Array(lz4BlockBound(src.length));
  return dst.slice(0, lz4BlockEncode(src, dst));
}

test("encoded blocks decode with the lz4 tool to the input", { skip: hasLz4 ? false : "no lz4 command on this host" }, () => {
  for (const [name, src] of inputs()) {
    const block = encode(src);
    const frame = new Uint8Array(8 + block.length);
    const v = new DataView(frame.buffer);
    v.setUint32(0, LZ4_LEGACY_MAGIC, true);
    v.setUint32(4, block.length, true);
    frame.set(block, 8);
    const out = execFileSync("lz4", ["-d", "-c", "-"], { input: frame, maxBuffer: 64 << 20 });
    assert.deepEqual(new Uint8Array(out), src, name);
  }
});

test("encoded blocks decode with lz4BlockDecode; a cut block or a wrong size is refused", () => {
  for (const [name, src] of inputs()) {
    const block = encode(src);
    const out = new Uint8Array(src.length);
    lz4BlockDecode(block, out);
    assert.deepEqual(out, src, name);
    if (src.length > 0) {
      assert.throws(() => lz4BlockDecode(block.subarray(0, block.length - 1), new Uint8Array(src.length)), Lz4Error, `${name} cut`);
      assert.throws(() => lz4BlockDecode(block, new Uint8Array(src.length - 1)), Lz4Error, `${name} smaller`);
    }
  }
  assert.ok(encode(new Uint8Array(1 << 20)).length < 5000, "a zero MiB compresses");
});
