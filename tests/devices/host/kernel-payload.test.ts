// decompressKernel: the default guest's LZ4 payload comes out as the vmlinux that `lz4 -d`
// gives (hash below), split into the segments the bzImage's own decompressor would place;
// a gzip payload gives the same; other formats are left to the guest; a damaged payload is
// refused with one line before the guest runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { decompressKernel as decompress, elfSegments } from "../../../devices/host/kernel-payload.ts";
import { BootError } from "../../../devices/board/linux-boot.ts";

const RAM = 128 << 20;
const decompressKernel = (image: Uint8Array, ram = RAM) => decompress(image, ram);
import { lz4LegacyDecode } from "../../../devices/host/lz4.ts";

const bzImage = new Uint8Array(readFileSync(new URL("../../../guest-images/bzImage", import.meta.url)));
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
// guest-images/bzImage as committed, and `lz4 -d` of its payload (bytes payload_offset ..
// + payload_length - 4 after the setup sectors). A rebuilt kernel changes both: re-derive.
const BZIMAGE_SHA = "3cba7a539719a3fe9688d556d360018e7fbad555fecade533c41c6272f56a9aa";
const VMLINUX_SHA = "36f93ac8407262e969edd5be50e66f4699c54b05029aaf957c3f9616791bd64b";

const view = new DataView(bzImage.buffer, bzImage.byteOffset);
const setupBytes = (bzImage[0x1f1]! + 1) * 512;
const payloadAt = setupBytes + view.getUint32(0x248, true);
const payloadLen = view.getUint32(0x24c, true);

test("the default guest's payload decodes to the vmlinux lz4 -d gives", () => {
  assert.equal(sha256(bzImage), BZIMAGE_SHA, "guest-images/bzImage changed: re-derive VMLINUX_SHA with lz4 -d");
  const vmlinux = lz4LegacyDecode(bzImage.subarray(payloadAt, payloadAt + payloadLen));
  assert.equal(sha256(vmlinux), VMLINUX_SHA);
});

test("vmlinux's two PT_LOAD segments, entered at pref_address (16 MiB) as the decompressor does", async () => {
  const k = await decompressKernel(bzImage);
  assert.ok(k);
  assert.equal(k.format, "lz4");
  assert.equal(k.entry, 0x100_0000);
  assert.equal(k.segments.length, 2);
  const initSize = view.getUint32(0x260, true);
  for (const s of k.segments) {
    assert.ok(s.paddr >= 0x100_0000 && s.paddr + s.bytes.length + s.zeroFill <= 0x100_0000 + initSize);
  }
  assert.equal(k.segments[0]!.paddr, 0x100_0000);
  assert.ok(k.segments[1]!.zeroFill > 0, "the data segment ends in .bss");
});

/** The bzImage with its payload replaced (payload_length rewritten). */
function withPayload(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payloadAt + payload.length);
  out.set(bzImage.subarray(0, payloadAt));
  out.set(payload, payloadAt);
  new DataView(out.buffer).setUint32(0x24c, payload.length, true);
  return out;
}

test("a gzip payload gives the same segments", async () => {
  const vmlinux = lz4LegacyDecode(bzImage.subarray(payloadAt, payloadAt + payloadLen));
  const k = await decompressKernel(withPayload(new Uint8Array(gzipSync(vmlinux))));
  const ref = await decompressKernel(bzImage);
  assert.equal(k?.format, "gzip");
  assert.deepEqual(k?.segments, ref?.segments);
  assert.equal(k?.entry, ref?.entry);
});

test("what the host cannot vouch for boots through the guest's own decompressor", async () => {
  const payload = bzImage.slice(payloadAt, payloadAt + payloadLen);
  const xz = payload.slice();
  xz.set([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  const cases: [string, Uint8Array][] = [
    ["an xz payload", withPayload(xz)],
    ["gzip of something that is not an ELF", withPayload(new Uint8Array(gzipSync(new Uint8Array(5000))))],
    ["not a bzImage", new Uint8Array(8192)],
  ];
  for (const [what, image] of cases) assert.equal(await decompressKernel(image), undefined, what);
});

test("a damaged payload is refused before the guest runs, with the reason", async () => {
  const payload = bzImage.slice(payloadAt, payloadAt + payloadLen);
  const vmlinux = lz4LegacyDecode(payload);
  // Cut short, keeping the size trailer. (LZ4 has no checksum: a flipped literal byte decodes
  // to a wrong kernel here exactly as in the guest's own decompressor.)
  const truncated = new Uint8Array([...payload.subarray(0, payloadLen >> 1), ...payload.subarray(payloadLen - 4)]);
  const wrongSize = payload.slice();
  new DataView(wrongSize.buffer).setUint32(payloadLen - 4, 1000, true);
  const huge = payload.slice();
  new DataView(huge.buffer).setUint32(payloadLen - 4, 1 << 30, true);
  const gz = new Uint8Array(gzipSync(vmlinux));
  const badCrc = gz.slice();
  badCrc[badCrc.length - 8]! ^= 1;
  const cases: [string, Uint8Array, RegExp][] = [
    ["a truncated LZ4 payload", withPayload(truncated), /corrupt LZ4 payload/],
    ["a size trailer that does not match", withPayload(wrongSize), /corrupt LZ4 payload|unpacks to/],
    ["a size trailer larger than the RAM", withPayload(huge), /unpacks to 1024 MiB, more than the guest's 128 MiB/],
    ["a gzip payload cut short (its size trailer kept)", withPayload(new Uint8Array([...gz.subarray(0, gz.length >> 1), ...gz.subarray(gz.length - 4)])), /ends early|corrupt gzip/],
    ["a gzip payload with a bad CRC", withPayload(badCrc), /CRC-32 mismatch/],
    ["the bzImage file cut in half", bzImage.subarray(0, bzImage.length >> 1), /bzImage is truncated/],
  ];
  for (const [what, image, reason] of cases) {
    assert.throws(() => decompressKernel(image), (e: unknown) => e instanceof BootError && reason.test(e.message) && !e.message.includes("\n"), what);
  }
});

test("ELF checks: class, machine, segments inside the region", () => {
  const vmlinux = lz4LegacyDecode(bzImage.subarray(payloadAt, payloadAt + payloadLen));
  assert.ok(elfSegments(vmlinux, 0x100_0000, 0x200_0000));
  assert.equal(elfSegments(vmlinux, 0x100_0000, 0x120_0000), undefined, "a segment past the region");
  const x64 = vmlinux.slice();
  x64[4] = 2; // ELFCLASS64
  assert.equal(elfSegments(x64, 0, 2 ** 32), undefined);
  const arm = vmlinux.slice();
  arm[18] = 40; // EM_ARM
  assert.equal(elfSegments(arm, 0, 2 ** 32), undefined);
});
