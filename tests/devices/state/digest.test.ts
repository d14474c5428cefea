// Content identities (devices/state/digest.ts): SHA-256 as FIPS 180-2 gives it ("abc"), and a
// disk's identity as its definition says — the SHA-256 of its 1 MiB pieces' SHA-256s, the last
// piece short — checked against Web Crypto's digests, computed here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DIGEST_CHUNK, bytesId, diskId } from "../../../devices/state/digest.ts";
import type { BlockBackend } from "../../../devices/host/block.ts";

const webSha = async (b: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", b));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("bytesId: the size and the SHA-256 of the bytes", async () => {
  assert.deepEqual(await bytesId(new TextEncoder().encode("abc")), {
    size: 3, sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", // FIPS 180-2, appendix B.1
  });
  const big = Uint8Array.from({ length: 3 << 20 }, (_, i) => (i * 2654435761) >>> 24);
  assert.equal((await bytesId(big)).sha256, hex(await webSha(big)));
});

test("diskId: the SHA-256 of its pieces' SHA-256s", async () => {
  const bytes = Uint8Array.from({ length: 2 * DIGEST_CHUNK + 4096 }, (_, i) => (i * 40503) >>> 9);
  const disk: BlockBackend = {
    size: bytes.length, readonly: true, id: "t",
    read: (offset, dst) => dst.set(bytes.subarray(offset, offset + dst.length)),
    write: () => { throw new Error("read-only"); },
    flush: () => {},
  };
  const pieces = new Uint8Array(32 * 3);
  for (let i = 0; i < 3; i++) pieces.set(await webSha(bytes.subarray(i * DIGEST_CHUNK, Math.min(bytes.length, (i + 1) * DIGEST_CHUNK))), 32 * i);
  assert.deepEqual(await diskId(disk), { size: bytes.length, sha256: hex(await webSha(pieces)) });
});
