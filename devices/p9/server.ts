// A 9P2000.L file server over an FsBackend (backend.ts): the fid table, qids, and one handler
// per request type. It takes one request's bytes and returns the reply's bytes; the transport
// (devices/virtio/p9.ts) moves them. Requests are served one at a time, in arrival order, so a
// handler never races another over a fid or a path, and Tflush always finds its request done.
//
// Everything from the guest is hostile: a message that does not parse, an unknown fid, a name
// with "/" in it, an operation on the wrong kind of file — each is answered with an Rlerror
// carrying a Linux errno, never an exception out of handle(). Names are checked here; the
// backend keeps every path inside the export root.
//
// Protocol references: Linux include/net/9p/9p.h (types, P9_DOTL_* flags, P9_STATS_*, setattr
// bits), net/9p/client.c (what the guest sends and expects back), fs/9p/vfs_*_dotl.c.
import type { FsBackend, FsPath, FsStat, OpenFlags, SetAttr } from "./backend.ts";
import {
  EBADF, EINVAL, EISDIR, ELOOP, ENAMETOOLONG, ENFILE, ENOTDIR, EOPNOTSUPP, EPERM, EPROTO, EROFS, FsError, EBUSY, errnoOf,
} from "./errno.ts";
import {
  HEADER_BYTES, IOHDRSZ, NOFID, RDATA_HEADER, T, VERSION_9P2000_L, beginReply, decodeRequest, direntBytes, endReply,
  peekHeader, rdata, rempty, rgetattr, rlerror, ropen, rqid, rstatfs, type FieldValue,
} from "./messages.ts";
import { ProtoError, type Qid } from "./wire.ts";
import type { Field, StateTable, Stateful } from "../state/fields.ts";
import { StateError } from "../state/wire.ts";

// qid.type bits (9p.h P9_QT*).
export const QT_DIR = 0x80, QT_SYMLINK = 0x02, QT_FILE = 0x00;
/** Rgetattr valid mask: every field up to st_blocks (9p.h P9_STATS_BASIC). */
export const STATS_BASIC = 0x7ffn;
/** Tsetattr valid bits (9p.h P9_ATTR_*). */
export const ATTR_MODE = 0x1, ATTR_UID = 0x2, ATTR_GID = 0x4, ATTR_SIZE = 0x8, ATTR_ATIME = 0x10, ATTR_MTIME = 0x20,
  ATTR_ATIME_SET = 0x80, ATTR_MTIME_SET = 0x100;
/** Tlopen / Tlcreate flags (9p.h P9_DOTL_*; the Linux generic open flags). */
export const DOTL_ACCMODE = 3, DOTL_EXCL = 0o200, DOTL_TRUNC = 0o1000, DOTL_APPEND = 0o2000;
/** Tunlinkat flag (9p.h P9_DOTL_AT_REMOVEDIR). */
export const AT_REMOVEDIR = 0x200;
/** Rstatfs type: V9FS_MAGIC, what a 9P mount reports as f_type. */
export const V9FS_MAGIC = 0x01021997;
/** Rgetlock "no conflicting lock" (9p.h P9_LOCK_TYPE_UNLCK), Rlock success. */
const LOCK_TYPE_UNLCK = 2, LOCK_SUCCESS = 0;
/** Directory entry types for Rreaddir (Linux DT_*). */
const DT_DIR = 4, DT_REG = 8, DT_LNK = 10, DT_UNKNOWN = 0;
/** Longest name a directory entry may have (NAME_MAX). */
const NAME_MAX = 255;
/** The server's msize ceiling; the guest's Tversion may ask for less. Linux caps virtio at 500 KiB. */
export const DEFAULT_MAX_MSIZE = 512 * 1024;
/** A hostile guest could walk fids forever: at most this many at once. */
export const MAX_FIDS = 65536;

interface DirEntry {
  qid: Qid;
  type: number;
  name: string;
}

