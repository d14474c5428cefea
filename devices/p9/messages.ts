// 9P2000.L messages: the type numbers (Linux include/net/9p/9p.h enum p9_msg_t), the field
// layout of every request the server understands, declared once as a table (so decoder and docs cannot drift) and
// decoded by one bounds-checked walker, and the reply encoders. Layouts follow the Linux
// client's format strings (net/9p/client.c p9_client_rpc(…, "dsddg", …)) and the 9P2000.L
// protocol description (diod's protocol.md); every message starts size[4] type[1] tag[2].
import { ProtoError, Reader, Writer, type Qid } from "./wire.ts";

export const HEADER_BYTES = 7; // size[4] type[1] tag[2]
export const NOTAG = 0xffff;
export const NOFID = 0xffff_ffff;
/** Bytes of an Rread / Rreaddir before its data: size[4] type[1] tag[2] count[4]. */
export const RDATA_HEADER = 11;
/** Linux P9_IOHDRSZ: the client keeps read/write counts ≤ msize - 24. */
export const IOHDRSZ = 24;
/** The version string this server speaks (9P2000.L); anything else gets "unknown". */
export const VERSION_9P2000_L = "9P2000.L";
/** MAXWELEM: at most 16 names per Twalk (9P2000 walk(5)). */
export const MAXWELEM = 16;

// Message types (9p.h enum p9_msg_t). Each R is its T + 1.
export const T = {
  lerror: 6, statfs: 8, lopen: 12, lcreate: 14, symlink: 16, mknod: 18, rename: 20, readlink: 22,
  getattr: 24, setattr: 26, xattrwalk: 30, xattrcreate: 32, readdir: 40, fsync: 50, lock: 52,
  getlock: 54, link: 70, mkdir: 72, renameat: 74, unlinkat: 76, version: 100, auth: 102,
  attach: 104, error: 106, flush: 108, walk: 110, open: 112, create: 114, read: 116, write: 118,
  clunk: 120, remove: 122, stat: 124, wstat: 126,
} as const;
export const RLERROR = 7;

/**
 * Field letters, as in Linux net/9p/protocol.c: b u8, w u16, d u32, q u64 (bigint), o u64 that
 * must be a safe integer (offsets, sizes), s string, S u16 count + strings (Twalk names),
 * D u32 count + that many bytes (Twrite data).
 */
type Letter = "b" | "w" | "d" | "q" | "o" | "s" | "S" | "D";

/** Request layouts after the header: "name:letter …" (9P2000.L, Linux client format strings). */
export const REQUESTS: Readonly<Record<number, { name: string; fields: string }>> = {
  [T.version]: { name: "Tversion", fields: "msize:d version:s" },
  [T.auth]: { name: "Tauth", fields: "afid:d uname:s aname:s n_uname:d" },
  [T.attach]: { name: "Tattach", fields: "fid:d afid:d uname:s aname:s n_uname:d" },
  [T.flush]: { name: "Tflush", fields: "oldtag:w" },
  [T.walk]: { name: "Twalk", fields: "fid:d newfid:d names:S" },
  [T.read]: { name: "Tread", fields: "fid:d offset:o count:d" },
  [T.write]: { name: "Twrite", fields: "fid:d offset:o data:D" },
  [T.clunk]: { name: "Tclunk", fields: "fid:d" },
  [T.remove]: { name: "Tremove", fields: "fid:d" },
  [T.statfs]: { name: "Tstatfs", fields: "fid:d" },
  [T.lopen]: { name: "Tlopen", fields: "fid:d flags:d" },
  [T.lcreate]: { name: "Tlcreate", fields: "fid:d name:s flags:d mode:d gid:d" },
  [T.symlink]: { name: "Tsymlink", fields: "fid:d name:s target:s gid:d" },
  [T.mknod]: { name: "Tmknod", fields: "dfid:d name:s mode:d major:d minor:d gid:d" },
  [T.rename]: { name: "Trename", fields: "fid:d dfid:d name:s" },
  [T.readlink]: { name: "Treadlink", fields: "fid:d" },
  [T.getattr]: { name: "Tgetattr", fields: "fid:d mask:q" },
  [T.setattr]: { name: "Tsetattr", fields: "fid:d valid:d mode:d uid:d gid:d size:o atime_sec:o atime_nsec:o mtime_sec:o mtime_nsec:o" },
  [T.xattrwalk]: { name: "Txattrwalk", fields: "fid:d newfid:d name:s" },
  [T.xattrcreate]: { name: "Txattrcreate", fields: "fid:d name:s size:q flags:d" },
  [T.readdir]: { name: "Treaddir", fields: "fid:d offset:o count:d" },
  [T.fsync]: { name: "Tfsync", fields: "fid:d datasync:d" },
  [T.lock]: { name: "Tlock", fields: "fid:d type:b flags:d start:q length:q proc_id:d client_id:s" },
  [T.getlock]: { name: "Tgetlock", fields: "fid:d type:b start:q length:q proc_id:d client_id:s" },
  [T.link]: { name: "Tlink", fields: "dfid:d fid:d name:s" },
  [T.mkdir]: { name: "Tmkdir", fields: "dfid:d name:s mode:d gid:d" },
  [T.renameat]: { name: "Trenameat", fields: "olddfid:d oldname:s newdfid:d newname:s" },
  [T.unlinkat]: { name: "Tunlinkat", fields: "dfid:d name:s flags:d" },
};

