// An FsBackend held in memory: the page's shared folder (a picked folder copied in, kept in
// IndexedDB between visits by web/idb-share.ts) and the server's unit tests. A tree of
// inodes; symlinks are stored, never followed, so nothing can point outside it. No Node or DOM
// imports.
//
// The quota counts a file's bytes once per inode and for as long as the inode lives: hard links
// share one inode, and a file unlinked while open keeps its bytes (and keeps counting) until its
// last handle closes — else a guest could hold any amount through open, unlinked files.
import { S_IFDIR, S_IFLNK, S_IFREG, type FsBackend, type FsPath, type FsStat, type FsStatFs, type OpenFlags, type SetAttr } from "./backend.ts";
import { EBADF, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOSPC, ENOTDIR, ENOTEMPTY, EPERM, FsError } from "./errno.ts";

interface Node {
  ino: bigint;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  /** File bytes [0, size) live in data (capacity may be larger). */
  data: Uint8Array;
  size: number;
  children: Map<string, Node> | null;
  target: string;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** Open handles on it: its bytes are freed when both this and nlink are 0. */
  opens: number;
  /** Its id in a dump once it has had two names (0 before): the names refer to one inode entry holding the bytes. */
  inode: number;
}

/** The first name of a dump path that holds inode entries: a NUL is in no guest name, so it is no file. */
export const INODE_DIR = "\0inodes";

/**
 * One file of a flat dump (what IndexedDB keeps): parents before children. A file with more
 * than one name (hard links) keeps its bytes once, in an "inode" entry at [INODE_DIR, id];
 * each of its names is a "file" entry with that `inode` and no data.
 */
export interface MemoryFsEntry {
  path: string[];
  kind: "file" | "dir" | "symlink" | "inode";
  mode: number;
  mtimeMs: number;
  data?: Uint8Array;
  target?: string;
  inode?: number;
}

export interface MemoryFsOptions {
  /** Most file bytes held in total (ENOSPC beyond). Default 512 MiB. */
  quota?: number;
  /** Called after every change (the page saves the tree a little later). */
  onChange?: () => void;
  /** Wall clock in ns (tests pin it). */
  now?: () => bigint;
}

export class MemoryFs implements FsBackend {
  private nextIno = 1n;
  private readonly root: Node;
  private readonly handles = new Map<number, { node: Node; flags: OpenFlags }>();
  private nextHandle = 1;
  private used = 0;
  private nextInode = 1;
  private readonly quota: number;
  private readonly onChange: () => void;
  private readonly now: () => bigint;

  constructor(opts: MemoryFsOptions = {}) {
    this.quota = opts.quota ?? 512 << 20;
    this.onChange = opts.onChange ?? (() => {});
    this.now = opts.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    this.root = this.node(S_IFDIR | 0o755);
    this.root.nlink = 2;
  }

  /** Bytes of file data held. */
  get bytesUsed(): number {
    return this.used;
  }

  private node(mode: number): Node {
    const t = this.now();
    return {
      ino: this.nextIno++, mode, uid: 0, gid: 0, nlink: 1, data: new Uint8Array(0), size: 0,
      children: (mode & 0o170000) === S_IFDIR ? new Map() : null, target: "",
      atimeNs: t, mtimeNs: t, ctimeNs: t, opens: 0, inode: 0,
    };
  }

  /** Walk names from the root through directories only: a symlink on the way is ENOTDIR. */
  private lookup(p: FsPath): Node {
    let n = this.root;
    for (const name of p) {
      if (!n.children) throw new FsError(ENOTDIR);
      const next = n.children.get(name);
      if (!next) throw new FsError(ENOENT);
      n = next;
    }
    return n;
  }

  private dir(p: FsPath): Map<string, Node> {
    const n = this.lookup(p);
    if (!n.children) throw new FsError(ENOTDIR);
    return n.children;
  }

  private touch(n: Node): void {
    n.mtimeNs = n.ctimeNs = this.now();
  }

  private add(dir: FsPath, name: string, child: Node): void {
    const d = this.lookup(dir);
    if (!d.children) throw new FsError(ENOTDIR);
    if (d.children.has(name)) throw new FsError(EEXIST);
    d.children.set(name, child);
    if (child.children) d.nlink++;
    this.touch(d);
    this.onChange();
  }