interface Fid {
  path: string[];
  /** The backend handle of an open regular file. */
  handle: number | null;
  /** Lopen'd / Lcreate'd (a directory opens with no handle). */
  open: boolean;
  access: 0 | 1 | 2;
  /** Opened with O_APPEND (a snapshot reopens the file so). */
  append: boolean;
  /** Snapshot of a directory's entries, taken at Treaddir offset 0; offsets index it. */
  entries: DirEntry[] | null;
}

export interface P9ServerOptions {
  /** Largest msize Rversion agrees to. Default 512 KiB. */
  maxMsize?: number;
  /** Refuse every change (EROFS). */
  readonly?: boolean;
  log?: (message: string) => void;
}

export interface P9Counters {
  requests: number;
  errors: number;
  protoErrors: number;
  bytesRead: number;
  bytesWritten: number;
}

export function qidOf(st: FsStat): Qid {
  const type = st.kind === "dir" ? QT_DIR : st.kind === "symlink" ? QT_SYMLINK : QT_FILE;
  // version: changes when the file does (the mtime), so a caching client notices.
  return { type, version: (st.mtimeSec ^ st.mtimeNsec ^ st.size) >>> 0, path: st.ino };
}

/** A name the guest may use as one path component: not empty, ".", "..", nor with "/" or NUL. */
function checkName(name: string): void {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) throw new FsError(EINVAL, `bad name '${name}'`);
  if (new TextEncoder().encode(name).length > NAME_MAX) throw new FsError(ENAMETOOLONG);
}

const QID_RECORD: Field = { record: { type: "u8", version: "u32", path: "u64" } };
const FID_RECORD: Field = {
  record: {
    fid: "u32", path: { list: { str: NAME_MAX * 4 }, max: 4096 }, open: "bool", access: "u8", append: "bool", hasHandle: "bool",
    entries: { nullable: { list: { record: { qid: QID_RECORD, type: "u8", name: { str: NAME_MAX * 4 } } }, max: 1 << 20 } },
  },
};
interface FidRecord {
  fid: number;
  path: string[];
  open: boolean;
  access: number;
  append: boolean;
  hasHandle: boolean;
  entries: DirEntry[] | null;
}

export class P9Server implements Stateful {
  /** Negotiated by Tversion; 0 before it. */
  msize = 0;
  readonly counters: P9Counters = { requests: 0, errors: 0, protoErrors: 0, bytesRead: 0, bytesWritten: 0 };
  private readonly fids = new Map<number, Fid>();
  private readonly maxMsize: number;
  private readonly readonly: boolean;
  private readonly log: (message: string) => void;

  constructor(private readonly fs: FsBackend, opts: P9ServerOptions = {}) {
    this.maxMsize = opts.maxMsize ?? DEFAULT_MAX_MSIZE;
    this.readonly = opts.readonly ?? false;
    const log = opts.log ?? (() => {});
    // A hostile guest can send malformed messages forever: say so a few times, not every time.
    let left = 20;
    this.log = (m) => {
      if (left > 0) log(--left === 0 ? `${m} (further 9p messages of this kind not logged)` : m);
    };
  }

  /**
   * Snapshot fields (devices/state/): msize and the fid table. An open file's host handle is not
   * state: a load opens the file again by its path (as it was opened: access, O_APPEND, never
   * O_TRUNC); a file that is gone by then leaves its fid closed, and the guest's next use of it
   * fails with EBADF, as after a server restart.
   */
  readonly stateTable: StateTable = { msize: "u32", fidTable: { list: FID_RECORD, max: MAX_FIDS } };

  get fidTable(): FidRecord[] {
    return [...this.fids].map(([fid, f]) => ({
      fid, path: [...f.path], open: f.open, access: f.access, append: f.append, hasHandle: f.handle !== null, entries: f.entries,
    }));
  }

