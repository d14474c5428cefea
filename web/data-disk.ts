// The default data disk: the empty ext2 image guest-images/build.sh makes, bundled with the page
// and attached as virtio-blk with its changes kept in IndexedDB (web/idb-disk.ts), so a new
// user has somewhere to write that survives a reload. The guest mounts it with
// `mount /dev/vda /mnt`.
import dataDiskUrl from "../guest-images/data-ext2.img.gz?url";
import { fetchBytes } from "./images.ts";

/** The spec's image: an IndexedDB overlay named "data" over the bundled image. */
export const DATA_DISK_IMAGE = "idb:data";
export const DATA_DISK_NAME = "data";
/** The spec's image when the user picked a disk: those bytes, in memory, for one power-on. */
export const PICKED_DISK_IMAGE = "mem:picked";


let gz: Promise<Uint8Array> | undefined;

/**
 * The base image's bytes, a fresh copy per call (the caller may transfer it to the worker). The
 * compressed file (70 KB) is fetched once; each call inflates it (64 MiB).
 */
export async function loadDataDiskBase(): Promise<Uint8Array> {
  if (!gz) {
    gz = fetchBytes(dataDiskUrl, () => {});
    gz.catch(() => (gz = undefined)); // a failed load may be retried
  }
  return gunzip(await gz);
}

/** Inflate gzip bytes; bytes without the gzip magic are returned as they are (a server that already decoded them). */
async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes.slice();
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
