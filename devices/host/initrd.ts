// The initrd, checked and unpacked on the host before the guest runs. The kernel unpacks a gzip
// initramfs itself, but in an interpreter that costs over half of the default guest's boot
// instructions (95.1 M → 44.5 M when the initrd arrives as a plain cpio); and a damaged one
// makes the kernel panic ("VFS: Unable to mount root fs") long after the mistake was made. So
// the host walks the initrd as init/initramfs.c (unpack_to_rootfs) does — newc cpio archives,
// zero padding between them, compressed streams — and refuses, with one line, what the kernel
// could not unpack: a gzip stream that ends early or fails its CRC/ISIZE check, a cpio archive
// that does not parse, bytes that are neither. Inflating stops at the guest's RAM size.
//
// What the host cannot check it leaves to the kernel untouched: streams in the other formats
// the kernel knows (xz, lz4, zstd, …) and old-style initrd file system images.
import { BootError } from "../board/linux-boot.ts";
import { checkCpioArchive, isCpioMagic } from "./cpio.ts";
import { gunzipMember } from "./gunzip.ts";

/** Compressed formats the kernel can unpack (lib/decompress.c) that the host leaves to it. */
const OTHER_COMPRESSION: readonly { name: string; magic: readonly number[] }[] = [
  { name: "gzip (old magic)", magic: [0x1f, 0x9e] },
  { name: "bzip2", magic: [0x42, 0x5a, 0x68] },
  { name: "lzma", magic: [0x5d, 0x00, 0x00] },
  { name: "xz", magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: "lzo", magic: [0x89, 0x4c, 0x5a, 0x4f] },
  { name: "lz4", magic: [0x02, 0x21, 0x4c, 0x18] },
  { name: "zstd", magic: [0x28, 0xb5, 0x2f, 0xfd] },
];
/** Old-style initrd images (init/do_mounts_rd.c identify_ramdisk_image): magic and its offset. */
const FS_IMAGES: readonly { name: string; at: number; magic: readonly number[] }[] = [
  { name: "ext2", at: 1024 + 56, magic: [0x53, 0xef] },
  { name: "romfs", at: 0, magic: [...new TextEncoder().encode("-rom1fs-")] },
  { name: "cramfs", at: 0, magic: [0x45, 0x3d, 0xcd, 0x28] },
  { name: "squashfs", at: 0, magic: [0x68, 0x73, 0x71, 0x73] },
  { name: "minix", at: 1024 + 16, magic: [0x7f, 0x13] },
];

const GZIP = [0x1f, 0x8b];

function startsWith(b: Uint8Array, at: number, magic: readonly number[]): boolean {
  if (b.length - at < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[at + i] !== magic[i]) return false;
  return true;
}

const hexBytes = (b: Uint8Array, at: number) => [...b.subarray(at, at + 4)].map((x) => x.toString(16).padStart(2, "0")).join(" ");

/**
 * Check a run of cpio archives and zero padding (the whole of an uncompressed initrd from
 * `start`, or what a gzip stream inflated to). Returns the offset of the first byte that is
 * neither — the start of a compressed stream — or b.length, and how many archives it checked.
 */
function checkArchives(b: Uint8Array, start: number, what: string, compressedAllowed: boolean): { end: number; archives: number } {
  let at = start;
  let archives = 0;
  while (at < b.length) {
    if (b[at] === 0) { at++; continue; }
    // The kernel looks for a header only at 4-byte boundaries (unpack_to_rootfs: this_header & 3).
    if (isCpioMagic(b, at) && (at & 3) === 0) {
      at = checkCpioArchive(b, at, what);
      archives++;
      continue;
    }
    if (compressedAllowed && (startsWith(b, at, GZIP) || OTHER_COMPRESSION.some((c) => startsWith(b, at, c.magic)))) return { end: at, archives };
    if (at === 0) {
      throw new BootError(`${what}: not an initramfs: it starts with ${hexBytes(b, 0)}, neither a newc cpio archive (070701) nor a compressed stream the kernel knows (gzip, xz, lz4, zstd, bzip2, lzma, lzo)`);
    }
    throw new BootError(`${what}: junk at byte ${at} (${hexBytes(b, at)}): neither a cpio archive at a 4-byte boundary, zero padding nor a compressed stream`);
  }
  return { end: at, archives };
}

/**
 * The initrd to load: checked, and with its gzip members inflated (the kernel gets the same
 * archives, uncompressed). Throws a BootError naming what is wrong; `maxBytes` (the guest's
 * RAM) bounds what inflating may produce.
 */
export function inflateInitrd(bytes: Uint8Array, maxBytes: number): Uint8Array {
  const what = "initrd";
  if (bytes.length === 0) throw new BootError(`${what}: the file is empty`);
  if (FS_IMAGES.some((f) => startsWith(bytes, f.at, f.magic))) return bytes; // an old-style initrd image
  const parts: Uint8Array[] = []; // plain runs of the input, and inflated members, in order
  let size = 0;
  let archives = 0;
  let at = 0;
  // Inflating changes where later archives fall: the kernel finds a cpio header only at a 4-byte
  // boundary of what it unpacks, so zeros (which it skips anywhere) put each part where its
  // archives start on one again — a plain run at the same offset mod 4 as in the file, an
  // inflated member at a boundary.
  const alignTo = (mod4: number) => {
    const pad = (mod4 - size) & 3;
    if (pad !== 0) { parts.push(new Uint8Array(pad)); size += pad; }
  };
  while (at < bytes.length) {
    const plain = checkArchives(bytes, at, what, true);
    archives += plain.archives;
    if (plain.end > at) {
      alignTo(at & 3);
      parts.push(bytes.subarray(at, plain.end));
      size += plain.end - at;
      at = plain.end;
      continue;
    }
    // A compressed stream starts at `at`. The host unpacks gzip; other formats are the kernel's.
    if (!startsWith(bytes, at, GZIP)) return bytes;
    const where = `${what} (gzip at byte ${at})`;
    const member = gunzipMember(bytes, at, maxBytes - size, where);
    const inside = checkArchives(member.data, 0, `${where}, inflated`, false);
    if (inside.archives === 0) throw new BootError(`${where}: holds no cpio archive`);
    archives += inside.archives;
    alignTo(0);
    parts.push(member.data);
    size += member.data.length;
    at = member.end;
  }
  if (archives === 0) throw new BootError(`${what}: holds only zero bytes`);
  if (parts.length === 1) return parts[0]!.length === bytes.length ? bytes : parts[0]!;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