  set fidTable(v: FidRecord[]) {
    for (const f of this.fids.values()) if (f.handle !== null) void this.fs.close(f.handle);
    this.fids.clear();
    for (const r of v) {
      for (const name of r.path) checkName(name);
      if (r.access > 2) throw new StateError(`9p: fid ${r.fid} access ${r.access}`);
      let handle: number | null = null;
      let open = r.open;
      if (r.hasHandle) {
        try {
          const h = this.fs.open(r.path, { access: r.access as 0 | 1 | 2, trunc: false, append: r.append });
          if (h instanceof Promise) throw new StateError("9p: this folder's backend opens files asynchronously; a snapshot cannot reopen them");
          handle = h;
        } catch (e) {
          if (e instanceof StateError) throw e;
          this.log(`9p: fid ${r.fid} (${r.path.join("/")}) could not be reopened after a restore: ${(e as Error)?.message ?? e}`);
          open = false;
        }
      }
      this.fids.set(r.fid, { path: r.path, handle, open, access: r.access as 0 | 1 | 2, append: r.append, entries: r.entries });
    }
  }

  get fidCount(): number {
    return this.fids.size;
  }

  /**
   * Serve one request. `room` is the most bytes the reply may take (the guest's writable buffer);
   * data replies are cut to fit it and msize. Never throws: every failure is an Rlerror.
   * The reply comes synchronously when the backend answered synchronously (the Node backend,
   * the in-memory one), else as a Promise — so the device can complete the chain inside the
   * guest's kick and the guest never has to sleep for it.
   */
  handle(msg: Uint8Array, room: number = Infinity): Uint8Array | Promise<Uint8Array> {
    return drive(this.serve(msg, room));
  }

  private *serve(msg: Uint8Array, room: number): Gen<Uint8Array> {
    this.counters.requests++;
    const head = peekHeader(msg);
    const tag = head?.tag ?? 0xffff;
    let req;
    try {
      req = decodeRequest(msg);
    } catch (e) {
      this.counters.protoErrors++;
      this.counters.errors++;
      this.log(`9p: malformed ${head ? `type ${head.type} ` : ""}message: ${(e as Error).message}`);
      return rlerror(tag, EPROTO);
    }
    if (this.msize === 0 && req.type !== T.version) {
      this.counters.errors++;
      return rlerror(tag, EPROTO); // nothing before Tversion (version(5))
    }
    try {
      return yield* this.dispatch(req.type, req.tag, req.f, room);
    } catch (e) {
      this.counters.errors++;
      if (!(e instanceof FsError) && !(e as { code?: unknown })?.code) this.log(`9p: ${req.name}: ${(e as Error)?.message ?? e}`);
      return rlerror(req.tag, e instanceof ProtoError ? EPROTO : errnoOf(e));
    }
  }

  /** Forget every fid (Tversion, device reset), closing open handles. */
  reset(): void | Promise<void> {
    return drive(this.resetGen());
  }

  private *resetGen(): Gen<void> {
    const open = [...this.fids.values()];
    this.fids.clear();
    this.msize = 0;
    for (const f of open) yield* this.closeFid(f);
  }