  stat(p: FsPath): FsStat {
    const n = this.lookup(p);
    const sec = (ns: bigint) => Number(ns / 1_000_000_000n), nsec = (ns: bigint) => Number(ns % 1_000_000_000n);
    const kind = n.children ? "dir" : (n.mode & 0o170000) === S_IFLNK ? "symlink" : "file";
    return {
      kind, mode: n.mode, uid: n.uid, gid: n.gid, nlink: n.nlink, rdev: 0,
      size: n.children ? 4096 : kind === "symlink" ? new TextEncoder().encode(n.target).length : n.size,
      blksize: 4096, blocks: Math.ceil(n.size / 512), ino: n.ino,
      atimeSec: sec(n.atimeNs), atimeNsec: nsec(n.atimeNs), mtimeSec: sec(n.mtimeNs), mtimeNsec: nsec(n.mtimeNs),
      ctimeSec: sec(n.ctimeNs), ctimeNsec: nsec(n.ctimeNs),
    };
  }

  readdir(p: FsPath): string[] {
    return [...this.dir(p).keys()];
  }

  private openNode(n: Node, flags: OpenFlags): number {
    if (n.children) throw new FsError(EISDIR);
    if ((n.mode & 0o170000) === S_IFLNK) throw new FsError(ELOOP);
    if (flags.trunc && flags.access !== 0) this.resize(n, 0);
    const h = this.nextHandle++;
    this.handles.set(h, { node: n, flags });
    n.opens++;
    return h;
  }

  open(p: FsPath, flags: OpenFlags): number {
    return this.openNode(this.lookup(p), flags);
  }

  create(dir: FsPath, name: string, flags: OpenFlags, mode: number, exclusive: boolean): number {
    const existing = this.dir(dir).get(name);
    if (existing) {
      if (exclusive) throw new FsError(EEXIST);
      return this.openNode(existing, flags);
    }
    const n = this.node(S_IFREG | (mode & 0o7777));
    this.add(dir, name, n);
    return this.openNode(n, flags);
  }

  private handle(h: number): { node: Node; flags: OpenFlags } {
    const o = this.handles.get(h);
    if (!o) throw new FsError(EBADF);
    return o;
  }

  read(h: number, offset: number, length: number): Uint8Array {
    const { node } = this.handle(h);
    if (offset >= node.size) return new Uint8Array(0);
    return node.data.subarray(offset, Math.min(node.size, offset + length));
  }

  write(h: number, offset: number, data: Uint8Array): number {
    const { node, flags } = this.handle(h);
    const at = flags.append ? node.size : offset;
    const end = at + data.length;
    if (end > node.size) this.resize(node, end);
    node.data.set(data, at);
    this.touch(node);
    this.onChange();
    return data.length;
  }

  /** Grow or shrink a file's bytes, within the quota; new bytes read as zeros. */
  private resize(n: Node, size: number): void {
    if (!Number.isSafeInteger(size) || size < 0) throw new FsError(EINVAL);
    if (this.used - n.size + size > this.quota) throw new FsError(ENOSPC);
    if (size > n.data.length) {
      const next = new Uint8Array(Math.max(size, Math.min(n.data.length * 2, size + (16 << 20))));
      next.set(n.data.subarray(0, n.size));
      n.data = next;
    } else if (size < n.size) {
      n.data.fill(0, size, n.size);
    }
    this.used += size - n.size;
    n.size = size;
  }

  close(h: number): void {
    const { node } = this.handle(h);
    this.handles.delete(h);
    node.opens--;
    this.release(node);
  }

  /** Free a file's bytes once no name and no handle holds it any more. */
  private release(n: Node): void {
    if (n.nlink > 0 || n.opens > 0 || n.children || n.size === 0) return;
    this.used -= n.size;
    n.size = 0;
    n.data = new Uint8Array(0);
  }

  fsync(h: number): void {
    this.handle(h);
  }

  mkdir(dir: FsPath, name: string, mode: number): void {
    const n = this.node(S_IFDIR | (mode & 0o7777));
    n.nlink = 2;
    this.add(dir, name, n);
  }

  symlink(dir: FsPath, name: string, target: string): void {
    const n = this.node(S_IFLNK | 0o777);
    n.children = null;
    n.target = target;
    this.add(dir, name, n);
  }

  readlink(p: FsPath): string {
    const n = this.lookup(p);
    if ((n.mode & 0o170000) !== S_IFLNK) throw new FsError(EINVAL);
    return n.target;
  }

