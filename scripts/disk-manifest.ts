// npm run disk-manifest -- IMAGE [--chunk-size BYTES]: write IMAGE.manifest.json, the chunk
// hashes a streamed disk (devices/host/streamed-disk.ts) fetches and checks IMAGE by. Run it again
// whenever the image changes (a CLI boot writes through to it): the page then refuses the old
// manifest's chunks instead of mixing them with the new image's.
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from "node:fs";
import { DEFAULT_CHUNK_SIZE, MANIFEST_SUFFIX, makeManifest } from "../devices/host/disk-manifest.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--chunk-size");
const chunkSize = at >= 0 ? Number(args.splice(at, 2)[1]) : DEFAULT_CHUNK_SIZE;
if (args.length !== 1) {
  console.error("usage: npm run disk-manifest -- IMAGE [--chunk-size BYTES]");
  process.exit(2);
}
const image = args[0]!;
const fd = openSync(image, "r");
try {
  const size = fstatSync(fd).size;
  const manifest = await makeManifest(size, (offset, dst) => {
    for (let done = 0; done < dst.length; ) {
      const n = readSync(fd, dst, done, dst.length - done, offset + done);
      if (n <= 0) throw new Error(`${image}: short read at ${offset + done}`);
      done += n;
    }
  }, chunkSize);
  writeFileSync(image + MANIFEST_SUFFIX, JSON.stringify(manifest) + "\n");
  console.log(`${image + MANIFEST_SUFFIX}: ${manifest.chunks.length} chunks of ${chunkSize} bytes (${size} bytes)`);
} catch (e) {
  console.error(`disk-manifest: ${(e as Error).message}`);
  process.exitCode = 2;
} finally {
  closeSync(fd);
}
