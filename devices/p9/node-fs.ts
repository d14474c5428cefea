// FsBackend over a host directory (Node only: the CLI's worker). The guest is hostile, so
// nothing it names may reach outside the export root:
// - names are single components (the server rejects "", ".", "..", "/" and NUL; checked again here);
// - every operation resolves the *parent* directory with realpath(3) and refuses it unless it
//   is the root or below it, so a symlink the guest planted (or a directory renamed under an
//   open fid and replaced by one) cannot carry a path outside;
// - the final component is never followed: lstat, open with O_NOFOLLOW, lchown, lutimes,
//   readlink, and a truncate through an O_NOFOLLOW descriptor.
// Requests reach a backend one at a time (server.ts), and the calls are synchronous inside
// async functions, so the guest cannot interleave a swap between the check and the use; only a
// concurrent change on the host itself could.
import * as fs from "node:fs";
import { sep } from "node:path";
import { kindOfMode, type FsBackend, type FsPath, type FsStat, type FsStatFs, type OpenFlags, type SetAttr } from "./backend.ts";
import { EACCES, EBADF, EINVAL, EISDIR, EOPNOTSUPP, FsError } from "./errno.ts";

const C = fs.constants;

export class NodeFsBackend implements FsBackend {
  /** The export root, resolved (realpath). */
  readonly root: string;
  private readonly fds = new Map<number, { fd: number; append: boolean }>();
  private nextHandle = 1;
  private scratch = new Uint8Array(64 * 1024);

  constructor(dir: string) {
    this.root = fs.realpathSync.native(dir);
    if (!fs.statSync(this.root).isDirectory()) throw new Error(`9p: '${dir}' is not a directory`);
  }

  /** The host path of directory `dir`, resolved and confined to the root. */
  private dirPath(dir: FsPath): string {
    for (const c of dir) checkName(c);
    if (dir.length === 0) return this.root;
    const real = fs.realpathSync.native(this.root + sep + dir.join(sep));
    if (real !== this.root && !real.startsWith(this.root + sep)) throw new FsError(EACCES, "outside the export root");
    return real;
  }

  /** The host path of `p`: its parent resolved and confined, its own name not followed. */
  private path(p: FsPath): string {
    if (p.length === 0) return this.root;
    const name = p[p.length - 1]!;
    checkName(name);
    return this.dirPath(p.slice(0, -1)) + sep + name;
  }

  private child(dir: FsPath, name: string): string {
    checkName(name);
    return this.dirPath(dir) + sep + name;
  }

  stat(p: FsPath): FsStat {
    return toStat(fs.lstatSync(this.path(p), { bigint: true }));
  }

  readdir(p: FsPath): string[] {
    return fs.readdirSync(this.dirPath(p));
  }

