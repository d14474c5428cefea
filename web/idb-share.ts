// The page's shared folder in IndexedDB: one record per file, keyed by its path as an array of
// names, so a directory and everything below it is one key range.
//
//   database "vireo-share", object store "files"
//     ["dir", "file.txt"]   MemoryFsEntry   (kind, mode, mtime, data or symlink target)
//
// The VM worker opens it as a PersistentFs (devices/p9/persistent-fs.ts) behind virtio-9p; the
// page fills it from a picked folder and writes it back to one (share-panel.ts). Works in both.
import { createStore, entries, clear, setMany, type UseStore } from "idb-keyval";
import type { FsPath } from "../devices/p9/backend.ts";
import type { MemoryFsEntry } from "../devices/p9/memory-fs.ts";
import { PersistentFs, type FolderStore } from "../devices/p9/persistent-fs.ts";
import { withIdbDiskLock } from "./idb-disk.ts";

/** The Web Lock that keeps two tabs from running (or replacing) the folder at once, as for disks. */
const LOCK = "folder:share";

let db: UseStore | undefined;
const filesDb = (): UseStore => (db ??= createStore("vireo-share", "files"));

// Arrays sort after strings in IndexedDB, so [...p, []] is above every path below p.
const below = (p: FsPath) => IDBKeyRange.bound([...p], [...p, []]);

const done = (r: IDBRequest | IDBTransaction) => new Promise<void>((resolve, reject) => {
  if ("oncomplete" in r) { r.oncomplete = () => resolve(); r.onerror = r.onabort = () => reject(r.error); }
  else { r.onsuccess = () => resolve(); r.onerror = () => reject(r.error); }
});

export const idbFolderStore: FolderStore = {
  async load() {
    return (await entries<IDBValidKey, MemoryFsEntry>(filesDb())).map(([, e]) => e);
  },
  put(e) {
    return filesDb()("readwrite", (s) => done(s.put(e, e.path)));
  },
  remove(path) {
    return filesDb()("readwrite", (s) => done(s.delete(below(path))));
  },
  move(from, to) {
    return filesDb()("readwrite", async (s) => {
      const moved = await new Promise<MemoryFsEntry[]>((resolve, reject) => {
        const r = s.getAll(below(from));
        r.onsuccess = () => resolve(r.result as MemoryFsEntry[]);
        r.onerror = () => reject(r.error);
      });
      s.delete(below(to));
      s.delete(below(from));
      for (const e of moved) {
        const path = [...to, ...e.path.slice(from.length)];
        s.put({ ...e, path }, path);
      }
      await done(s.transaction);
    });
  },
};

/** The folder for a virtio-9p spec (the worker), held for the rest of the worker's life. */
export async function openIdbShare(): Promise<PersistentFs> {
  await new Promise<void>((held, refused) => {
    withIdbDiskLock(LOCK, () => {
      held();
      return new Promise<never>(() => {});
    }).catch((e: unknown) => {
      const m = String((e as Error)?.message ?? e);
      refused(new Error(m.includes("in use") ? "the shared folder is in use by another Vireo tab" : `the shared folder: ${m}`));
    });
  });
  return PersistentFs.open(idbFolderStore);
}

/** Replace the stored folder with `files` (a picked folder); not while another tab runs it. */
export function replaceIdbShare(files: MemoryFsEntry[]): Promise<void> {
  return withIdbDiskLock(LOCK, async () => {
    await clear(filesDb());
    for (let i = 0; i < files.length; i += 200) await setMany(files.slice(i, i + 200).map((e) => [e.path, e]), filesDb());
  });
}

export async function readIdbShare(): Promise<MemoryFsEntry[]> {
  return idbFolderStore.load();
}
