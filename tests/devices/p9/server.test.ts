// The 9P server over the in-memory backend: the guest's sequences (Linux v9fs) and hostile ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { P9Server, QT_DIR } from "../../../devices/p9/server.ts";
import { MemoryFs } from "../../../devices/p9/memory-fs.ts";
import { EBADF, EINVAL, ENOENT, ENOTDIR, ENOTEMPTY, EOPNOTSUPP, EPROTO, EROFS, ELOOP } from "../../../devices/p9/errno.ts";
import { NOFID, RLERROR } from "../../../devices/p9/messages.ts";
import { request, reply, errnoOf, s, d, q, T } from "./client.ts";

const enc = (t: string) => new TextEncoder().encode(t);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function mounted(opts: { readonly?: boolean; fs?: MemoryFs } = {}) {
  const fs = opts.fs ?? new MemoryFs();
  const srv = new P9Server(fs, { readonly: opts.readonly });
  const v = reply(await srv.handle(request(T.version, 0xffff, d(131072), s("9P2000.L"))), T.version + 1);
  assert.equal(v.u32(), 131072);
  assert.equal(v.str(), "9P2000.L");
  const a = reply(await srv.handle(request(T.attach, 1, d(0), d(NOFID), s("root"), s(""), d(0))), T.attach + 1);
  assert.equal(a.qid().type, QT_DIR);
  const call = (type: number, ...args: Parameters<typeof request> extends [number, number, ...infer R] ? R : never) =>
    srv.handle(request(type, 7, ...args));
  return { fs, srv, call };
}

test("create, write, read back, getattr, readdir, clunk", async () => {
  const { call, srv } = await mounted();
  reply(await call(T.walk, d(0), d(1), ["S", []]), T.walk + 1);
  const c = reply(await call(T.lcreate, d(1), s("hello.txt"), d(0o102), d(0o644), d(0)), T.lcreate + 1);
  assert.equal(c.qid().type, 0);
  assert.equal(reply(await call(T.write, d(1), q(0), ["D", enc("hello, 9p")]), T.write + 1).u32(), 9);
  reply(await call(T.clunk, d(1)), T.clunk + 1);

  assert.equal(reply(await call(T.walk, d(0), d(2), ["S", ["hello.txt"]]), T.walk + 1).u16(), 1);
  reply(await call(T.lopen, d(2), d(0)), T.lopen + 1);
  const r = reply(await call(T.read, d(2), q(6), d(100)), T.read + 1);
  assert.equal(dec(r.bytes(r.u32())), " 9p");
  const g = reply(await call(T.getattr, d(2), q(0x7ff)), T.getattr + 1);
  assert.equal(g.u64(), 0x7ffn);
  g.qid();
  assert.equal(g.u32(), 0o100644);
  g.u32(); g.u32(); g.u64(); g.u64();
  assert.equal(g.u64(), 9n, "size");

  reply(await call(T.walk, d(0), d(3), ["S", []]), T.walk + 1);
  reply(await call(T.lopen, d(3), d(0o200000)), T.lopen + 1);
  const rd = reply(await call(T.readdir, d(3), q(0), d(4096)), T.readdir + 1);
  const n = rd.u32();
  const names: string[] = [];
  while (rd.offset < 11 + n) { rd.qid(); rd.u64(); rd.u8(); names.push(rd.str()); }
  assert.deepEqual(names, [".", "..", "hello.txt"]);
  // Past the end: empty.
  assert.equal(reply(await call(T.readdir, d(3), q(3), d(4096)), T.readdir + 1).u32(), 0);
  assert.equal(srv.fidCount, 3);
});

