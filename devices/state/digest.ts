// Content identities a state records of what it does not contain: the kernel and initrd it
// booted (a reboot after a restore boots them again) and each disk (a restore must see the disk
// as it was at the save). SHA-256: node:crypto's where the host has it (Node), else Web Crypto
// (the page); a disk is hashed in DIGEST_CHUNK pieces (the digest of the pieces' digests), so
// no more than one piece is ever held.
import type { BlockBackend } from "../host/block.ts";

export const DIGEST_CHUNK = 1 << 20;

const subtle = (globalThis as unknown as { crypto: { subtle: { digest(alg: string, data: Uint8Array): Promise<ArrayBuffer> } } }).crypto.subtle;

interface NativeCrypto {
  createHash(algorithm: "sha256"): { update(data: Uint8Array): { digest(): Uint8Array } };
}
/**
 * Node's hash, reached without an import (the page's bundle never asks for node:crypto). Web
 * Crypto's digest in Node first copies its input and then goes through the thread pool: for a
 * state file's megabytes that cost a restore ~10× node:crypto's time, most of it copying.
 */
const nativeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.("node:crypto") as NativeCrypto | undefined;

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  if (typeof nativeCrypto?.createHash === "function") return nativeCrypto.createHash("sha256").update(data).digest();
  return new Uint8Array(await subtle.digest("SHA-256", data));
}

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

export interface ContentId {
  size: number;
  sha256: string;
}

export async function bytesId(bytes: Uint8Array): Promise<ContentId> {
  return { size: bytes.length, sha256: hex(await sha256(bytes)) };
}

/** A disk's identity: its size and the SHA-256 of its chunks' SHA-256s, read through the backend. */
export async function diskId(disk: BlockBackend): Promise<ContentId> {
  if (disk.contentId) return disk.contentId();
  const n = Math.ceil(disk.size / DIGEST_CHUNK);
  const digests = new Uint8Array(32 * n);
  const buf = new Uint8Array(Math.min(DIGEST_CHUNK, disk.size));
  for (let i = 0; i < n; i++) {
    const len = Math.min(DIGEST_CHUNK, disk.size - i * DIGEST_CHUNK);
    const piece = buf.subarray(0, len);
    disk.read(i * DIGEST_CHUNK, piece);
    digests.set(await sha256(piece), 32 * i);
  }
  return { size: disk.size, sha256: hex(await sha256(digests)) };
}

export const sameContent = (a: ContentId, b: ContentId): boolean => a.size === b.size && a.sha256 === b.sha256;
