// The page's caches of a streamed disk's chunks (devices/host/chunk-cache.ts), keyed by SHA-256:
// OPFS where the browser has it (a file per chunk in the directory "vireo-chunks", written through
// a sync access handle: the VM worker is a dedicated worker), else IndexedDB through idb-keyval
// (database "vireo-chunks", store "chunks"). Either may hold a damaged entry after a crash mid-
// write; the disk checks every chunk's hash and fetches a bad one again.
import { createStore, get, set, type UseStore } from "idb-keyval";
import type { ChunkCache } from "../devices/host/chunk-cache.ts";

const DIR = "vireo-chunks";

export class OpfsChunkCache implements ChunkCache {
  readonly kind = "OPFS";
  /** Chunks being written: a second put of the same bytes is skipped, a get reads as a miss. */
  private readonly writing = new Set<string>();

  private constructor(private readonly dir: FileSystemDirectoryHandle) {}

  /** The cache, or null where OPFS is missing or refused (private browsing). */
  static async open(): Promise<OpfsChunkCache | null> {
    try {
      if (!navigator.storage?.getDirectory) return null;
      const root = await navigator.storage.getDirectory();
      return new OpfsChunkCache(await root.getDirectoryHandle(DIR, { create: true }));
    } catch {
      return null;
    }
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    if (this.writing.has(sha256)) return undefined;
    let file: File;
    try {
      file = await (await this.dir.getFileHandle(sha256)).getFile();
    } catch (e) {
      if ((e as DOMException)?.name === "NotFoundError") return undefined;
      throw e;
    }
    return new Uint8Array(await file.arrayBuffer());
  }

  async put(sha256: string, bytes: Uint8Array): Promise<void> {
    if (this.writing.has(sha256)) return;
    this.writing.add(sha256);
    try {
      const fh = await this.dir.getFileHandle(sha256, { create: true });
      const sync = (fh as FileSystemFileHandle & { createSyncAccessHandle?: () => Promise<SyncHandle> }).createSyncAccessHandle;
      if (sync) {
        const h = await sync.call(fh);
        try {
          h.truncate(0);
          h.write(bytes, { at: 0 });
          h.flush();
        } finally {
          h.close();
        }
      } else {
        const w = await fh.createWritable();
        await w.write(bytes as Uint8Array<ArrayBuffer>);
        await w.close();
      }
    } finally {
      this.writing.delete(sha256);
    }
  }
}

/** FileSystemSyncAccessHandle, as far as it is used here (dedicated workers only; not in the DOM lib's window types). */
interface SyncHandle {
  truncate(size: number): void;
  write(buffer: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}

export class IdbChunkCache implements ChunkCache {
  readonly kind = "IndexedDB";
  private readonly store: UseStore = createStore(DIR, "chunks");

  get(sha256: string): Promise<Uint8Array | undefined> {
    return get<Uint8Array>(sha256, this.store);
  }

  put(sha256: string, bytes: Uint8Array): Promise<void> {
    return set(sha256, bytes, this.store);
  }
}

/** OPFS where present, else IndexedDB. */
export async function browserChunkCache(): Promise<ChunkCache> {
  return (await OpfsChunkCache.open()) ?? new IdbChunkCache();
}
