// The page's disk storage: the blocks of a copy-on-write overlay (devices/host/overlay-block.ts)
// in IndexedDB, through idb-keyval, one database for every disk:
//
//   database "vireo-disks", object store "blocks"
//     [disk, i]       Uint8Array   block i of the overlay (OVERLAY_BLOCK_SIZE bytes, the last may be short)
//     [disk, "meta"]  DiskMeta     which base image the blocks were written over
//
// A spec names such a disk as `image: "idb:NAME"` (devices/vm/config.ts). The blocks only make
// sense over the base they were written against: when the base changes (another image, a new
// bundled build), the stored overlay is discarded, with a log line saying so, rather than laid
// over bytes it does not fit. Works in the VM worker (where the overlay runs) and in the page
// (download, reset). A Web Lock per disk keeps two tabs from running (or resetting) one disk at
// once: each would overwrite the other's blocks and corrupt the file system.
import { createStore, get, promisifyRequest, setMany, type UseStore } from "idb-keyval";
import { OVERLAY_BLOCK_SIZE, OverlayBlockBackend, mergeOverlay, type OverlayStore } from "../devices/host/overlay-block.ts";
import type { BlockDeviceSpec } from "../devices/registry.ts";

const IDB_PREFIX = "idb:";

/** What an overlay was written over. */
export interface BaseId {
  sha256: string;
  size: number;
  blockSize: number;
}

interface DiskMeta extends BaseId {
  format: 1;
}

let db: UseStore | undefined;
const blocksDb = (): UseStore => (db ??= createStore("vireo-disks", "blocks"));

// IndexedDB orders numbers before strings and strings before arrays, so these ranges hold
// exactly one disk's blocks, and everything of one disk (blocks and meta).
const blockRange = (disk: string) => IDBKeyRange.bound([disk, 0], [disk, Infinity]);
const diskRange = (disk: string) => IDBKeyRange.bound([disk], [disk, []]);
const metaKey = (disk: string): IDBValidKey => [disk, "meta"];

/** The disk name of an `idb:NAME` image, or null for any other image. */
export function idbDiskName(image: string | undefined): string | null {
  return image?.startsWith(IDB_PREFIX) && image.length > IDB_PREFIX.length ? image.slice(IDB_PREFIX.length) : null;
}

export async function baseId(base: Uint8Array, blockSize = OVERLAY_BLOCK_SIZE): Promise<BaseId> {
  const digest = await crypto.subtle.digest("SHA-256", base as Uint8Array<ArrayBuffer>);
  const sha256 = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return { sha256, size: base.length, blockSize };
}

/** One disk's overlay in IndexedDB. */
export class IdbDiskStore implements OverlayStore {
  constructor(
    readonly disk: string,
    readonly base: BaseId,
    private readonly log: (message: string) => void = () => {},
  ) {}

  async load(): Promise<Map<number, Uint8Array>> {
    const meta = await get<DiskMeta>(metaKey(this.disk), blocksDb());
    if (meta && (meta.sha256 !== this.base.sha256 || meta.size !== this.base.size || meta.blockSize !== this.base.blockSize)) {
      this.log(`disk ${this.disk}: the saved changes were made to a different base image (sha256 ${meta.sha256.slice(0, 12)}…, ${meta.size} bytes); discarding them`);
      await deleteIdbDisk(this.disk);
      return new Map();
    }
    const [keys, values] = await blocksDb()("readonly", (s) =>
      Promise.all([promisifyRequest(s.getAllKeys(blockRange(this.disk))), promisifyRequest(s.getAll(blockRange(this.disk)))]),
    );
    const out = new Map<number, Uint8Array>();
    keys.forEach((k, n) => out.set((k as [string, number])[1], values[n] as Uint8Array));
    return out;
  }

  /** One readwrite transaction (idb-keyval setMany): all the blocks and the meta, or none. */
  commit(blocks: ReadonlyMap<number, Uint8Array>): Promise<void> {
    const meta: DiskMeta = { format: 1, ...this.base };
    const entries: [IDBValidKey, unknown][] = [[metaKey(this.disk), meta]];
    for (const [i, b] of blocks) entries.push([[this.disk, i], b]);
    return setMany(entries, blocksDb());
  }
}

const lockName = (disk: string) => `vireo-disk:${disk}`;
/** How long to wait for a disk's lock: a reloaded page's old worker may still be shutting down. */
const LOCK_WAIT_MS = 5000;

/**
 * Run `job` holding the disk's lock (held until `job` settles). A VM holds it for its worker's
 * whole life: the worker's job never settles, and the lock goes when the worker is terminated.
 */
export async function withIdbDiskLock<T>(disk: string, job: () => Promise<T>): Promise<T> {
  if (!navigator.locks) return job(); // no Web Locks API: nothing to guard with
  try {
    return await navigator.locks.request(lockName(disk), { signal: AbortSignal.timeout(LOCK_WAIT_MS) }, job);
  } catch (e) {
    if ((e as Error)?.name === "TimeoutError") throw new Error(`disk ${disk} is in use by another Vireo tab`);
    throw e;
  }
}

/** Hold the disk's lock for the rest of this worker's life; resolves once it is held. */
export function holdIdbDiskLock(disk: string): Promise<void> {
  return new Promise<void>((held, refused) => {
    withIdbDiskLock(disk, () => {
      held();
      return new Promise<never>(() => {});
    }).catch(refused);
  });
}

/** Forget a disk's overlay: it reads as its base image again. */
export function deleteIdbDisk(disk: string): Promise<void> {
  return blocksDb()("readwrite", (s) => {
    s.delete(diskRange(disk));
    return promisifyRequest(s.transaction);
  });
}

/** Open an `idb:NAME` spec over `base`: the stored blocks are loaded before this resolves. */
export async function openIdbDisk(spec: BlockDeviceSpec, base: Uint8Array, log: (message: string) => void): Promise<OverlayBlockBackend> {
  const disk = idbDiskName(spec.image);
  if (disk === null) throw new Error(`virtio-blk: the page opens only idb:NAME images, not '${spec.image ?? ""}'`);
  await holdIdbDiskLock(disk);
  const store = new IdbDiskStore(disk, await baseId(base), log);
  const overlay = await OverlayBlockBackend.open(base, store, { readonly: spec.readonly, id: `vireo-${disk}`, log });
  if (overlay.changedBlocks > 0) log(`disk ${disk}: ${overlay.changedBlocks} saved block(s) of changes loaded`);
  return overlay;
}

/** The disk as the guest would see it now: base plus every committed block (download). */
export async function readIdbDisk(disk: string, base: Uint8Array, log?: (message: string) => void): Promise<Uint8Array> {
  const store = new IdbDiskStore(disk, await baseId(base), log);
  return mergeOverlay(base, await store.load());
}
