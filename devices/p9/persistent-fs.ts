// A MemoryFs whose changes are written through to a persistent store of dump entries, so a
// shared folder outlives the page (web/idb-share.ts keeps the store in IndexedDB). The guest's
// view is the in-memory tree; the store follows it:
// - names, directories, symlinks, attributes, renames and removals are stored before the reply;
// - file contents are stored when the guest closes or fsyncs the file (close-to-open, as NFS and
//   9p with caching promise), so a 16 MiB write is one store write, not one per Twrite.
// A hard-linked file's bytes are stored once, in an inode entry its names refer to (memory-fs.ts),
// and removed with its last name. No Node or DOM imports.
import type { FsBackend, FsPath, FsStat, FsStatFs, Maybe, OpenFlags, SetAttr } from "./backend.ts";
import { MemoryFs, type MemoryFsEntry, type MemoryFsOptions } from "./memory-fs.ts";

/** Where the entries live; every method may be asynchronous (IndexedDB). */
export interface FolderStore {
  /** Every entry, any order. */
  load(): Promise<MemoryFsEntry[]>;
  put(e: MemoryFsEntry): Promise<void>;
  /** Remove `path` and everything below it. */
  remove(path: FsPath): Promise<void>;
  /** Move `from` and everything below it to `to` (replacing what was at `to`). */
  move(from: FsPath, to: FsPath): Promise<void>;
}

export class PersistentFs implements FsBackend {
  readonly mem: MemoryFs;
  private readonly paths = new Map<number, string[]>();
  private readonly dirty = new Set<number>();

  private constructor(private readonly store: FolderStore, opts: MemoryFsOptions) {
    this.mem = new MemoryFs(opts);
  }

  /** The folder as the store has it. */
  static async open(store: FolderStore, opts: MemoryFsOptions = {}): Promise<PersistentFs> {
    const fs = new PersistentFs(store, opts);
    const entries = await store.load();
    entries.sort((a, b) => a.path.length - b.path.length);
    fs.mem.load(entries);
    return fs;
  }

  /** Store `p` (and the bytes of its inode, unless `namesOnly`), the inode entry before the name that refers to it. */
  private async save(p: FsPath, namesOnly = false): Promise<void> {
    for (const e of this.mem.entries(p)) if (!(namesOnly && e.kind === "inode")) await this.store.put(e);
  }

  // Reads and plain opens touch only memory: they answer synchronously.
  stat(p: FsPath): FsStat { return this.mem.stat(p); }
  readdir(p: FsPath): string[] { return this.mem.readdir(p); }
  readlink(p: FsPath): string { return this.mem.readlink(p); }
  read(h: number, offset: number, length: number): Uint8Array { return this.mem.read(h, offset, length); }
  statfs(): FsStatFs { return this.mem.statfs(); }

  open(p: FsPath, flags: OpenFlags): Maybe<number> {
    const h = this.mem.open(p, flags);
    this.paths.set(h, [...p]);
    if (flags.trunc && flags.access !== 0) return this.save(p).then(() => h);
    return h;
  }

  async create(dir: FsPath, name: string, flags: OpenFlags, mode: number, exclusive: boolean): Promise<number> {
    const h = await this.mem.create(dir, name, flags, mode, exclusive);
    const p = [...dir, name];
    this.paths.set(h, p);
    await this.save(p);
    return h;
  }

  write(h: number, offset: number, data: Uint8Array): number {
    const n = this.mem.write(h, offset, data);
    this.dirty.add(h);
    return n;
  }

  private async flush(h: number): Promise<void> {
    if (!this.dirty.delete(h)) return;
    // A hard-linked file's bytes are its inode entry, whichever of its names this handle was opened by (gone or not).
    const inode = this.mem.inodeEntry(h);
    if (inode) return this.store.put(inode);
    const p = this.paths.get(h);
    if (p) await this.save(p).catch(() => {}); // gone meanwhile (unlinked while open): nothing to keep
  }

