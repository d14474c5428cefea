// Host-side inflation of a gzip initrd. The kernel unpacks a gzip initramfs itself, but in an
// interpreter that costs ~45 % of the default guest's boot instructions (112.6 M → 62.0 M when
// the initrd arrives as a plain cpio). Inflating it natively first gives the kernel the same
// archive, so the guest ends up with the same files.
//
// The uncompressed form is used only when it is clearly the whole archive: a single gzip member
// whose trailer ISIZE matches the output length (DecompressionStream stops after the first
// member of a concatenation), and the output starts with a cpio header. Anything else (xz,
// lz4, concatenated archives, a damaged file) goes to the kernel untouched, which handles it
// as it always would.

const CPIO_MAGIC = "0707"; // "070701" newc / "070702" newc with CRC

/** The initrd to load: `bytes` inflated when it is one gzip member holding a cpio archive. */
export async function inflateInitrd(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length < 18 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const isize = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
  let out: Uint8Array;
  try {
    out = new Uint8Array(await new Response(new Blob([bytes.slice()]) /* a copy: Blob takes no SharedArrayBuffer view */.stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
  } catch {
    return bytes; // not inflatable here (e.g. trailing data): let the kernel try
  }
  if (out.length % 2 ** 32 !== isize) return bytes;
  if (String.fromCharCode(...out.subarray(0, 4)) !== CPIO_MAGIC) return bytes;
  return out;
}
