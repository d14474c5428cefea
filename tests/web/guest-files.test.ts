// Checks on user-picked images (web/guest-files.ts), against the real bundled guest and files
// made from it: the loader's own rules decide, and each refusal names the file and the reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ImageError, checkDisk, checkFits, checkImage, checkKernel, classify } from "../../web/guest-files.ts";

const dir = new URL("../../guest-images/", import.meta.url);
const bzImage = new Uint8Array(readFileSync(new URL("bzImage", dir)));
const initramfs = new Uint8Array(readFileSync(new URL("initramfs.cpio.gz", dir)));

const refuses = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof ImageError && re.test(e.message));

test("the bundled images pass and are placed by content", () => {
  const info = checkKernel("bzImage", bzImage);
  assert.ok(info.protocol >= 0x20a);
  assert.equal(classify(bzImage), "kernel");
  assert.equal(classify(initramfs), "initrd");
  assert.equal(classify(new TextEncoder().encode("070701000000")), "initrd");
  assert.equal(classify(new Uint8Array(4096)), "disk");
  checkFits(info, initramfs.length, 32);
  assert.equal(checkImage("initrd", "i", initramfs), undefined);
});

test("a file that is not a bzImage is refused with the loader's reason", () => {
  refuses(() => checkKernel("notes.txt", new TextEncoder().encode("hello")), /^notes\.txt: kernel image is only 5 bytes: not a bzImage$/);
  refuses(() => checkKernel("zeros", new Uint8Array(8192)), /^zeros: not a Linux bzImage \(no boot sector signature or 'HdrS'/);
  const truncated = bzImage.slice(0, (bzImage[0x1f1]! + 1) * 512);
  refuses(() => checkKernel("cut", truncated), /^cut: bzImage is truncated/);
});

test("a kernel and initrd too large for the RAM are refused", () => {
  const big = bzImage.slice();
  new DataView(big.buffer).setUint32(0x260, 200 << 20, true); // init_size: 200 MiB
  const info = checkKernel("big", big);
  refuses(() => checkFits(info, initramfs.length, 128), /^too little RAM: 128 MiB given, this kernel and initrd need at least \d+ MiB: choose more RAM/);
  checkFits(info, initramfs.length, 256);
  refuses(() => checkFits(checkKernel("k", bzImage), 40 << 20, 32), /too little RAM: 32 MiB given/);
});

test("disks: whole sectors, not empty, not huge", () => {
  checkDisk("ok.img", new Uint8Array(1024));
  refuses(() => checkDisk("odd.img", new Uint8Array(1000)), /^odd\.img: size 1000 bytes is not a multiple of 512/);
  refuses(() => checkDisk("empty.img", new Uint8Array(0)), /^empty\.img: the disk image is empty$/);
  refuses(() => checkImage("initrd", "e", new Uint8Array(0)), /the initrd is empty/);
});
