// FsBackend over a host directory (Node on Linux: the CLI's worker). The guest is hostile, and
// other host processes may change the directory while the guest uses it, so no path is ever
// checked as a string and then handed to the kernel again (the window in which a directory
// swapped for a symlink carries a call outside the export):
// - the export root is held open from the start (an O_PATH descriptor);
// - a directory is reached from the root one component at a time, each opened relative to the
//   descriptor of the one before with O_PATH|O_DIRECTORY|O_NOFOLLOW: a symlink on the way fails
//   (ENOTDIR), it is never followed;
// - the call that acts names only "<held directory>/<final name>" and never follows that name
//   (lstat, open with O_NOFOLLOW, mkdir, symlink, link, rename, unlink, readlink, lchown,
//   lutimes); chmod and truncate act on an O_PATH|O_NOFOLLOW descriptor of the file itself.
// Node's fs has no openat(2): "/proc/self/fd/N/name" is the same thing — the kernel starts the
// lookup at the file N holds, not at a path it resolves again — so what a descriptor was opened
// on is what the call reaches, whatever was renamed or swapped since.
import * as fs from "node:fs";
import { kindOfMode, type FsBackend, type FsPath, type FsStat, type FsStatFs, type OpenFlags, type SetAttr } from "./backend.ts";
import { EBADF, EINVAL, EISDIR, EOPNOTSUPP, EPERM, FsError } from "./errno.ts";

const C = fs.constants;
/** Linux O_PATH (asm-generic/fcntl.h; the same on x86 and arm): a descriptor that only names a file. Node does not export it. */
const O_PATH = 0o10000000;
const DIR_FLAGS = O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW;
/** The file a descriptor holds, as a path the kernel resolves to that file and nothing else. */
const fdPath = (fd: number) => `/proc/self/fd/${fd}`;

/**
 * How guest modes and owners reach host files; the names are QEMU's 9p `security_model`.
 * - `none` (default): files belong to the user running the VM. The guest's chmod sets the
 *   permission bits and the sticky bit but never setuid/setgid, on create and mkdir too;
 *   its chown is accepted and changes no host owner (QEMU's `none` passes the mode whole and
 *   ignores a failing chown: the mode bits are cut here so that a guest can never plant a
 *   setuid program on the host, whoever runs the VM).
 * - `passthrough`: modes, setuid/setgid included, and Tsetattr owners go to the host as the
 *   guest gives them (QEMU runs as root for it; so would the VM). New files still belong to
 *   the user running the VM.
 */
export { SECURITY_MODELS, type SecurityModel } from "./security-model.ts";
import { SECURITY_MODELS, type SecurityModel } from "./security-model.ts";

export interface NodeFsOptions {
  securityModel?: SecurityModel;
}

export class NodeFsBackend implements FsBackend {
  /** The export root as given a path at start (for messages; never used to reach files). */
  readonly root: string;
  readonly securityModel: SecurityModel;
  /** The export root, held for the backend's life: every walk starts here. */
  private readonly rootFd: number;
  /** Mode bits the guest may set on the host. */
  private readonly modeMask: number;
  private readonly fds = new Map<number, { fd: number; append: boolean }>();
  private nextHandle = 1;
  private scratch = new Uint8Array(64 * 1024);

  constructor(dir: string, opts: NodeFsOptions = {}) {
    if (!fs.existsSync("/proc/self/fd")) throw new Error("9p: a shared folder needs Linux's /proc/self/fd");
    this.root = fs.realpathSync.native(dir);
    this.rootFd = fs.openSync(this.root, DIR_FLAGS);
    this.securityModel = opts.securityModel ?? "none";
    if (!(SECURITY_MODELS as readonly string[]).includes(this.securityModel)) throw new Error(`9p: unknown security model '${this.securityModel}'`);
    this.modeMask = this.securityModel === "passthrough" ? 0o7777 : 0o1777;
  }

  /**
   * Run `f` with directory `dir` held open: `at` names it ("/proc/self/fd/N"). The walk opens
   * each component relative to the descriptor before it and never follows a symlink.
   */
  private inDir<T>(dir: FsPath, f: (at: string) => T): T {
    for (const c of dir) checkName(c);
    let fd = this.rootFd;
    try {
      for (const c of dir) {
        const next = fs.openSync(`${fdPath(fd)}/${c}`, DIR_FLAGS);
        if (fd !== this.rootFd) fs.closeSync(fd);
        fd = next;
      }
      return f(fdPath(fd));
    } finally {
      if (fd !== this.rootFd) fs.closeSync(fd);
    }
  }

  /** Run `f` with the parent of `p` held open: `at` names "<parent>/<last name of p>". */
  private inParent<T>(p: FsPath, f: (at: string) => T): T {
    const name = p[p.length - 1]!;
    checkName(name);
    return this.inDir(p.slice(0, -1), (d) => f(`${d}/${name}`));
  }

