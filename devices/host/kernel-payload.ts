// Host-side decompression of a bzImage's kernel. A bzImage's protected-mode part is a small
// decompressor plus the compressed vmlinux (the "payload", boot protocol 2.08+: payload_offset
// and payload_length in the setup header). Run in the interpreter, the decompressor costs the
// default guest ~15 M instructions per boot; decompressing natively and placing vmlinux's ELF
// segments where the decompressor would (arch/x86/boot/compressed/misc.c parse_elf) lets the
// board enter the kernel's own startup_32 directly, with the same memory contents.
//
// Only what is clearly understood takes this path: an LZ4 (legacy frame) or gzip payload that
// decodes to exactly its recorded size, holding a 32-bit x86 ELF whose loadable segments all
// sit inside the region the kernel asked for (pref_address .. + init_size). Anything else (xz,
// zstd, a relocatable kernel placed elsewhere, a damaged image) boots through the kernel's own
// decompressor, as it always would.
import { parseBzImage, type BzImageInfo, type DecompressedKernel } from "../board/linux-boot.ts";
import { lz4LegacyDecode, LZ4_LEGACY_MAGIC } from "./lz4.ts";

const HDR_PAYLOAD_OFFSET = 0x248;
const HDR_PAYLOAD_LENGTH = 0x24c;
const PT_LOAD = 1;
const EM_386 = 3;

/** The kernel of `bzImage` decompressed and split into load segments, or undefined (see above). */
export async function decompressKernel(bzImage: Uint8Array): Promise<DecompressedKernel | undefined> {
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
  if (length < 8 || offset + length > info.kernel.length) return undefined;
  const payload = info.kernel.subarray(offset, offset + length);
  // Both formats end with the uncompressed size, little-endian (gzip's ISIZE; the build's
  // size_append for LZ4).
  const size = new DataView(payload.buffer, payload.byteOffset + length - 4, 4).getUint32(0, true);
  if (size === 0 || size > info.initSize) return undefined;

  let elf: Uint8Array;
  let format: string;
  try {
    if (new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true) === LZ4_LEGACY_MAGIC) {
      elf = lz4LegacyDecode(payload, size);
      format = "lz4";
    } else if (payload[0] === 0x1f && payload[1] === 0x8b) {
      elf = await gunzip(payload);
      format = "gzip";
    } else {
      return undefined;
    }
  } catch {
    return undefined;
  }
  if (elf.length !== size) return undefined;
  const loaded = elfSegments(elf, info.runtimeStart, info.runtimeStart + info.initSize);
  // The decompressor jumps to the start of its output buffer (misc.c extract_kernel returns
  // `output`), which is startup_32: take this path only when the ELF agrees.
  if (!loaded || loaded.entry !== info.runtimeStart) return undefined;
  return { ...loaded, format };
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes.slice()]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
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