  close(h: number): Maybe<void> {
    if (this.dirty.has(h)) return this.flush(h).then(() => this.close(h));
    this.paths.delete(h);
    this.mem.close(h);
  }

  async fsync(h: number): Promise<void> {
    await this.mem.fsync(h);
    await this.flush(h);
  }

  /** Store what open files hold and close them all (the server that opened them is gone: a reset). */
  async closeAll(): Promise<void> {
    for (const h of [...this.paths.keys()]) await this.close(h);
  }

  async mkdir(dir: FsPath, name: string, mode: number): Promise<void> {
    await this.mem.mkdir(dir, name, mode);
    await this.save([...dir, name]);
  }

  async symlink(dir: FsPath, name: string, target: string): Promise<void> {
    await this.mem.symlink(dir, name, target);
    await this.save([...dir, name]);
  }

  async link(dir: FsPath, name: string, target: FsPath): Promise<void> {
    const first = this.mem.stat(target).nlink === 1;
    await this.mem.link(dir, name, target);
    // The first link turns the stored file into an inode entry and a name referring to it.
    if (first) await this.save(target);
    await this.save([...dir, name], true);
  }

  async unlink(dir: FsPath, name: string, isDir: boolean): Promise<void> {
    const p = [...dir, name];
    const inode = this.lastName(p);
    await this.mem.unlink(dir, name, isDir);
    for (const [h, hp] of this.paths) if (samePrefix(hp, p)) this.paths.delete(h);
    await this.store.remove(p);
    if (inode) await this.store.remove(inode);
  }

  async rename(oldDir: FsPath, oldName: string, newDir: FsPath, newName: string): Promise<void> {
    const from = [...oldDir, oldName], to = [...newDir, newName];
    const replaced = this.lastName(to);
    // rename(2) of a name onto another name of the same file changes nothing: nor may the store.
    if (this.sameFile(from, to)) return;
    await this.mem.rename(oldDir, oldName, newDir, newName);
    for (const [h, hp] of this.paths) if (samePrefix(hp, from)) this.paths.set(h, [...to, ...hp.slice(from.length)]);
    await this.store.move(from, to);
    if (replaced && this.lastName(to)?.join() !== replaced.join()) await this.store.remove(replaced);
  }

  private sameFile(a: FsPath, b: FsPath): boolean {
    try {
      return this.mem.stat(a).ino === this.mem.stat(b).ino;
    } catch {
      return false;
    }
  }

  /** The inode entry that goes with `p` if `p` is the last name of a hard-linked file (null if none, or no `p`). */
  private lastName(p: FsPath): string[] | null {
    try {
      return this.mem.lastNameOf(p);
    } catch {
      return null;
    }
  }

  async setattr(p: FsPath, a: SetAttr): Promise<void> {
    await this.mem.setattr(p, a);
    await this.save(p);
  }
}

/** True when `path` is `prefix` or below it. */
function samePrefix(path: readonly string[], prefix: readonly string[]): boolean {
  return path.length >= prefix.length && prefix.every((c, i) => path[i] === c);
}

/** A FolderStore in a Map (tests; a folder that lives for one power-on). */
export class MapFolderStore implements FolderStore {
  readonly map = new Map<string, MemoryFsEntry>();
  private key = (p: FsPath) => JSON.stringify(p);
  async load(): Promise<MemoryFsEntry[]> { return [...this.map.values()].map((e) => ({ ...e, data: e.data?.slice() })); }
  async put(e: MemoryFsEntry): Promise<void> { this.map.set(this.key(e.path), { ...e, data: e.data?.slice() }); }
  async remove(path: FsPath): Promise<void> {
    for (const [k, e] of this.map) if (samePrefix(e.path, path)) this.map.delete(k);
  }
  async move(from: FsPath, to: FsPath): Promise<void> {
    await this.remove(to);
    for (const [k, e] of [...this.map]) {
      if (!samePrefix(e.path, from)) continue;
      this.map.delete(k);
      const path = [...to, ...e.path.slice(from.length)];
      this.map.set(this.key(path), { ...e, path });
    }
  }
}