  private *dispatch(type: number, tag: number, f: Record<string, FieldValue>, room: number): Gen<Uint8Array> {
    const n = (k: string) => f[k] as number;
    const s = (k: string) => f[k] as string;
    const dataRoom = (count: number) => Math.max(0, Math.min(count, this.msize - IOHDRSZ, room - RDATA_HEADER));
    switch (type) {
      case T.version: {
        yield* this.resetGen();
        // version(5): the reply's msize is at most the request's; an unknown version is "unknown".
        this.msize = Math.min(n("msize"), this.maxMsize);
        const ok = s("version").startsWith(VERSION_9P2000_L);
        if (this.msize < HEADER_BYTES + 64) this.msize = 0;
        if (!ok) this.msize = 0;
        return endReply(beginReply(T.version + 1, tag).u32(this.msize).str(ok ? VERSION_9P2000_L : "unknown"));
      }
      case T.attach: {
        if (n("afid") !== NOFID) throw new FsError(EINVAL, "no authentication");
        const st = yield* call(this.fs.stat([]));
        this.addFid(n("fid"), []);
        return rqid(T.attach + 1, tag, qidOf(st));
      }
      case T.auth:
        throw new FsError(EOPNOTSUPP);
      case T.flush:
        // Requests run one at a time, so the one being flushed has already been answered.
        return rempty(T.flush + 1, tag);
      case T.walk:
        return yield* this.walk(tag, n("fid"), n("newfid"), f.names as string[]);
      case T.lopen: {
        const fid = this.fid(n("fid"));
        if (fid.open) throw new FsError(EBADF, "fid already open");
        const flags = n("flags");
        const st = yield* call(this.fs.stat(fid.path));
        const access = (flags & DOTL_ACCMODE) as 0 | 1 | 2 | 3;
        if (access === 3) throw new FsError(EINVAL);
        if (access !== 0 || flags & DOTL_TRUNC) this.writable();
        if (st.kind === "dir") {
          if (access !== 0) throw new FsError(EISDIR);
        } else if (st.kind === "symlink") {
          throw new FsError(ELOOP);
        } else if (st.kind !== "file") {
          throw new FsError(EOPNOTSUPP, "only regular files and directories open");
        } else {
          fid.handle = yield* call(this.fs.open(fid.path, openFlags(flags)));
        }
        fid.open = true;
        fid.access = access;
        fid.append = (flags & DOTL_APPEND) !== 0;
        return ropen(T.lopen + 1, tag, qidOf(st), 0);
      }
      case T.lcreate: {
        this.writable();
        const fid = this.fid(n("fid"));
        if (fid.open) throw new FsError(EBADF, "fid already open");
        const name = s("name");
        checkName(name);
        const flags = n("flags");
        const h = yield* call(this.fs.create(fid.path, name, openFlags(flags), n("mode") & 0o7777, (flags & DOTL_EXCL) !== 0));
        const path = [...fid.path, name];
        let st: FsStat;
        try {
          st = yield* call(this.fs.stat(path));
        } catch (e) {
          yield* call(this.fs.close(h));
          throw e;
        }
        // Lcreate turns the directory fid into the new, open file (9P2000.L lcreate).
        Object.assign(fid, { path, handle: h, open: true, access: (flags & DOTL_ACCMODE) === 3 ? 2 : flags & DOTL_ACCMODE, append: (flags & DOTL_APPEND) !== 0, entries: null });
        return ropen(T.lcreate + 1, tag, qidOf(st), 0);
      }
      case T.read: {
        const fid = this.fid(n("fid"));
        if (fid.handle === null) throw new FsError(fid.open ? EISDIR : EBADF);
        if (fid.access === 1) throw new FsError(EBADF);
        const data = yield* call(this.fs.read(fid.handle, n("offset"), dataRoom(n("count"))));
        this.counters.bytesRead += data.length;
        return rdata(T.read + 1, tag, data);
      }
      case T.write: {
        const fid = this.fid(n("fid"));
        if (fid.handle === null) throw new FsError(fid.open ? EISDIR : EBADF);
        if (fid.access === 0) throw new FsError(EBADF);
        const data = f.data as Uint8Array;
        const done = yield* call(this.fs.write(fid.handle, n("offset"), data));
        this.counters.bytesWritten += done;
        return endReply(beginReply(T.write + 1, tag).u32(done));
      }
      case T.clunk: {
        const fid = this.fid(n("fid"));
        this.fids.delete(n("fid"));
        yield* this.closeFid(fid);
        return rempty(T.clunk + 1, tag);
      }
      case T.remove: {
        // remove(5): the fid is clunked even when the remove fails.
        const fid = this.fid(n("fid"));
        this.fids.delete(n("fid"));
        yield* this.closeFid(fid);
        this.writable();
        if (fid.path.length === 0) throw new FsError(EBUSY, "the export root");
        const st = yield* call(this.fs.stat(fid.path));
        yield* call(this.fs.unlink(fid.path.slice(0, -1), fid.path[fid.path.length - 1]!, st.kind === "dir"));
        return rempty(T.remove + 1, tag);
      }
      case T.statfs: {
        this.fid(n("fid"));
        const sf = yield* call(this.fs.statfs());
        return rstatfs(tag, { type: V9FS_MAGIC, fsid: 0n, ...sf });
      }
      case T.getattr: {
        const fid = this.fid(n("fid"));
        const st = yield* call(this.fs.stat(fid.path));
        return rgetattr(tag, {
          valid: STATS_BASIC, qid: qidOf(st), mode: st.mode, uid: st.uid, gid: st.gid, nlink: st.nlink, rdev: st.rdev,
          size: st.size, blksize: st.blksize, blocks: st.blocks,
          atimeSec: st.atimeSec, atimeNsec: st.atimeNsec, mtimeSec: st.mtimeSec, mtimeNsec: st.mtimeNsec,
          ctimeSec: st.ctimeSec, ctimeNsec: st.ctimeNsec,
        });
      }
      case T.setattr: {
        const fid = this.fid(n("fid"));
        const valid = n("valid");
        const a: SetAttr = {};
        if (valid & ATTR_MODE) a.mode = n("mode") & 0o7777;
        if (valid & ATTR_UID) a.uid = n("uid");
        if (valid & ATTR_GID) a.gid = n("gid");
        if (valid & ATTR_SIZE) a.size = n("size");
        if (valid & ATTR_ATIME) a.atime = valid & ATTR_ATIME_SET ? { sec: n("atime_sec"), nsec: n("atime_nsec") } : "now";
        if (valid & ATTR_MTIME) a.mtime = valid & ATTR_MTIME_SET ? { sec: n("mtime_sec"), nsec: n("mtime_nsec") } : "now";
        // ATTR_CTIME alone (Linux sends it with most changes) needs nothing: the host sets ctime.
        if (Object.keys(a).length > 0) {
          this.writable();
          yield* call(this.fs.setattr(fid.path, a));
        }
        return rempty(T.setattr + 1, tag);
      }
      case T.readdir:
        return yield* this.readdir(tag, this.fid(n("fid")), n("offset"), dataRoom(n("count")));
      case T.fsync: {
        const fid = this.fid(n("fid"));
        if (fid.handle !== null) yield* call(this.fs.fsync(fid.handle));
        return rempty(T.fsync + 1, tag);
      }
      case T.mkdir: {
        this.writable();
        const dir = this.fid(n("dfid"));
        const name = s("name");
        checkName(name);
        yield* call(this.fs.mkdir(dir.path, name, n("mode") & 0o7777));
        return rqid(T.mkdir + 1, tag, qidOf(yield* call(this.fs.stat([...dir.path, name]))));
      }
      case T.symlink: {
        this.writable();
        const dir = this.fid(n("fid"));
        const name = s("name");
        checkName(name);
        const target = s("target");
        if (target === "" || target.includes("\0")) throw new FsError(EINVAL);
        // The target is only ever stored and read back: the server never follows it.
        yield* call(this.fs.symlink(dir.path, name, target));
        return rqid(T.symlink + 1, tag, qidOf(yield* call(this.fs.stat([...dir.path, name]))));
      }
      case T.readlink: {
        const fid = this.fid(n("fid"));
        const target = yield* call(this.fs.readlink(fid.path));
        return endReply(beginReply(T.readlink + 1, tag).str(target));
      }
      case T.link: {
        this.writable();
        const dir = this.fid(n("dfid"));
        const target = this.fid(n("fid"));
        const name = s("name");
        checkName(name);
        yield* call(this.fs.link(dir.path, name, target.path));
        return rempty(T.link + 1, tag);
      }
      case T.mknod:
        this.writable();
        throw new FsError(EPERM, "no device nodes, FIFOs or sockets on a shared folder");
      case T.unlinkat: {
        this.writable();
        const dir = this.fid(n("dfid"));
        const name = s("name");
        checkName(name);
        yield* call(this.fs.unlink(dir.path, name, (n("flags") & AT_REMOVEDIR) !== 0));
        return rempty(T.unlinkat + 1, tag);
      }
      case T.rename: {
        this.writable();
        const fid = this.fid(n("fid"));
        const dir = this.fid(n("dfid"));
        if (fid.path.length === 0) throw new FsError(EBUSY, "the export root");
        const name = s("name");
        checkName(name);
        yield* this.rename(fid.path.slice(0, -1), fid.path[fid.path.length - 1]!, dir.path, name);
        return rempty(T.rename + 1, tag);
      }
      case T.renameat: {
        this.writable();
        const from = this.fid(n("olddfid"));
        const to = this.fid(n("newdfid"));
        const oldName = s("oldname"), newName = s("newname");
        checkName(oldName);
        checkName(newName);
        yield* this.rename(from.path, oldName, to.path, newName);
        return rempty(T.renameat + 1, tag);
      }
      case T.xattrwalk:
      case T.xattrcreate:
        // No extended attributes: Linux's v9fs then reports "not supported" to getxattr callers.
        this.fid(n("fid"));
        throw new FsError(EOPNOTSUPP);
      case T.lock:
        // One client, advisory locks: every lock is granted (what the guest's own kernel enforces between its processes).
        this.fid(n("fid"));
        return endReply(beginReply(T.lock + 1, tag).u8(LOCK_SUCCESS));
      case T.getlock: {
        this.fid(n("fid"));
        return endReply(beginReply(T.getlock + 1, tag)
          .u8(LOCK_TYPE_UNLCK).u64(f.start as bigint).u64(f.length as bigint).u32(n("proc_id")).str(s("client_id")));
      }
      default:
        // 9P2000 / 9P2000.u messages (Topen, Tcreate, Tstat, Twstat), Rmessages sent as requests, unknown types.
        throw new FsError(EOPNOTSUPP, `message type ${type}`);
    }
  }

