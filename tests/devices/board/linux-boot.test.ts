// The loader against the real default-guest bzImage. Expected header values are the ones
// measured in shared/guest/NOTES.md (protocol 2.15, setup_sects 31, code32_start 0x100000, not
// relocatable); field offsets follow Documentation/x86/boot.rst.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseBzImage, loadLinux, BootError, BOOT_PARAMS_ADDR, CMDLINE_ADDR, E820_RAM, E820_RESERVED } from "../../../devices/board/linux-boot.ts";

const bzImage = new Uint8Array(readFileSync(new URL("../../../guest-images/bzImage", import.meta.url)));
const MiB = 1 << 20;

test("the default guest's setup header", () => {
  const info = parseBzImage(bzImage);
  assert.equal(info.protocol, 0x020f);
  assert.equal(info.setupBytes, 32 * 512);
  assert.equal(info.code32Start, 0x100000);
  assert.equal(info.relocatable, false);
  assert.ok(info.initSize > 4 * MiB && info.initSize < 6 * MiB, `init_size ${info.initSize}`);
  assert.equal(info.kernel.length, bzImage.length - 32 * 512);
});

test("loadLinux fills the zero page as boot.rst asks", () => {
  const ramBytes = 64 * MiB;
  const ram = new Uint8Array(ramBytes);
  const initrd = new Uint8Array(300_000).fill(0x5a);
  const r = loadLinux({ kernel: bzImage, initrd, cmdline: "console=ttyS0 hello", ramBytes, ram });
  const bp = new DataView(ram.buffer, BOOT_PARAMS_ADDR, 4096);
  assert.equal(r.entry, 0x100000);
  assert.equal(r.esi, BOOT_PARAMS_ADDR);
  // Protected-mode kernel at 1 MiB, byte for byte.
  assert.deepEqual(ram.subarray(0x100000, 0x100000 + 4096), bzImage.subarray(32 * 512, 32 * 512 + 4096));
  // Setup header copied: "HdrS" and the protocol version.
  assert.equal(bp.getUint32(0x202, true), 0x53726448);
  assert.equal(bp.getUint16(0x206, true), 0x020f);
  assert.equal(bp.getUint8(0x210), 0xff, "type_of_loader");
  assert.equal(bp.getUint32(0x228, true), CMDLINE_ADDR, "cmd_line_ptr");
  assert.equal(new TextDecoder().decode(ram.subarray(CMDLINE_ADDR, CMDLINE_ADDR + 19)), "console=ttyS0 hello");
  assert.equal(ram[CMDLINE_ADDR + 19], 0);
  // initrd: page aligned, at the top of RAM, recorded in ramdisk_image/size.
  const image = bp.getUint32(0x218, true);
  assert.equal(image % 4096, 0);
  assert.equal(bp.getUint32(0x21c, true), initrd.length);
  assert.ok(image + initrd.length <= ramBytes && image + initrd.length > ramBytes - 4096);
  assert.equal(ram[image], 0x5a);
  // e820: conventional memory, the legacy hole, extended memory — covering all of RAM.
  const n = bp.getUint8(0x1e8);
  const entries = Array.from({ length: n }, (_, i) => ({
    addr: Number(bp.getBigUint64(0x2d0 + i * 20, true)),
    size: Number(bp.getBigUint64(0x2d0 + i * 20 + 8, true)),
    type: bp.getUint32(0x2d0 + i * 20 + 16, true),
  }));
  assert.deepEqual(entries, [
    { addr: 0, size: 0x9f000, type: E820_RAM },
    { addr: 0x9f000, size: 0x61000, type: E820_RESERVED },
    { addr: 0x100000, size: ramBytes - 0x100000, type: E820_RAM },
  ]);
});

test("bad kernels and too little RAM are clear errors", () => {
  const ram = new Uint8Array(64 * MiB);
  const load = (kernel: Uint8Array, ramBytes = 64 * MiB) => () => loadLinux({ kernel, cmdline: "", ramBytes, ram });
  assert.throws(load(new Uint8Array(100)), (e: unknown) => e instanceof BootError && /not a bzImage/.test(e.message));
  assert.throws(load(new TextEncoder().encode("#!/bin/sh\n".repeat(1000))), /not a Linux bzImage/);
  const old = bzImage.slice();
  old[0x206] = 0x01; // protocol 2.01
  assert.throws(load(old), /boot protocol 2\.01 is too old/);
  assert.throws(load(bzImage, 8 * MiB), /too little RAM: 8 MiB given/);
  assert.throws(
    () => loadLinux({ kernel: bzImage, cmdline: "x".repeat(5000), ramBytes: 64 * MiB, ram }),
    /command line is 5000 bytes/,
  );
});
