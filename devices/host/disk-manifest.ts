// What a streamed disk (streamed-disk.ts) knows of its image before reading a byte of it: the
// size, the chunk size, and each chunk's SHA-256. A chunk is fetched and cached by its hash, so
// a changed image (a new manifest) never mixes with chunks cached from the old one, and bytes a
// server or a cache got wrong are caught before the guest sees them. The manifest is JSON,
// beside the image (`rootfs.img` → `rootfs.img.manifest.json`), made by `npm run disk-manifest`:
//
//   { "format": "vireo-disk-1", "size": 1073741824, "chunkSize": 262144, "chunks": ["9f86…", …] }
//
// A manifest comes from a server: it is checked whole (types, ranges, counts) before use.
import { SECTOR_SIZE } from "./block.ts";

export const MANIFEST_FORMAT = "vireo-disk-1";
/** The manifest's file name beside its image. */
export const MANIFEST_SUFFIX = ".manifest.json";
/** Default chunk size: one HTTP request per 256 KiB (a boot reads in scattered runs of 4–128 KiB). */
export const DEFAULT_CHUNK_SIZE = 256 << 10;
/** Chunk sizes allowed: powers of two from 4 KiB to 16 MiB. */
export const MIN_CHUNK_SIZE = 4 << 10;
export const MAX_CHUNK_SIZE = 16 << 20;
/** Largest image: 1 TiB (about 4 M chunks of 256 KiB; a manifest of ~270 MB stays unread). */
export const MAX_IMAGE_SIZE = 2 ** 40;
/** Largest manifest text accepted (a 64 GiB image at 256 KiB chunks needs about 17 MB). */
export const MAX_MANIFEST_BYTES = 32 << 20;

export interface DiskManifest {
  format: typeof MANIFEST_FORMAT;
  /** Image size in bytes: a multiple of 512. */
  size: number;
  /** Bytes per chunk; the last chunk may be shorter. */
  chunkSize: number;
  /** SHA-256 of each chunk, lowercase hex, in order. */
  chunks: string[];
}

export class ManifestError extends Error {}

/** An http(s) URL of a manifest (how the CLI's --device names a streamed disk). */
export const isManifestUrl = (v: string): boolean => /^https?:\/\/\S+\.manifest\.json$/.test(v);

const HEX64 = /^[0-9a-f]{64}$/;

/** Chunks an image of `size` bytes has at `chunkSize`. */
export const chunkCount = (size: number, chunkSize: number): number => Math.ceil(size / chunkSize);

/** Parse and check a manifest from untrusted text; `what` names it in errors. */
export function parseManifest(text: string, what: string): DiskManifest {
  if (text.length > MAX_MANIFEST_BYTES) throw new ManifestError(`${what}: ${text.length} bytes, more than a manifest may be (${MAX_MANIFEST_BYTES})`);
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${what}: not JSON (${(e as Error).message})`);
  }
  const o = m as Partial<DiskManifest> | null;
  if (typeof o !== "object" || o === null || o.format !== MANIFEST_FORMAT) throw new ManifestError(`${what}: not a disk manifest (format is not "${MANIFEST_FORMAT}")`);
  const { size, chunkSize, chunks } = o;
  if (!Number.isSafeInteger(size) || size! <= 0 || size! > MAX_IMAGE_SIZE || size! % SECTOR_SIZE !== 0) {
    throw new ManifestError(`${what}: size ${String(size)} is not a whole number of ${SECTOR_SIZE}-byte sectors up to ${MAX_IMAGE_SIZE}`);
  }
  if (!Number.isSafeInteger(chunkSize) || chunkSize! < MIN_CHUNK_SIZE || chunkSize! > MAX_CHUNK_SIZE || (chunkSize! & (chunkSize! - 1)) !== 0) {
    throw new ManifestError(`${what}: chunkSize ${String(chunkSize)} is not a power of two from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}`);
  }
  const n = chunkCount(size!, chunkSize!);
  if (!Array.isArray(chunks) || chunks.length !== n) throw new ManifestError(`${what}: ${Array.isArray(chunks) ? chunks.length : "no"} chunk hashes for ${n} chunks`);
  chunks.forEach((h, i) => {
    if (typeof h !== "string" || !HEX64.test(h)) throw new ManifestError(`${what}: chunk ${i}'s hash is not 64 lowercase hex digits`);
  });
  return { format: MANIFEST_FORMAT, size: size!, chunkSize: chunkSize!, chunks };
}

const subtle = (globalThis as unknown as { crypto: { subtle: { digest(alg: string, data: Uint8Array): Promise<ArrayBuffer> } } }).crypto.subtle;

export const hex = (b: ArrayBuffer | Uint8Array): string => Array.from(new Uint8Array(b as ArrayBuffer), (x) => x.toString(16).padStart(2, "0")).join("");

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return hex(await subtle.digest("SHA-256", bytes));
}

/**
 * The manifest of an image read through `read(offset, dst)` (a file, or bytes in memory), one
 * chunk at a time.
 */
export async function makeManifest(size: number, read: (offset: number, dst: Uint8Array) => void, chunkSize = DEFAULT_CHUNK_SIZE): Promise<DiskManifest> {
  if (!Number.isSafeInteger(size) || size <= 0 || size % SECTOR_SIZE !== 0) throw new ManifestError(`image size ${size} is not a whole number of ${SECTOR_SIZE}-byte sectors`);
  const chunks: string[] = [];
  const buf = new Uint8Array(chunkSize);
  for (let at = 0; at < size; at += chunkSize) {
    const piece = buf.subarray(0, Math.min(chunkSize, size - at));
    read(at, piece);
    chunks.push(await sha256Hex(piece));
  }
  return { format: MANIFEST_FORMAT, size, chunkSize, chunks };
}

/**
 * The image's identity: the SHA-256 of its chunk hashes, with size and chunk size. A disk's
 * saved changes (the overlay) belong to one identity and are dropped when it changes.
 */
export async function manifestId(m: DiskManifest): Promise<string> {
  return sha256Hex(new TextEncoder().encode(`${m.size}/${m.chunkSize}/${m.chunks.join("")}`));
}