  link(dir: FsPath, name: string, target: FsPath): void {
    const n = this.lookup(target);
    if (n.children) throw new FsError(EPERM);
    this.add(dir, name, n);
    n.nlink++;
    if (n.inode === 0) n.inode = this.nextInode++;
  }

  unlink(dir: FsPath, name: string, isDir: boolean): void {
    const d = this.lookup(dir);
    if (!d.children) throw new FsError(ENOTDIR);
    const n = d.children.get(name);
    if (!n) throw new FsError(ENOENT);
    if (isDir) {
      if (!n.children) throw new FsError(ENOTDIR);
      if (n.children.size > 0) throw new FsError(ENOTEMPTY);
      d.nlink--;
    } else if (n.children) {
      throw new FsError(EISDIR);
    }
    d.children.delete(name);
    n.nlink--;
    this.release(n);
    this.touch(d);
    this.onChange();
  }

  rename(oldDir: FsPath, oldName: string, newDir: FsPath, newName: string): void {
    const from = this.lookup(oldDir), to = this.lookup(newDir);
    if (!from.children || !to.children) throw new FsError(ENOTDIR);
    const n = from.children.get(oldName);
    if (!n) throw new FsError(ENOENT);
    // rename(2): moving a directory below itself is EINVAL.
    for (let i = 0; n.children && i <= newDir.length; i++) {
      if (this.lookup(newDir.slice(0, i)) === n) throw new FsError(EINVAL);
    }
    const old = to.children.get(newName);
    if (old === n) return;
    if (old) {
      if (old.children && !n.children) throw new FsError(EISDIR);
      if (!old.children && n.children) throw new FsError(ENOTDIR);
      if (old.children && old.children.size > 0) throw new FsError(ENOTEMPTY);
      if (old.children) to.nlink--;
      old.nlink--;
      this.release(old);
    }
    from.children.delete(oldName);
    to.children.set(newName, n);
    if (n.children) { from.nlink--; to.nlink++; }
    this.touch(from);
    this.touch(to);
    n.ctimeNs = this.now();
    this.onChange();
  }

  setattr(p: FsPath, a: SetAttr): void {
    const n = this.lookup(p);
    if (a.size !== undefined) {
      if (n.children) throw new FsError(EISDIR);
      if ((n.mode & 0o170000) === S_IFLNK) throw new FsError(EINVAL);
      this.resize(n, a.size);
      this.touch(n);
    }
    if (a.mode !== undefined) n.mode = (n.mode & 0o170000) | (a.mode & 0o7777);
    if (a.uid !== undefined) n.uid = a.uid;
    if (a.gid !== undefined) n.gid = a.gid;
    const t = (v: "now" | { sec: number; nsec: number }) => v === "now" ? this.now() : BigInt(v.sec) * 1_000_000_000n + BigInt(v.nsec % 1_000_000_000);
    if (a.atime) n.atimeNs = t(a.atime);
    if (a.mtime) n.mtimeNs = t(a.mtime);
    n.ctimeNs = this.now();
    this.onChange();
  }

  statfs(): FsStatFs {
    const bsize = 4096;
    const blocks = Math.ceil(this.quota / bsize);
    const free = Math.max(0, blocks - Math.ceil(this.used / bsize));
    return { bsize, blocks, bfree: free, bavail: free, files: 1 << 20, ffree: (1 << 20) - Number(this.nextIno), namelen: 255 };
  }

  /**
   * What a persistent store keeps for `p`: the inode entry holding its bytes (a file that has
   * had other names), then its own entry. File data are copies.
   */
  entries(p: FsPath): MemoryFsEntry[] {
    return this.entriesOf(this.lookup(p), [...p]);
  }

  /** The inode entry's path that goes when `p`, the last name of its file, is removed (else null). */
  lastNameOf(p: FsPath): string[] | null {
    const n = this.lookup(p);
    return n.inode !== 0 && n.nlink === 1 ? [INODE_DIR, String(n.inode)] : null;
  }

  /** The inode entry of the file open as `h`, if it is a hard-linked file that still has a name (else null). */
  inodeEntry(h: number): MemoryFsEntry | null {
    const n = this.handle(h).node;
    if (n.inode === 0 || n.nlink === 0) return null;
    return this.entriesOf(n, [])[0]!;
  }

