// Host-side decompression of a bzImage's kernel. A bzImage's protected-mode part is a small
// decompressor plus the compressed vmlinux (the "payload", boot protocol 2.08+: payload_offset
// and payload_length in the setup header). Run in the interpreter, the decompressor costs the
// default guest ~15 M instructions per boot and a distribution's xz kernel ~2.3 G;
// decompressing natively and placing vmlinux's ELF segments where the decompressor would
// (arch/x86/boot/compressed/misc.c parse_elf) lets the board enter the kernel's own startup_32
// directly, with the same memory contents.
//
// Only what is clearly understood takes this path: an LZ4 (legacy frame), gzip or xz payload
// that decodes to exactly its recorded size, holding a 32-bit x86 ELF whose loadable segments
// all sit inside the region the kernel asked for (pref_address .. + init_size). Other formats
// (zstd, bzip2, lzma, lzo) and other ELF layouts (a relocatable kernel placed elsewhere) boot
// through the kernel's own decompressor, as they always would. A payload that is damaged — cut
// short, failing its check, decoding to another size than recorded, using an xz filter or check
// a kernel build does not, or unpacking to more than the guest's RAM — is a BootError before
// the guest runs: its own decompressor would only stop with "Decoding failed" and a halted CPU.
import { BootError, parseBzImage, type BzImageInfo, type DecompressedKernel } from "../board/linux-boot.ts";
import { lz4LegacyDecode, LZ4_LEGACY_MAGIC, Lz4Error } from "./lz4.ts";
import { gunzipMember, mib } from "./gunzip.ts";
import { isXz, xzDecode, XzError } from "./xz.ts";

const HDR_PAYLOAD_OFFSET = 0x248;
const HDR_PAYLOAD_LENGTH = 0x24c;
const PT_LOAD = 1;
const EM_386 = 3;

/**
 * The kernel of `bzImage` decompressed and split into load segments, or undefined (see above).
 * `maxBytes` (the guest's RAM) bounds what decompressing may produce.
 */
export function decompressKernel(bzImage: Uint8Array, maxBytes: number): DecompressedKernel | undefined {
  let info: BzImageInfo;
  try {
    info = parseBzImage(bzImage);
  } catch {
    return undefined; // the loader reports a bad image itself
  }
  if (info.protocol < 0x0208 || info.initSize === 0) return undefined;
  const hv = new DataView(bzImage.buffer, bzImage.byteOffset, bzImage.byteLength);
  const offset = hv.getUint32(HDR_PAYLOAD_OFFSET, true);
  const length = hv.getUint32(HDR_PAYLOAD_LENGTH, true);
  if (length < 8) return undefined;
  if (offset + length > info.kernel.length) {
    throw new BootError(`kernel: bzImage is truncated: its compressed kernel (${length} bytes at ${info.setupBytes + offset}) runs past the end of the file (${info.setupBytes + info.kernel.length} bytes)`);
  }
  const payload = info.kernel.subarray(offset, offset + length);
  // All three end with the uncompressed size, little-endian (gzip's ISIZE; the build's
  // size_append after the LZ4 frame or the xz stream).
  const size = new DataView(payload.buffer, payload.byteOffset + length - 4, 4).getUint32(0, true);
  const lz4 = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true) === LZ4_LEGACY_MAGIC;
  const gzip = payload[0] === 0x1f && payload[1] === 0x8b;
  const xz = isXz(payload);
  if (!lz4 && !gzip && !xz) return undefined;
  if (size > maxBytes) throw new BootError(`kernel: its compressed kernel says it unpacks to ${mib(size)}, more than the guest's ${mib(maxBytes)} of RAM`);
  if (size === 0 || size > info.initSize) return undefined;

  let elf: Uint8Array;
  const format = lz4 ? "lz4" : gzip ? "gzip" : "xz";
  if (lz4) {
    try {
      elf = lz4LegacyDecode(payload, size);
    } catch (e) {
      if (!(e instanceof Lz4Error)) throw e;
      throw new BootError(`kernel: corrupt LZ4 payload: ${e.message}`);
    }
  } else if (gzip) {
    elf = gunzipMember(payload, 0, maxBytes, "kernel (gzip payload)").data;
  } else {
    // The stream, then the size trailer; like the kernel's decompressor, ignore what lies between.
    // Bounded by the trailer, as LZ4 is: a lying stream costs no more than the kernel it claims.
    try {
      elf = xzDecode(payload.subarray(0, length - 4), size, size).data;
    } catch (e) {
      if (!(e instanceof XzError)) throw e;
      throw new BootError(`kernel: bad xz payload: ${e.message}`);
    }
  }
  if (elf.length !== size) throw new BootError(`kernel: the ${format} payload unpacks to ${elf.length} bytes, its trailer says ${size}`);
  const loaded = elfSegments(elf, info.runtimeStart, info.runtimeStart + info.initSize);
  // The decompressor jumps to the start of its output buffer (misc.c extract_kernel returns
  // `output`), which is startup_32: take this path only when the ELF agrees.
  if (!loaded || loaded.entry !== info.runtimeStart) return undefined;
  return { ...loaded, format };
}

/**
 * PT_LOAD segments of a 32-bit little-endian x86 ELF, each inside [lo, hi) physically, and the
 * physical entry point; undefined if the file is anything else.
 */
export function elfSegments(elf: Uint8Array, lo: number, hi: number): Omit<DecompressedKernel, "format"> | undefined {
  if (elf.length < 52) return undefined;
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  // e_ident: 0x7f 'E' 'L' 'F', ELFCLASS32, ELFDATA2LSB; e_type EXEC; e_machine EM_386.
  if (v.getUint32(0, false) !== 0x7f454c46 || elf[4] !== 1 || elf[5] !== 1) return undefined;
  if (v.getUint16(16, true) !== 2 || v.getUint16(18, true) !== EM_386) return undefined;
  const entryV = v.getUint32(24, true);
  const phoff = v.getUint32(28, true);
  const phentsize = v.getUint16(42, true);
  const phnum = v.getUint16(44, true);
  if (phentsize < 32 || phnum === 0 || phoff + phnum * phentsize > elf.length) return undefined;

  const segments: DecompressedKernel["segments"] = [];
  let entry: number | undefined;
  for (let n = 0; n < phnum; n++) {
    const p = phoff + n * phentsize;
    if (v.getUint32(p, true) !== PT_LOAD) continue;
    const off = v.getUint32(p + 4, true);
    const vaddr = v.getUint32(p + 8, true);
    const paddr = v.getUint32(p + 12, true);
    const filesz = v.getUint32(p + 16, true);
    const memsz = v.getUint32(p + 20, true);
    if (off + filesz > elf.length || memsz < filesz || paddr < lo || paddr + memsz > hi) return undefined;
    segments.push({ paddr, bytes: elf.subarray(off, off + filesz), zeroFill: memsz - filesz });
    // Linux's x86 vmlinux gives e_entry as a physical address; other linkers a virtual one.
    if (entryV >= paddr && entryV < paddr + memsz) entry = entryV;
    else if (entry === undefined && entryV >= vaddr && entryV < vaddr + memsz) entry = entryV - vaddr + paddr;
  }
  if (segments.length === 0 || entry === undefined) return undefined;
  return { entry, segments };
}