test("readdir in pieces: a small count returns whole entries and offsets continue", async () => {
  const { call, fs } = await mounted();
  for (let i = 0; i < 50; i++) await fs.mkdir([], `dir-${i}`, 0o755);
  reply(await call(T.walk, d(0), d(1), ["S", []]), T.walk + 1);
  reply(await call(T.lopen, d(1), d(0)), T.lopen + 1);
  const seen: string[] = [];
  let offset = 0n;
  for (;;) {
    const r = reply(await call(T.readdir, d(1), q(offset), d(100)), T.readdir + 1);
    const n = r.u32();
    if (n === 0) break;
    assert.ok(n <= 100);
    while (r.offset < 11 + n) { r.qid(); offset = r.u64(); r.u8(); seen.push(r.str()); }
  }
  assert.equal(seen.length, 52);
  assert.equal(new Set(seen).size, 52);
});

test("mkdir, rename (fids follow), symlink, readlink, unlinkat", async () => {
  const { call } = await mounted();
  reply(await call(T.mkdir, d(0), s("a"), d(0o755), d(0)), T.mkdir + 1);
  reply(await call(T.walk, d(0), d(1), ["S", ["a"]]), T.walk + 1);
  reply(await call(T.lcreate, d(1), s("f"), d(1), d(0o600), d(0)), T.lcreate + 1); // fid 1 now a/f
  reply(await call(T.renameat, d(0), s("a"), d(0), s("b")), T.renameat + 1);
  // fid 1 followed the rename: getattr works, and the old name is gone.
  reply(await call(T.getattr, d(1), q(0x7ff)), T.getattr + 1);
  assert.equal(errnoOf(await call(T.walk, d(0), d(2), ["S", ["a"]])), ENOENT);
  reply(await call(T.symlink, d(0), s("ln"), s("b/f"), d(0)), T.symlink + 1);
  reply(await call(T.walk, d(0), d(3), ["S", ["ln"]]), T.walk + 1);
  assert.equal(reply(await call(T.readlink, d(3)), T.readlink + 1).str(), "b/f");
  assert.equal(errnoOf(await call(T.lopen, d(3), d(0))), ELOOP, "a symlink is never opened");
  // Walking through a symlink is not following it: the walk stops at the link (ENOTDIR).
  reply(await call(T.symlink, d(0), s("up"), s("/etc"), d(0)), T.symlink + 1);
  assert.equal(reply(await call(T.walk, d(0), d(4), ["S", ["up", "passwd"]]), T.walk + 1).u16(), 1);
  reply(await call(T.walk, d(0), d(4), ["S", ["up"]]), T.walk + 1);
  assert.equal(errnoOf(await call(T.walk, d(4), d(6), ["S", ["passwd"]])), ENOTDIR);
  assert.equal(errnoOf(await call(T.unlinkat, d(0), s("b"), d(0x200))), ENOTEMPTY);
  reply(await call(T.unlinkat, d(0), s("ln"), d(0)), T.unlinkat + 1);
  // Trename of the open file fid.
  reply(await call(T.rename, d(1), d(0), s("moved")), T.rename + 1);
  reply(await call(T.walk, d(0), d(5), ["S", ["moved"]]), T.walk + 1);
});

test("setattr: truncate, mode, times", async () => {
  const { call, fs } = await mounted();
  const h = await fs.create([], "f", { access: 2, trunc: false, append: false }, 0o644, true);
  await fs.write(h, 0, enc("0123456789"));
  reply(await call(T.walk, d(0), d(1), ["S", ["f"]]), T.walk + 1);
  const set = (valid: number, mode: number, size: number, mtime: number) =>
    call(T.setattr, d(1), d(valid), d(mode), d(0), d(0), q(size), q(0), q(0), q(mtime), q(5));
  reply(await set(0x8, 0, 4, 0), T.setattr + 1);
  reply(await set(0x1 | 0x20 | 0x100, 0o600, 0, 1234), T.setattr + 1);
  const st = await fs.stat(["f"]);
  assert.equal(st.size, 4);
  assert.equal(st.mode & 0o7777, 0o600);
  assert.equal(st.mtimeSec, 1234);
  assert.equal(st.mtimeNsec, 5);
});