  /**
   * Run `f` with `p` itself held by an O_PATH|O_NOFOLLOW descriptor (a symlink is held, not
   * followed) and `at` naming it by its held parent; for the root, `at` is the root itself.
   */
  private onFile<T>(p: FsPath, f: (fd: number, st: fs.Stats, at: string, isRoot: boolean) => T): T {
    if (p.length === 0) return f(this.rootFd, fs.fstatSync(this.rootFd), fdPath(this.rootFd), true);
    return this.inParent(p, (at) => {
      const fd = fs.openSync(at, O_PATH | C.O_NOFOLLOW);
      try {
        return f(fd, fs.fstatSync(fd), at, false);
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  stat(p: FsPath): FsStat {
    if (p.length === 0) return toStat(fs.fstatSync(this.rootFd, { bigint: true }));
    return this.inParent(p, (at) => toStat(fs.lstatSync(at, { bigint: true })));
  }

  readdir(p: FsPath): string[] {
    return this.inDir(p, (at) => fs.readdirSync(at));
  }

  private openAt(at: string, flags: number, mode: number, append: boolean): number {
    // O_NONBLOCK: a FIFO swapped in on the host must not hang the VM; O_NOFOLLOW: never a symlink.
    // open(2) with O_NOFOLLOW on a symlink fails ELOOP, which reaches the guest as is.
    const fd = fs.openSync(at, flags | C.O_NOFOLLOW | C.O_NONBLOCK, mode);
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
    if (p.length === 0) throw new FsError(EISDIR);
    return this.inParent(p, (at) => this.openAt(at, accessFlags(f), 0, f.append));
  }

  create(dir: FsPath, name: string, f: OpenFlags, mode: number, exclusive: boolean): number {
    const flags = accessFlags(f) | C.O_CREAT | (exclusive ? C.O_EXCL : 0);
    return this.inParent([...dir, name], (at) => this.openAt(at, flags, mode & this.modeMask, f.append));
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
    this.inParent([...dir, name], (at) => fs.mkdirSync(at, { mode: mode & this.modeMask }));
  }

  symlink(dir: FsPath, name: string, target: string): void {
    // Stored as text; the host never follows it on the guest's behalf (see the top comment).
    this.inParent([...dir, name], (at) => fs.symlinkSync(target, at));
  }

  readlink(p: FsPath): string {
    if (p.length === 0) throw new FsError(EINVAL);
    return this.inParent(p, (at) => fs.readlinkSync(at, "utf8"));
  }

  link(dir: FsPath, name: string, target: FsPath): void {
    if (target.length === 0) throw new FsError(EPERM);
    // link(2) does not follow a symlink given as the existing name; both names hang off held directories.
    this.inParent(target, (from) => this.inParent([...dir, name], (to) => fs.linkSync(from, to)));
  }

  unlink(dir: FsPath, name: string, isDir: boolean): void {
    this.inParent([...dir, name], (at) => (isDir ? fs.rmdirSync(at) : fs.unlinkSync(at)));
  }

  rename(oldDir: FsPath, oldName: string, newDir: FsPath, newName: string): void {
    this.inParent([...oldDir, oldName], (from) => this.inParent([...newDir, newName], (to) => fs.renameSync(from, to)));
  }

  setattr(p: FsPath, a: SetAttr): void {
    this.onFile(p, (fd, st, at, isRoot) => {
      if (a.size !== undefined) {
        if (st.isDirectory()) throw new FsError(EISDIR);
        if (!st.isFile()) throw new FsError(EINVAL);
        // Reopened through the held descriptor: the very file looked at, even if its name was swapped since.
        const w = fs.openSync(fdPath(fd), C.O_WRONLY | C.O_NONBLOCK);
        try {
          fs.ftruncateSync(w, a.size);
        } finally {
          fs.closeSync(w);
        }
      }
      if (a.mode !== undefined) {
        // Linux has no lchmod, and a symlink's mode means nothing anyway.
        if (st.isSymbolicLink()) throw new FsError(EOPNOTSUPP);
        fs.chmodSync(fdPath(fd), a.mode & this.modeMask);
      }
      if ((a.uid !== undefined || a.gid !== undefined) && this.securityModel === "passthrough") {
        const uid = a.uid ?? st.uid, gid = a.gid ?? st.gid;
        // An unprivileged host user cannot give files away; a no-op chown is fine either way.
        // By name in the held parent, never following it (the root: the held directory itself).
        if (uid !== st.uid || gid !== st.gid) (isRoot ? fs.chownSync : fs.lchownSync)(at, uid, gid);
      }
      if (a.atime || a.mtime) {
        const now = Date.now() / 1000;
        const t = (v: SetAttr["atime"], old: number) => v === undefined ? old : v === "now" ? now : v.sec + v.nsec / 1e9;
        const times = [t(a.atime, st.atimeMs / 1000), t(a.mtime, st.mtimeMs / 1000)] as const;
        (isRoot ? fs.utimesSync : fs.lutimesSync)(at, ...times);
      }
    });
  }

  statfs(): FsStatFs {
    const s = fs.statfsSync(fdPath(this.rootFd));
    return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, namelen: 255 };
  }

  /** Close every open file (VM exit, a reset). The root stays held: the backend stays usable. */
  closeAll(): void {
    for (const { fd } of this.fds.values()) {
      try { fs.closeSync(fd); } catch { /* already gone */ }
    }
    this.fds.clear();
  }

  /** Close everything, the root too: the backend is done. */
  dispose(): void {
    this.closeAll();
    try { fs.closeSync(this.rootFd); } catch { /* already gone */ }
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