const LAYOUTS = new Map<number, [string, Letter][]>(
  Object.entries(REQUESTS).map(([t, r]) => [Number(t), r.fields.split(" ").map((f) => f.split(":") as [string, Letter])]),
);

export type FieldValue = number | bigint | string | string[] | Uint8Array;

export interface Request {
  type: number;
  tag: number;
  /** "Twalk", …; "T?<n>" for a type this server does not know. */
  name: string;
  /** Decoded fields by the table's names; empty for an unknown type. */
  f: Record<string, FieldValue>;
}

/** The header alone (type and tag), for replying even when the body does not parse. */
export function peekHeader(msg: Uint8Array): { size: number; type: number; tag: number } | null {
  if (msg.length < HEADER_BYTES) return null;
  const r = new Reader(msg);
  return { size: r.u32(), type: r.u8(), tag: r.u16() };
}

/**
 * Decode one request. Throws ProtoError for a short message, a size[4] that disagrees with the
 * bytes present, or a field that runs past the end. An unknown type decodes with no fields
 * (the server answers it with EOPNOTSUPP).
 */
export function decodeRequest(msg: Uint8Array): Request {
  if (msg.length < HEADER_BYTES) throw new ProtoError(`message of ${msg.length} bytes is shorter than a header`);
  const head = new Reader(msg);
  const size = head.u32("size");
  const type = head.u8("type");
  const tag = head.u16("tag");
  if (size < HEADER_BYTES || size > msg.length) throw new ProtoError(`size[4] ${size} but ${msg.length} bytes present`);
  const layout = LAYOUTS.get(type);
  if (!layout) return { type, tag, name: `T?${type}`, f: {} };
  const r = new Reader(msg, HEADER_BYTES, size);
  const f: Record<string, FieldValue> = {};
  for (const [name, letter] of layout) {
    switch (letter) {
      case "b": f[name] = r.u8(name); break;
      case "w": f[name] = r.u16(name); break;
      case "d": f[name] = r.u32(name); break;
      case "q": f[name] = r.u64(name); break;
      case "o": f[name] = r.u64n(name); break;
      case "s": f[name] = r.str(name); break;
      case "S": {
        const n = r.u16(name);
        if (n > MAXWELEM) throw new ProtoError(`${name}: ${n} names, at most ${MAXWELEM}`);
        const names: string[] = [];
        for (let i = 0; i < n; i++) names.push(r.str(name));
        f[name] = names;
        break;
      }
      case "D": f[name] = r.bytes(r.u32(name), name); break;
    }
  }
  return { type, tag, name: REQUESTS[type]!.name, f };
}