  private fid(id: number): Fid {
    const f = this.fids.get(id);
    if (!f) throw new FsError(EBADF, `no fid ${id}`);
    return f;
  }

  private addFid(id: number, path: string[]): Fid {
    if (id === NOFID) throw new FsError(EINVAL, "NOFID");
    if (this.fids.has(id)) throw new FsError(EBADF, `fid ${id} in use`);
    if (this.fids.size >= MAX_FIDS) throw new FsError(ENFILE, "too many fids");
    const f: Fid = { path, handle: null, open: false, access: 0, append: false, entries: null };
    this.fids.set(id, f);
    return f;
  }

  private writable(): void {
    if (this.readonly) throw new FsError(EROFS);
  }

  private *closeFid(f: Fid): Gen<void> {
    const h = f.handle;
    f.handle = null;
    f.open = false;
    f.entries = null;
    if (h !== null) {
      try {
        yield* call(this.fs.close(h));
      } catch (e) {
        this.log(`9p: close: ${(e as Error)?.message ?? e}`);
      }
    }
  }

  /**
   * Twalk (walk(5)): from fid's file through up to 16 names. The first name failing is an
   * error; a later one gives the qids walked so far and leaves newfid unset. ".." goes up,
   * never above the export root. Only directories are walked through, checked by lstat, so a
   * symlink is never followed here.
   */
  private *walk(tag: number, fidId: number, newId: number, names: string[]): Gen<Uint8Array> {
    const fid = this.fid(fidId);
    if (newId !== fidId && this.fids.has(newId)) throw new FsError(EBADF, `newfid ${newId} in use`);
    const path = [...fid.path];
    const qids: Qid[] = [];
    let failure: unknown = null;
    for (const name of names) {
      try {
        if (qids.length > 0 && qids[qids.length - 1]!.type !== QT_DIR) throw new FsError(ENOTDIR);
        if (qids.length === 0 && names.length > 0) {
          const here = yield* call(this.fs.stat(path));
          if (here.kind !== "dir") throw new FsError(ENOTDIR);
        }
        if (name === "..") path.pop();
        else if (name !== ".") {
          checkName(name);
          path.push(name);
        }
        qids.push(qidOf(yield* call(this.fs.stat(path))));
      } catch (e) {
        failure = e;
        break;
      }
    }
    if (failure !== null && qids.length === 0) throw failure;
    if (failure === null) {
      if (newId === fidId) {
        if (fid.open) throw new FsError(EBADF, "walking an open fid");
        fid.path = path;
      } else {
        this.addFid(newId, path);
      }
    }
    const w = beginReply(T.walk + 1, tag).u16(qids.length);
    for (const q of qids) w.qid(q);
    return endReply(w);
  }

