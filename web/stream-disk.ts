// The page's streamed disk, opened in the VM worker: a spec image `stream:URL` names the disk's
// manifest (devices/host/disk-manifest.ts). Its chunks come over HTTP as the guest reads them
// (devices/host/streamed-disk.ts), cached in OPFS or IndexedDB (chunk-cache.ts); the guest's
// writes go to a copy-on-write overlay in IndexedDB (idb-disk.ts), named by the URL, kept
// across visits and dropped when the image changes (its manifest's identity), never sent back.
import { StreamedDisk, type StreamProgress } from "../devices/host/streamed-disk.ts";
import { manifestId } from "../devices/host/disk-manifest.ts";
import { OVERLAY_BLOCK_SIZE, OverlayBlockBackend } from "../devices/host/overlay-block.ts";
import type { BlockDeviceSpec } from "../devices/registry.ts";
import { browserChunkCache } from "./chunk-cache.ts";
import { IdbDiskStore, holdIdbDiskLock } from "./idb-disk.ts";

const STREAM_PREFIX = "stream:";
/** Least time between two progress reports to the page. */
const PROGRESS_MS = 250;

/** The manifest URL of a `stream:URL` image, or null for any other image. */
export function streamUrl(image: string | undefined): string | null {
  return image?.startsWith(STREAM_PREFIX) && image.length > STREAM_PREFIX.length ? image.slice(STREAM_PREFIX.length) : null;
}

/** The spec image that streams the disk whose manifest is at `manifestUrl` (made absolute). */
export const streamImage = (manifestUrl: string, base: string): string => STREAM_PREFIX + new URL(manifestUrl, base).href;

/** The overlay's name in IndexedDB (idb-disk.ts) for a streamed image. */
export const streamOverlayName = (image: string): string => image;

export async function openStreamedDisk(
  spec: BlockDeviceSpec,
  log: (message: string) => void,
  progress: (p: Readonly<StreamProgress>) => void,
): Promise<OverlayBlockBackend> {
  const url = streamUrl(spec.image);
  if (url === null) throw new Error(`virtio-blk: '${spec.image}' is not a streamed image`);
  const cache = await browserChunkCache();
  // No timer for a last report: the worker's event loop sleeps while the guest idles. Each
  // burst of loads ends with one report instead.
  let last = 0;
  const report = (p: Readonly<StreamProgress>, idle: boolean) => {
    const now = performance.now();
    if (idle || now - last >= PROGRESS_MS) {
      last = now;
      progress({ ...p });
    }
  };
  const disk = await StreamedDisk.open(url, { cache, log, onProgress: report });
  const name = streamOverlayName(spec.image);
  await holdIdbDiskLock(name);
  const store = new IdbDiskStore(name, { sha256: await manifestId(disk.manifest), size: disk.size, blockSize: OVERLAY_BLOCK_SIZE }, log);
  const overlay = await OverlayBlockBackend.open(disk, store, { readonly: spec.readonly, id: "vireo-stream", log });
  log(`disk ${url}: ${(disk.size / 2 ** 20).toFixed(0)} MiB, streamed in ${disk.manifest.chunkSize >> 10} KiB chunks (cache: ${cache.kind})` +
    (overlay.changedBlocks > 0 ? `; ${overlay.changedBlocks} saved block(s) of changes loaded` : ""));
  progress({ ...disk.progress });
  return overlay;
}