// ---- replies ------------------------------------------------------------------------------------

/** Start a reply: size[4] (patched by endReply) type[1] tag[2]. */
export function beginReply(type: number, tag: number, capacity = 64): Writer {
  return new Writer(capacity).u32(0).u8(type).u16(tag);
}

export function endReply(w: Writer): Uint8Array {
  w.patchU32(0, w.length);
  return w.finish();
}

/** Rlerror: ecode[4], a Linux errno (9P2000.L replaces Rerror's string with it). */
export function rlerror(tag: number, errno: number): Uint8Array {
  return endReply(beginReply(RLERROR, tag).u32(errno));
}

/** Attributes for Rgetattr (9P2000.L, Linux struct p9_stat_dotl). Times as seconds + nanoseconds. */
export interface Attr {
  valid: bigint;
  qid: Qid;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeSec: number; atimeNsec: number;
  mtimeSec: number; mtimeNsec: number;
  ctimeSec: number; ctimeNsec: number;
}

/** Rgetattr: valid[8] qid[13] mode[4] uid[4] gid[4] nlink[8] rdev[8] size[8] blksize[8] blocks[8] atime[16] mtime[16] ctime[16] btime[16] gen[8] data_version[8]. */
export function rgetattr(tag: number, a: Attr): Uint8Array {
  const w = beginReply(T.getattr + 1, tag, 160)
    .u64(a.valid).qid(a.qid).u32(a.mode).u32(a.uid).u32(a.gid)
    .u64(a.nlink).u64(a.rdev).u64(a.size).u64(a.blksize).u64(a.blocks)
    .u64(a.atimeSec).u64(a.atimeNsec).u64(a.mtimeSec).u64(a.mtimeNsec).u64(a.ctimeSec).u64(a.ctimeNsec)
    .u64(0).u64(0) // btime: not in the basic mask
    .u64(0).u64(0); // gen, data_version: not in the basic mask
  return endReply(w);
}

export interface StatFs {
  type: number; bsize: number; blocks: number; bfree: number; bavail: number;
  files: number; ffree: number; fsid: bigint; namelen: number;
}

/** Rstatfs: type[4] bsize[4] blocks[8] bfree[8] bavail[8] files[8] ffree[8] fsid[8] namelen[4]. */
export function rstatfs(tag: number, s: StatFs): Uint8Array {
  return endReply(beginReply(T.statfs + 1, tag, 72)
    .u32(s.type).u32(s.bsize).u64(s.blocks).u64(s.bfree).u64(s.bavail).u64(s.files).u64(s.ffree).u64(s.fsid).u32(s.namelen));
}

/** A reply made only of a qid (Rattach, Rsymlink, Rmknod, Rmkdir). */
export function rqid(type: number, tag: number, q: Qid): Uint8Array {
  return endReply(beginReply(type, tag).qid(q));
}

/** Rlopen / Rlcreate: qid[13] iounit[4]. */
export function ropen(type: number, tag: number, q: Qid, iounit: number): Uint8Array {
  return endReply(beginReply(type, tag).qid(q).u32(iounit));
}

/** An empty reply (Rclunk, Rflush, Rsetattr, Rrename …). */
export function rempty(type: number, tag: number): Uint8Array {
  return endReply(beginReply(type, tag, HEADER_BYTES));
}

/** One Rreaddir entry: qid[13] offset[8] type[1] name[s] (Linux p9dirent_read "Qqbs"). */
export function direntBytes(q: Qid, offset: number, dtype: number, name: string): Uint8Array {
  return new Writer(32 + name.length).qid(q).u64(offset).u8(dtype).str(name).finish();
}

/** Rread / Rreaddir: count[4] data[count]. */
export function rdata(type: number, tag: number, data: Uint8Array): Uint8Array {
  return endReply(beginReply(type, tag, RDATA_HEADER + data.length).u32(data.length).bytes(data));
}

export { ProtoError };
