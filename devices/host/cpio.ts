// The "newc" cpio format an initramfs is made of, checked the way Linux's init/initramfs.c reads
// it: a 110-byte ASCII header (magic 070701, or 070702 with a checksum, then 13 fields of 8 hex
// digits), the NUL-terminated name, padding to 4 bytes, the file data, padding to 4 bytes; the
// archive ends with an entry named TRAILER!!!. Archives may follow one another, with zero bytes
// between them. Only the structure is checked here — what the kernel would refuse or cut short —
// not the files' contents.
import { BootError } from "../board/linux-boot.ts";

export const CPIO_HEADER = 110;
const FIELDS = ["ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check"] as const;
const F_FILESIZE = 6;
const F_NAMESIZE = 11;
/** Linux refuses longer names (init/initramfs.c: name_len > PATH_MAX). */
const PATH_MAX = 4096;
const TRAILER = "TRAILER!!!";

/** "070701" or "070702" at `at`. */
export function isCpioMagic(b: Uint8Array, at: number): boolean {
  return b.length - at >= 6 && b[at] === 0x30 && b[at + 1] === 0x37 && b[at + 2] === 0x30 && b[at + 3] === 0x37 &&
    b[at + 4] === 0x30 && (b[at + 5] === 0x31 || b[at + 5] === 0x32);
}

/** One 8-digit hex field, or -1 if a character is not a hex digit. */
function hex8(b: Uint8Array, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = b[i]!;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

const align4 = (n: number) => (n + 3) & ~3;
/** Bytes from the file shown in a message: printable ASCII only, so the message stays one line. */
const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, "?");

/**
 * Check the archive that starts at `start` (4-byte aligned, magic present) and return where it
 * ends (after the trailer's padding, at most b.length). `what` names the bytes in errors.
 */
export function checkCpioArchive(b: Uint8Array, start: number, what: string): number {
  let at = start;
  let entries = 0;
  for (;;) {
    if (b.length - at < CPIO_HEADER) {
      throw new BootError(`${what}: cpio archive ends at byte ${b.length} inside an entry header (truncated, or no ${TRAILER} entry)`);
    }
    if (!isCpioMagic(b, at)) {
      const seen = printable(String.fromCharCode(...b.subarray(at, at + 6)));
      throw new BootError(`${what}: cpio entry ${entries} at byte ${at} has magic '${seen}', not 070701 (newc)`);
    }
    const f: number[] = [];
    for (let i = 0; i < FIELDS.length; i++) {
      const v = hex8(b, at + 6 + 8 * i);
      if (v < 0) throw new BootError(`${what}: cpio entry ${entries} at byte ${at}: field ${FIELDS[i]} is not 8 hex digits`);
      f.push(v);
    }
    const namesize = f[F_NAMESIZE]!;
    const filesize = f[F_FILESIZE]!;
    const nameAt = at + CPIO_HEADER;
    if (namesize < 1 || namesize > PATH_MAX) throw new BootError(`${what}: cpio entry ${entries} at byte ${at}: name size ${namesize} (must be 1–${PATH_MAX})`);
    if (nameAt + namesize > b.length) throw new BootError(`${what}: cpio archive is truncated inside the name of entry ${entries} at byte ${at}`);
    if (b[nameAt + namesize - 1] !== 0) throw new BootError(`${what}: cpio entry ${entries} at byte ${at}: name is not NUL-terminated`);
    const name = String.fromCharCode(...b.subarray(nameAt, nameAt + namesize - 1));
    const dataAt = align4(nameAt + namesize);
    const end = dataAt + filesize;
    if (end > b.length) {
      throw new BootError(`${what}: cpio archive is truncated: '${printable(name.slice(0, 64))}' (entry ${entries}, byte ${at}) needs ${filesize} bytes of data, ${Math.max(0, b.length - dataAt)} are left`);
    }
    entries++;
    at = align4(end);
    if (name === TRAILER) return Math.min(at, b.length);
  }
}