  private openPath(path: string, flags: number, mode: number, append: boolean): number {
    // O_NONBLOCK: a FIFO swapped in on the host must not hang the VM; O_NOFOLLOW: never a symlink.
    // open(2) with O_NOFOLLOW on a symlink fails ELOOP, which reaches the guest as is.
    const fd = fs.openSync(path, flags | C.O_NOFOLLOW | C.O_NONBLOCK, mode);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      fs.closeSync(fd);
      throw new FsError(st.isDirectory() ? EISDIR : EOPNOTSUPP);
    }
    const h = this.nextHandle++;
    this.fds.set(h, { fd, append });
    return h;
  }

  open(p: FsPath, f: OpenFlags): number {
    return this.openPath(this.path(p), accessFlags(f), 0, f.append);
  }

  create(dir: FsPath, name: string, f: OpenFlags, mode: number, exclusive: boolean): number {
    return this.openPath(this.child(dir, name), accessFlags(f) | C.O_CREAT | (exclusive ? C.O_EXCL : 0), mode & 0o7777, f.append);
  }

  private fd(h: number): { fd: number; append: boolean } {
    const o = this.fds.get(h);
    if (!o) throw new FsError(EBADF);
    return o;
  }

  read(h: number, offset: number, length: number): Uint8Array {
    const { fd } = this.fd(h);
    if (length > this.scratch.length) this.scratch = new Uint8Array(length);
    const n = fs.readSync(fd, this.scratch, 0, length, offset);
    return this.scratch.subarray(0, n);
  }

  write(h: number, offset: number, data: Uint8Array): number {
    const { fd, append } = this.fd(h);
    const at = append ? fs.fstatSync(fd).size : offset;
    let done = 0;
    while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, at + done);
    return done;
  }

  close(h: number): void {
    const { fd } = this.fd(h);
    this.fds.delete(h);
    fs.closeSync(fd);
  }

  fsync(h: number): void {
    fs.fsyncSync(this.fd(h).fd);
  }

  mkdir(dir: FsPath, name: string, mode: number): void {
    fs.mkdirSync(this.child(dir, name), { mode: mode & 0o7777 });
  }

  symlink(dir: FsPath, name: string, target: string): void {
    // Stored as text; the host never follows it on the guest's behalf (see the top comment).
    fs.symlinkSync(target, this.child(dir, name));
  }

  readlink(p: FsPath): string {
    return fs.readlinkSync(this.path(p), "utf8");
  }

  link(dir: FsPath, name: string, target: FsPath): void {
    // link(2) does not follow a symlink given as the existing name.
    fs.linkSync(this.path(target), this.child(dir, name));
  }

  unlink(dir: FsPath, name: string, isDir: boolean): void {
    const path = this.child(dir, name);
    if (isDir) fs.rmdirSync(path);
    else fs.unlinkSync(path);
  }

  rename(oldDir: FsPath, oldName: string, newDir: FsPath, newName: string): void {
    fs.renameSync(this.child(oldDir, oldName), this.child(newDir, newName));
  }

  setattr(p: FsPath, a: SetAttr): void {
    const path = this.path(p);
    const link = fs.lstatSync(path).isSymbolicLink();
    if (a.size !== undefined) {
      if (link) throw new FsError(EINVAL);
      const fd = fs.openSync(path, C.O_WRONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
      try {
        fs.ftruncateSync(fd, a.size);
      } finally {
        fs.closeSync(fd);
      }
    }
    if (a.mode !== undefined) {
      // chmod(2) follows symlinks and Linux has no lchmod: a symlink's mode means nothing anyway.
      if (link) throw new FsError(EOPNOTSUPP);
      fs.chmodSync(path, a.mode & 0o7777);
    }
    if (a.uid !== undefined || a.gid !== undefined) {
      const st = fs.lstatSync(path);
      const uid = a.uid ?? st.uid, gid = a.gid ?? st.gid;
      // An unprivileged host user cannot give files away; a no-op chown is fine either way.
      if (uid !== st.uid || gid !== st.gid) fs.lchownSync(path, uid, gid);
    }
    if (a.atime || a.mtime) {
      const st = fs.lstatSync(path);
      const now = Date.now() / 1000;
      const t = (v: SetAttr["atime"], old: number) => v === undefined ? old : v === "now" ? now : v.sec + v.nsec / 1e9;
      fs.lutimesSync(path, t(a.atime, st.atimeMs / 1000), t(a.mtime, st.mtimeMs / 1000));
    }
  }

  statfs(): FsStatFs {
    const s = fs.statfsSync(this.root);
    return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, namelen: 255 };
  }

  /** Close every open descriptor (VM exit). */
  closeAll(): void {
    for (const { fd } of this.fds.values()) {
      try { fs.closeSync(fd); } catch { /* already gone */ }
    }
    this.fds.clear();
  }
}

function checkName(name: string): void {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) throw new FsError(EINVAL, `bad name '${name}'`);
}

function accessFlags(f: OpenFlags): number {
  const acc = f.access === 0 ? C.O_RDONLY : f.access === 1 ? C.O_WRONLY : C.O_RDWR;
  return acc | (f.trunc && f.access !== 0 ? C.O_TRUNC : 0);
}

function toStat(s: fs.BigIntStats): FsStat {
  const split = (ns: bigint) => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)] as const;
  const [as, an] = split(s.atimeNs), [ms, mn] = split(s.mtimeNs), [cs, cn] = split(s.ctimeNs);
  const mode = Number(s.mode);
  return {
    kind: kindOfMode(mode), mode, uid: Number(s.uid), gid: Number(s.gid), nlink: Number(s.nlink), rdev: Number(s.rdev),
    size: Number(s.size), blksize: Number(s.blksize), blocks: Number(s.blocks), ino: s.ino,
    atimeSec: as, atimeNsec: an, mtimeSec: ms, mtimeNsec: mn, ctimeSec: cs, ctimeNsec: cn,
  };
}