  /**
   * Treaddir: entries of an open directory from `offset`, as many whole ones as fit `count`.
   * Offsets are positions in a snapshot taken when the guest starts at 0, so entries added or
   * removed meanwhile neither repeat nor vanish mid-listing.
   */
  private *readdir(tag: number, fid: Fid, offset: number, count: number): Gen<Uint8Array> {
    if (!fid.open || fid.handle !== null) throw new FsError(fid.open ? ENOTDIR : EBADF);
    if (offset === 0 || fid.entries === null) fid.entries = yield* this.snapshot(fid.path);
    const out: Uint8Array[] = [];
    let used = 0;
    for (let i = offset; i < fid.entries.length; i++) {
      const e = fid.entries[i]!;
      const b = direntBytes(e.qid, i + 1, e.type, e.name);
      if (used + b.length > count) break;
      out.push(b);
      used += b.length;
    }
    const data = new Uint8Array(used);
    let at = 0;
    for (const b of out) { data.set(b, at); at += b.length; }
    return rdata(T.readdir + 1, tag, data);
  }

  private *snapshot(path: FsPath): Gen<DirEntry[]> {
    const self = yield* call(this.fs.stat(path));
    const parent = path.length > 0 ? yield* call(this.fs.stat(path.slice(0, -1))) : self;
    const entries: DirEntry[] = [
      { qid: qidOf(self), type: DT_DIR, name: "." },
      { qid: qidOf(parent), type: DT_DIR, name: ".." },
    ];
    for (const name of yield* call(this.fs.readdir(path))) {
      try {
        const st = yield* call(this.fs.stat([...path, name]));
        entries.push({ qid: qidOf(st), type: st.kind === "dir" ? DT_DIR : st.kind === "file" ? DT_REG : st.kind === "symlink" ? DT_LNK : DT_UNKNOWN, name });
      } catch {
        // Gone between the listing and the stat (or unreadable): leave it out.
      }
    }
    return entries;
  }