  private entriesOf(n: Node, path: string[]): MemoryFsEntry[] {
    const mtimeMs = Number(n.mtimeNs / 1_000_000n);
    const mode = n.mode & 0o7777;
    if (n.children) return [{ path, kind: "dir", mode, mtimeMs }];
    if ((n.mode & 0o170000) === S_IFLNK) return [{ path, kind: "symlink", mode: 0o777, mtimeMs, target: n.target }];
    const data = n.data.slice(0, n.size);
    if (n.inode === 0) return [{ path, kind: "file", mode, mtimeMs, data }];
    return [{ path: [INODE_DIR, String(n.inode)], kind: "inode", mode, mtimeMs, data }, { path, kind: "file", mode, mtimeMs, inode: n.inode }];
  }

  /** The whole tree, parents first, each inode entry once. */
  dump(): MemoryFsEntry[] {
    const out: MemoryFsEntry[] = [];
    const inodes = new Set<number>();
    const walk = (n: Node, path: string[]) => {
      for (const [name, c] of n.children!) {
        for (const e of this.entriesOf(c, [...path, name])) {
          if (e.kind === "inode") {
            if (inodes.has(c.inode)) continue;
            inodes.add(c.inode);
          }
          out.push(e);
        }
        if (c.children) walk(c, [...path, name]);
      }
    };
    walk(this.root, []);
    return out;
  }

  /** Add entries from a dump or a picked folder (parents first; missing parents are made). */
  load(entries: readonly MemoryFsEntry[]): void {
    // Inode entries first: the names of a hard-linked file all become one node.
    const inodes = new Map<number, MemoryFsEntry>();
    for (const e of entries) {
      const id = Number(e.path[1]);
      if (e.kind === "inode" && e.path.length === 2 && e.path[0] === INODE_DIR && Number.isSafeInteger(id) && id > 0) inodes.set(id, e);
    }
    const linked = new Map<number, Node>();
    for (const e of entries) {
      if (e.path.length === 0 || e.path.some((c) => c === "" || c === "." || c === ".." || c.includes("/") || c.includes("\0"))) continue;
      if (e.kind !== "file" && e.kind !== "dir" && e.kind !== "symlink") continue;
      let dir: Node = this.root;
      for (const c of e.path.slice(0, -1)) {
        let next = dir.children!.get(c);
        if (!next) {
          next = this.node(S_IFDIR | 0o755);
          next.nlink = 2;
          dir.children!.set(c, next);
          dir.nlink++;
        }
        if (!next.children) break;
        dir = next;
      }
      const name = e.path[e.path.length - 1]!;
      if (!dir.children || dir.children.has(name)) continue;
      const again = e.inode !== undefined ? linked.get(e.inode) : undefined;
      if (again) {
        again.nlink++;
        dir.children.set(name, again);
        continue;
      }
      const stored = e.inode !== undefined ? inodes.get(e.inode) : e;
      if (!stored) continue; // a name whose bytes were never stored
      const n = this.node(e.kind === "dir" ? S_IFDIR | (e.mode & 0o7777) : e.kind === "symlink" ? S_IFLNK | 0o777 : S_IFREG | (stored.mode & 0o7777));
      if (e.kind === "symlink") { n.children = null; n.target = e.target ?? ""; }
      if (e.kind === "dir") { n.nlink = 2; dir.nlink++; }
      if (e.kind === "file" && stored.data) {
        if (this.used + stored.data.length > this.quota) continue;
        n.data = stored.data.slice();
        n.size = stored.data.length;
        this.used += n.size;
      }
      if (e.inode !== undefined) {
        n.inode = e.inode;
        linked.set(e.inode, n);
        this.nextInode = Math.max(this.nextInode, e.inode + 1);
      }
      n.mtimeNs = n.atimeNs = BigInt(Math.trunc(stored.mtimeMs)) * 1_000_000n;
      dir.children.set(name, n);
    }
  }
}

/** Entries as plain files (a folder on disk has no hard links): inode entries dropped, each name with its bytes. */
export function withoutLinks(entries: readonly MemoryFsEntry[]): MemoryFsEntry[] {
  const bytes = new Map<number, Uint8Array | undefined>();
  for (const e of entries) if (e.kind === "inode") bytes.set(Number(e.path[1]), e.data);
  return entries.filter((e) => e.kind !== "inode").map((e) => (e.inode !== undefined ? { ...e, data: bytes.get(e.inode) } : e));
}
