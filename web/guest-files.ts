// Checks on images a user picks or drops (kernel, initrd, disk), before any VM starts, so a bad
// file is one clear message and not a guest that dies at boot. The rules are the loader's and
// the block layer's own (parseBzImage, checkRamFits, checkBlockSize); nothing is re-implemented.
// No DOM here: tests/web/guest-files.test.ts runs these in Node.
import { BootError, checkRamFits, parseBzImage, type BzImageInfo } from "../devices/board/linux-boot.ts";
import { checkBlockSize } from "../devices/host/block.ts";
import { inflateInitrd } from "../devices/host/initrd.ts";
import { decompressKernel } from "../devices/host/kernel-payload.ts";

export type ImageSlot = "kernel" | "initrd" | "disk";

/** A disk is held in memory twice (page and worker) while the VM runs: keep it well inside a tab's budget. */
export const MAX_DISK_BYTES = 512 << 20;

export class ImageError extends Error {}

/** The setup header of a bzImage, or an ImageError saying why `bytes` is not one. */
export function checkKernel(name: string, bytes: Uint8Array): BzImageInfo {
  try {
    return parseBzImage(bytes);
  } catch (e) {
    if (e instanceof BootError) throw new ImageError(`${name}: ${e.message}`);
    throw e;
  }
}

export function checkInitrd(name: string, bytes: Uint8Array): void {
  if (bytes.length === 0) throw new ImageError(`${name}: the initrd is empty`);
}

export function checkDisk(name: string, bytes: Uint8Array): void {
  if (bytes.length === 0) throw new ImageError(`${name}: the disk image is empty`);
  if (bytes.length > MAX_DISK_BYTES) throw new ImageError(`${name}: ${mib(bytes.length)} is larger than the ${mib(MAX_DISK_BYTES)} an in-page disk may be`);
  try {
    checkBlockSize(bytes.length, name);
  } catch (e) {
    throw new ImageError((e as Error).message);
  }
}

/** Whether a kernel and initrd leave the guest room to run in `memMiB` of RAM (the loader's rule). */
export function checkFits(kernel: BzImageInfo, initrdBytes: number, memMiB: number): void {
  try {
    checkRamFits(kernel, initrdBytes, memMiB * 2 ** 20);
  } catch (e) {
    if (e instanceof BootError) throw new ImageError(`${e.message}: choose more RAM or smaller images`);
    throw e;
  }
}

/**
 * Where a file dropped anywhere on the page belongs, by its first bytes: a bzImage ("HdrS" at
 * 0x202) is a kernel; a compressed stream or a cpio archive is an initrd; anything else is
 * offered as a disk (whose own check then says if it is not one).
 */
export function classify(bytes: Uint8Array): ImageSlot {
  const at = (off: number, magic: number[]) => magic.every((b, i) => bytes[off + i] === b);
  if (at(0x202, [0x48, 0x64, 0x72, 0x53])) return "kernel";
  const initrdMagics = [
    [0x1f, 0x8b], // gzip
    [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], // xz
    [0x28, 0xb5, 0x2f, 0xfd], // zstd
    [0x02, 0x21, 0x4c, 0x18], // lz4 legacy
    [0x42, 0x5a, 0x68], // bzip2
    [0x5d, 0x00, 0x00], // lzma
    [0x30, 0x37, 0x30, 0x37, 0x30], // cpio "07070" (newc, crc, odc)
  ];
  if (initrdMagics.some((m) => at(0, m))) return "initrd";
  return "disk";
}

/** The most RAM the page gives a guest (settings.ts ?mem=): what unpacking an image may produce. */
export const MAX_GUEST_BYTES = 2000 << 20;

/**
 * What the VM worker checks at power-on, done when the file is picked: a kernel's compressed
 * payload and an initrd's gzip members and cpio archives (host/kernel-payload.ts,
 * host/initrd.ts), so a damaged file is refused on its slot with the same message.
 */
export function checkImageContents(slot: ImageSlot, name: string, bytes: Uint8Array): void {
  try {
    if (slot === "kernel") decompressKernel(bytes, MAX_GUEST_BYTES);
    else if (slot === "initrd") inflateInitrd(bytes, MAX_GUEST_BYTES);
  } catch (e) {
    if (e instanceof BootError) throw new ImageError(`${name}: ${e.message}`);
    throw e;
  }
}

/** Check one picked file for its slot; returns the kernel's header for a kernel. */
export function checkImage(slot: ImageSlot, name: string, bytes: Uint8Array): BzImageInfo | undefined {
  if (slot === "kernel") return checkKernel(name, bytes);
  if (slot === "initrd") checkInitrd(name, bytes);
  else checkDisk(name, bytes);
  return undefined;
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(n % 2 ** 20 ? 1 : 0)} MiB`;
}
