// inflateInitrd: the host inflates a single-member gzip cpio, and hands anything else to the
// kernel untouched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { inflateInitrd } from "../../../devices/host/initrd.ts";

const cpio = new TextEncoder().encode("070701" + "0".repeat(104) + "TRAILER!!!\0\0\0\0");

test("a gzip cpio arrives inflated, byte for byte", async () => {
  const out = await inflateInitrd(new Uint8Array(gzipSync(cpio)));
  assert.deepEqual(out, cpio);
});

test("the default guest's initramfs inflates to the archive gunzip gives", async () => {
  const gz = new Uint8Array(readFileSync(new URL("../../../guest-images/initramfs.cpio.gz", import.meta.url)));
  const out = await inflateInitrd(gz);
  assert.notEqual(out, gz);
  assert.deepEqual(Buffer.from(out), (await import("node:zlib")).gunzipSync(gz));
});

test("what the host cannot vouch for goes to the kernel untouched", async () => {
  const cases: [string, Uint8Array][] = [
    ["not gzip", cpio],
    ["two gzip members (concatenated archives)", new Uint8Array(Buffer.concat([gzipSync(cpio), gzipSync(cpio)]))],
    ["gzip of something that is not a cpio archive", new Uint8Array(gzipSync(new Uint8Array(200).fill(7)))],
    ["truncated gzip", new Uint8Array(gzipSync(cpio)).subarray(0, 30)],
    ["too short to be gzip", new Uint8Array([0x1f, 0x8b, 8])],
  ];
  for (const [what, bytes] of cases) assert.equal(await inflateInitrd(bytes), bytes, what);
});
