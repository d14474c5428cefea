// The host side of a shared folder (docs/ARCHITECTURE.md "Host backends"): a small file-system interface, synchronous or not,
// the 9P server (server.ts) drives, so the same server exports a host directory in Node
// (node-fs.ts) and an in-memory / IndexedDB folder in the page (memory-fs.ts). No Node or DOM
// imports here.
//
// Paths are arrays of names relative to the export root, already checked by the server: no
// empty name, no "." or "..", no "/" or NUL. The backend still owns confinement against what
// the names point at (a symlink a guest created, a directory renamed under an open fid): it
// never follows a symlink and never touches anything outside its root. Every failure is an
// FsError carrying a Linux errno (errno.ts).

export type FsPath = readonly string[];

/**
 * A result now or later. A backend that can answer synchronously (a host directory through
 * Node's *Sync calls, memory) should: the server then answers inside the guest's kick, and the
 * guest's 9p client finds its reply before it would sleep for it.
 */
export type Maybe<T> = T | Promise<T>;

export type FsKind = "file" | "dir" | "symlink" | "other";

/** File type bits of st_mode (Linux stat.h). */
export const S_IFMT = 0o170000, S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000;

export interface FsStat {
  kind: FsKind;
  /** st_mode: type bits and permissions. */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  /** A stable id of the file (the inode number): the qid path. */
  ino: bigint;
  atimeSec: number; atimeNsec: number;
  mtimeSec: number; mtimeNsec: number;
  ctimeSec: number; ctimeNsec: number;
}

export interface OpenFlags {
  /** 0 read, 1 write, 2 read and write (O_ACCMODE). */
  access: 0 | 1 | 2;
  trunc: boolean;
  /** Writes go to the end of the file whatever offset they carry. */
  append: boolean;
}

/** Tsetattr's changes; absent fields stay. Times: "now" or seconds + nanoseconds. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: "now" | { sec: number; nsec: number };
  mtime?: "now" | { sec: number; nsec: number };
}

export interface FsStatFs {
  bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number; namelen: number;
}

export interface FsBackend {
  /** lstat: a symlink is reported as one, never followed. */
  stat(p: FsPath): Maybe<FsStat>;
  /** The names in a directory, without "." and "..". */
  readdir(p: FsPath): Maybe<string[]>;
  /** Open an existing regular file; returns a handle. A symlink fails (ELOOP), a directory EISDIR. */
  open(p: FsPath, flags: OpenFlags): Maybe<number>;
  /** Create and open a new regular file `name` in `dir` (O_CREAT; `exclusive`: O_EXCL). */
  create(dir: FsPath, name: string, flags: OpenFlags, mode: number, exclusive: boolean): Maybe<number>;
  /** Up to `length` bytes at `offset` (fewer at the end of the file). The result may be a scratch view: copy it before the next call. */
  read(h: number, offset: number, length: number): Maybe<Uint8Array>;
  /** Write `data` at `offset` (at the end with append); returns bytes written. `data` may be a view of guest memory: consume it before returning. */
  write(h: number, offset: number, data: Uint8Array): Maybe<number>;
  close(h: number): Maybe<void>;
  fsync(h: number): Maybe<void>;
  mkdir(dir: FsPath, name: string, mode: number): Maybe<void>;
  symlink(dir: FsPath, name: string, target: string): Maybe<void>;
  readlink(p: FsPath): Maybe<string>;
  /** A hard link `dir/name` to the existing file `target`. */
  link(dir: FsPath, name: string, target: FsPath): Maybe<void>;
  /** Remove `dir/name`: a directory (which must be empty) when `isDir`, else anything but a directory. */
  unlink(dir: FsPath, name: string, isDir: boolean): Maybe<void>;
  rename(oldDir: FsPath, oldName: string, newDir: FsPath, newName: string): Maybe<void>;
  /** Change attributes of `p` (never following a final symlink); `h` is an open handle of it, if any. */
  setattr(p: FsPath, a: SetAttr): Maybe<void>;
  statfs(): Maybe<FsStatFs>;
}

export function kindOfMode(mode: number): FsKind {
  switch (mode & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "symlink";
    default: return "other";
  }
}
