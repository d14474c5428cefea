// decompressKernel: the default guest's LZ4 payload comes out as the vmlinux that `lz4 -d`
// gives (hash below), split into the segments the bzImage's own decompressor would place;
// a gzip payload and an xz one (as the kernel build makes it, with the xz tool) give the same;
// other formats are left to the guest; a damaged payload is refused with one line before the
// guest runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
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

/** What arch/x86/boot/compressed makes of vmlinux with CONFIG_KERNEL_XZ: scripts/xz_wrap.sh's
 * options (a smaller dictionary and the fastest preset, to keep the test quick), then the
 * 4-byte little-endian size trailer. */
function xzKernel(vmlinux: Uint8Array): Uint8Array {
  const stream = execFileSync("xz", ["-c", "--check=crc32", "--x86", "--lzma2=preset=0,dict=4MiB"], { input: vmlinux, maxBuffer: 64 << 20 });
  const out = new Uint8Array(stream.length + 4);
  out.set(stream);
  new DataView(out.buffer).setUint32(stream.length, vmlinux.length, true);
  return out;
}

test("an xz payload (x86 BCJ + LZMA2, CRC-32, size trailer) gives the same segments", async () => {
  const vmlinux = lz4LegacyDecode(bzImage.subarray(payloadAt, payloadAt + payloadLen));
  const xz = xzKernel(vmlinux);
  const k = await decompressKernel(withPayload(xz));
  const ref = await decompressKernel(bzImage);
  assert.equal(k?.format, "xz");
  assert.deepEqual(k?.segments, ref?.segments);
  assert.equal(k?.entry, ref?.entry);

});

test("a damaged xz payload is refused before the guest runs, with the reason", () => {
  // Any bytes do: the payload fails before its ELF is looked at.
  const xz = xzKernel(lz4LegacyDecode(bzImage.subarray(payloadAt, payloadAt + payloadLen)).subarray(0, 64 << 10));
  const badCrc = xz.slice();
  const indexSize = (new DataView(xz.buffer).getUint32(xz.length - 4 - 8, true) + 1) * 4;
  badCrc[xz.length - 4 - 12 - indexSize - 1]! ^= 1; // the block's CRC-32
  const wrongSize = (n: number) => {
    const out = xz.slice();
    new DataView(out.buffer).setUint32(xz.length - 4, n, true);
    return out;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ["an xz payload with a bad CRC-32", withPayload(badCrc), /bad xz payload: block 1: CRC-32 mismatch/],
    ["an xz payload cut short (its size trailer kept)", withPayload(new Uint8Array([...xz.subarray(0, xz.length >> 1), ...xz.subarray(xz.length - 4)])), /bad xz payload: block 1: /],
    ["a size trailer too small", withPayload(wrongSize((64 << 10) - 1)), /bad xz payload: unpacks to more than its limit of 65535 bytes/],
    ["a size trailer too large", withPayload(wrongSize((64 << 10) + 1)), /the xz payload unpacks to 65536 bytes, its trailer says 65537/],
  ];
  for (const [what, image, reason] of cases) {
    assert.throws(() => decompressKernel(image), (e: unknown) => e instanceof BootError && reason.test(e.message) && !e.message.includes("\n"), what);
  }
});

test("what the host cannot vouch for boots through the guest's own decompressor", async () => {
  const payload = bzImage.slice(payloadAt, payloadAt + payloadLen);
  const zstd = payload.slice();
  zstd.set([0x28, 0xb5, 0x2f, 0xfd]);
  const cases: [string, Uint8Array][] = [
    ["a zstd payload", withPayload(zstd)],
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
