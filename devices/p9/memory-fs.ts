// An FsBackend held in memory: the page's shared folder (a picked folder copied in, kept in
// IndexedDB between visits by web/idb-folder.ts) and the server's unit tests. A tree of
// inodes; symlinks are stored, never followed, so nothing can point outside it. No Node or DOM
// imports.
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
}

/** One file of a flat dump (what IndexedDB keeps): parents before children. */
export interface MemoryFsEntry {
  path: string[];
  kind: "file" | "dir" | "symlink";
  mode: number;
  mtimeMs: number;
  data?: Uint8Array;
  target?: string;
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
      atimeNs: t, mtimeNs: t, ctimeNs: t,
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
    this.handle(h);
    this.handles.delete(h);
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
    if (--n.nlink === 0 || n.children) this.used -= n.size; // the bytes stay while a handle holds them; good enough
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
      if (--old.nlink === 0) this.used -= old.size;
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

  /** One file as a dump entry (what a persistent store keeps for it). */
  entry(p: FsPath): MemoryFsEntry {
    const n = this.lookup(p);
    const mtimeMs = Number(n.mtimeNs / 1_000_000n);
    if (n.children) return { path: [...p], kind: "dir", mode: n.mode & 0o7777, mtimeMs };
    if ((n.mode & 0o170000) === S_IFLNK) return { path: [...p], kind: "symlink", mode: 0o777, mtimeMs, target: n.target };
    return { path: [...p], kind: "file", mode: n.mode & 0o7777, mtimeMs, data: n.data.slice(0, n.size) };
  }

  /** The whole tree, parents first (for IndexedDB). File data are copies. */
  dump(): MemoryFsEntry[] {
    const out: MemoryFsEntry[] = [];
    const walk = (n: Node, path: string[]) => {
      for (const [name, c] of n.children!) {
        const p = [...path, name];
        const mtimeMs = Number(c.mtimeNs / 1_000_000n);
        if (c.children) {
          out.push({ path: p, kind: "dir", mode: c.mode & 0o7777, mtimeMs });
          walk(c, p);
        } else if ((c.mode & 0o170000) === S_IFLNK) {
          out.push({ path: p, kind: "symlink", mode: 0o777, mtimeMs, target: c.target });
        } else {
          out.push({ path: p, kind: "file", mode: c.mode & 0o7777, mtimeMs, data: c.data.slice(0, c.size) });
        }
      }
    };
    walk(this.root, []);
    return out;
  }

  /** Add entries from a dump or a picked folder (parents first; missing parents are made). */
  load(entries: readonly MemoryFsEntry[]): void {
    for (const e of entries) {
      if (e.path.length === 0 || e.path.some((c) => c === "" || c === "." || c === ".." || c.includes("/") || c.includes("\0"))) continue;
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
      const n = this.node(e.kind === "dir" ? S_IFDIR | (e.mode & 0o7777) : e.kind === "symlink" ? S_IFLNK | 0o777 : S_IFREG | (e.mode & 0o7777));
      if (e.kind === "symlink") { n.children = null; n.target = e.target ?? ""; }
      if (e.kind === "dir") { n.nlink = 2; dir.nlink++; }
      if (e.kind === "file" && e.data) {
        if (this.used + e.data.length > this.quota) continue;
        n.data = e.data.slice();
        n.size = e.data.length;
        this.used += n.size;
      }
      n.mtimeNs = n.atimeNs = BigInt(Math.trunc(e.mtimeMs)) * 1_000_000n;
      dir.children.set(name, n);
    }
  }
}