  /** Rename, then move every fid at or under the old path along (they name the same files). */
  private *rename(oldDir: FsPath, oldName: string, newDir: FsPath, newName: string): Gen<void> {
    const from = [...oldDir, oldName];
    const to = [...newDir, newName];
    // A directory into itself or below: the host would refuse too, but say so before touching it.
    if (to.length > from.length && from.every((c, i) => to[i] === c)) throw new FsError(EINVAL);
    yield* call(this.fs.rename(oldDir, oldName, newDir, newName));
    for (const f of this.fids.values()) {
      if (f.path.length >= from.length && from.every((c, i) => f.path[i] === c)) f.path = [...to, ...f.path.slice(from.length)];
    }
  }
}

function openFlags(flags: number): OpenFlags {
  const acc = flags & DOTL_ACCMODE;
  return { access: acc === 3 ? 2 : (acc as 0 | 1 | 2), trunc: (flags & DOTL_TRUNC) !== 0, append: (flags & DOTL_APPEND) !== 0 };
}

// ---- synchronous-when-possible execution ------------------------------------------------------
// Handlers are generators that `yield* call(backendResult)`: a plain value goes straight back in,
// a Promise suspends the handler until it settles. drive() runs a handler to its end without
// leaving the current call stack as long as the backend answers synchronously.

type Gen<T> = Generator<unknown, T, unknown>;

/** One backend result inside a handler: the value, after waiting when it is a Promise. */
function* call<T>(v: T | Promise<T>): Gen<T> {
  return (yield v) as T;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

/** Run `gen` synchronously until it needs a Promise; then the rest runs when that settles. */
export function drive<T>(gen: Gen<T>, step: () => IteratorResult<unknown, T> = () => gen.next()): T | Promise<T> {
  let r = step();
  while (!r.done) {
    const v = r.value;
    if (isThenable(v)) {
      return Promise.resolve(v).then((x) => drive(gen, () => gen.next(x)), (e: unknown) => drive(gen, () => gen.throw(e)));
    }
    const value = v;
    r = gen.next(value);
  }
  return r.value;
}