test("walk: '..' never leaves the root; bad names are EINVAL; partial walks return the qids so far", async () => {
  const { call } = await mounted();
  reply(await call(T.mkdir, d(0), s("x"), d(0o755), d(0)), T.mkdir + 1);
  const r = reply(await call(T.walk, d(0), d(1), ["S", ["..", "..", "x", ".."]]), T.walk + 1);
  assert.equal(r.u16(), 4);
  assert.equal(errnoOf(await call(T.walk, d(0), d(2), ["S", ["a/b"]])), EINVAL);
  assert.equal(errnoOf(await call(T.walk, d(0), d(2), ["S", ["x\0"]])), EINVAL);
  const p = reply(await call(T.walk, d(0), d(2), ["S", ["x", "nope"]]), T.walk + 1);
  assert.equal(p.u16(), 1);
  assert.equal(errnoOf(await call(T.getattr, d(2), q(0))), EBADF, "newfid not made by a partial walk");
  assert.equal(errnoOf(await call(T.lcreate, d(0), s(".."), d(0), d(0o644), d(0))), EINVAL);
  assert.equal(errnoOf(await call(T.mkdir, d(0), s("a/b"), d(0o755), d(0))), EINVAL);
});

test("errors: unknown fid, fid in use, unsupported messages, read-only exports", async () => {
  const { call } = await mounted();
  assert.equal(errnoOf(await call(T.clunk, d(99))), EBADF);
  assert.equal(errnoOf(await call(T.walk, d(0), d(0), ["S", ["zz"]])), ENOENT);
  assert.equal(errnoOf(await call(T.attach, d(0), d(NOFID), s(""), s(""), d(0))), EBADF, "fid 0 in use");
  assert.equal(errnoOf(await call(T.xattrwalk, d(0), d(5), s("user.x"))), EOPNOTSUPP);
  assert.equal(errnoOf(await call(T.open, d(0), ["b", 0])), EOPNOTSUPP, "9P2000 Topen");
  assert.equal(errnoOf(await call(201)), EOPNOTSUPP, "an R-message number");
  const ro = await mounted({ readonly: true });
  assert.equal(errnoOf(await ro.call(T.mkdir, d(0), s("x"), d(0o755), d(0))), EROFS);
});

test("requests before Tversion and malformed requests get Rlerror with their tag", async () => {
  const srv = new P9Server(new MemoryFs());
  assert.equal(errnoOf(await srv.handle(request(T.attach, 3, d(0), d(NOFID), s(""), s(""), d(0)))), EPROTO);
  const short = Uint8Array.of(9, 0, 0, 0, 120, 5, 0, 1, 0);
  const r = await srv.handle(short);
  assert.equal(errnoOf(r), EPROTO);
  assert.equal(new DataView(r.buffer, r.byteOffset).getUint16(5, true), 5, "tag of the malformed message");
  assert.equal(errnoOf(await srv.handle(Uint8Array.of(1, 2))), EPROTO);
});

test("random and truncated messages never throw out of handle()", async () => {
  const { srv } = await mounted();
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const types = [6, 8, 12, 14, 16, 18, 20, 22, 24, 26, 30, 32, 40, 50, 52, 54, 70, 72, 74, 76, 100, 104, 108, 110, 116, 118, 120, 122];
  for (let i = 0; i < 3000; i++) {
    const len = 7 + Math.floor(rand() * 60);
    const m = new Uint8Array(len);
    for (let j = 0; j < len; j++) m[j] = rand() < 0.6 ? Math.floor(rand() * 4) : Math.floor(rand() * 256);
    new DataView(m.buffer).setUint32(0, rand() < 0.8 ? len : Math.floor(rand() * 100), true);
    m[4] = types[Math.floor(rand() * types.length)]!;
    if (m[4] === 100) continue; // Tversion would reset the session
    const out = await srv.handle(m, 256);
    assert.ok(out.length >= 7 && out.length <= 256 + 7 || out[4] === RLERROR);
  }
});
