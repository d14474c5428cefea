// 9P message encode/decode against byte vectors written by hand from the protocol description
// (9P2000 intro(5) and the 9P2000.L additions in Linux include/net/9p/9p.h / net/9p/client.c
// format strings): every field little-endian, strings as u16 length + bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeRequest, direntBytes, rdata, rgetattr, rlerror, ropen, rqid, rstatfs, T, ProtoError, REQUESTS,
} from "../../../devices/p9/messages.ts";
import { Reader, Writer } from "../../../devices/p9/wire.ts";

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("Tversion: size[4] type[1]=100 tag[2]=NOTAG msize[4] version[s]", () => {
  // 21 bytes: 15 00 00 00 | 64 | ff ff | 00 20 00 00 (8192) | 08 00 "9P2000.L"
  const m = decodeRequest(hex("15000000 64 ffff 00200000 0800 3950323030302e4c"));
  assert.equal(m.name, "Tversion");
  assert.equal(m.tag, 0xffff);
  assert.equal(m.f.msize, 8192);
  assert.equal(m.f.version, "9P2000.L");
});

test("Tattach: fid afid uname aname n_uname", () => {
  const m = decodeRequest(hex("1b000000 68 0100 01000000 ffffffff 0400 726f6f74 0000 00000000"));
  assert.equal(m.tag, 1);
  assert.deepEqual(m.f, { fid: 1, afid: 0xffffffff, uname: "root", aname: "", n_uname: 0 });
});

test("Twalk with two names", () => {
  const m = decodeRequest(hex("19000000 6e 0200 01000000 02000000 0200 0100 61 0300 626364"));
  assert.deepEqual(m.f, { fid: 1, newfid: 2, names: ["a", "bcd"] });
});

test("Twrite carries count[4] data[count]; Tread offset is a u64", () => {
  const w = decodeRequest(hex("1a000000 76 0500 07000000 0010000000000000 03000000 78797a"));
  assert.equal(w.f.fid, 7);
  assert.equal(w.f.offset, 4096);
  assert.deepEqual([...(w.f.data as Uint8Array)], [0x78, 0x79, 0x7a]);
  const r = decodeRequest(hex("17000000 74 0500 07000000 0000000001000000 00100000"));
  assert.equal(r.f.offset, 2 ** 32);
  assert.equal(r.f.count, 4096);
});

test("Tsetattr, Tlcreate, Trenameat, Tunlinkat field order", () => {
  const s = decodeRequest(hex("43000000 1a 0300 05000000 09000000 a4810000 00000000 00000000 0a00000000000000"
    + "0100000000000000 0200000000000000 0300000000000000 0400000000000000"));
  assert.deepEqual(s.f, { fid: 5, valid: 9, mode: 0o100644, uid: 0, gid: 0, size: 10, atime_sec: 1, atime_nsec: 2, mtime_sec: 3, mtime_nsec: 4 });
  const c = decodeRequest(hex("1c000000 0e 0400 02000000 0300 6e6577 42800000 a4010000 00000000"));
  assert.deepEqual(c.f, { fid: 2, name: "new", flags: 0o100102, mode: 0o644, gid: 0 });
  const ra = decodeRequest(hex("16000000 4a 0400 01000000 0100 61 02000000 0200 6262"));
  assert.deepEqual(ra.f, { olddfid: 1, oldname: "a", newdfid: 2, newname: "bb" });
  const u = decodeRequest(hex("12000000 4c 0400 01000000 0100 78 00020000"));
  assert.deepEqual(u.f, { dfid: 1, name: "x", flags: 0x200 });
});

test("every request layout uses only known letters and names", () => {
  for (const [type, r] of Object.entries(REQUESTS)) {
    assert.equal(Number(type) % 2, 0, `${r.name}: T-messages have even numbers`);
    for (const f of r.fields.split(" ")) assert.match(f, /^[a-z_]+:[bwdqosSD]$/, `${r.name} ${f}`);
  }
});

test("malformed requests throw ProtoError, never anything else", () => {
  const bad = [
    "", "0500", "06000000 64 00", // shorter than a header
    "ff000000 78 0100 01000000", // size larger than the bytes present
    "05000000 78 0100", // size smaller than a header
    "0b000000 78 0100 0100", // Tclunk with 2 of 4 fid bytes
    "0f000000 6e 0100 01000000 02000000", // Twalk missing nwname
    "11000000 6e 0100 01000000 02000000 0100 0500", // name length 5, no bytes
    "44000000 6e 0100 01000000 02000000 1100" + "0100 61".repeat(17).replace(/ /g, ""), // 17 names > MAXWELEM
    "15000000 76 0100 01000000 0000000000000000 ffffffff", // Twrite count past the end
    "0f000000 64 ffff 00200000 0200 c328", // version not UTF-8
    "17000000 74 0500 07000000 ffffffffffffffff 00100000", // offset beyond 2^53
  ];
  const reasons: Record<string, RegExp> = {
    "0f000000 64 ffff 00200000 0200 c328": /UTF-8/,
    "17000000 74 0500 07000000 ffffffffffffffff 00100000": /too large/,
  };
  for (const v of bad) {
    const input = v === "" ? new Uint8Array(0) : hex(v);
    assert.throws(() => decodeRequest(input), (e: unknown) => e instanceof ProtoError && (reasons[v]?.test(e.message) ?? true), v);
  }
  assert.throws(() => decodeRequest(hex("44000000 6e 0100 01000000 02000000 1100" + "010061".repeat(17))), /at most 16/);
});

test("an unknown type decodes with no fields", () => {
  const m = decodeRequest(hex("07000000 c8 0900"));
  assert.equal(m.type, 200);
  assert.deepEqual(m.f, {});
});

test("Rlerror: size 11, type 7, tag, ecode", () => {
  assert.equal(toHex(rlerror(3, 2)), "0b000000" + "07" + "0300" + "02000000");
});

test("Rlopen: qid[13] iounit[4]; qid is type[1] version[4] path[8]", () => {
  const r = ropen(T.lopen + 1, 4, { type: 0x80, version: 5, path: 0x1122334455n }, 0);
  assert.equal(toHex(r), "18000000" + "0d" + "0400" + "80" + "05000000" + "5544332211000000" + "00000000");
  assert.equal(toHex(rqid(T.attach + 1, 1, { type: 0, version: 0, path: 1n })), "14000000690100" + "00" + "00000000" + "0100000000000000");
});

test("Rread: count[4] then data", () => {
  assert.equal(toHex(rdata(T.read + 1, 9, Uint8Array.of(1, 2, 3))), "0e000000" + "75" + "0900" + "03000000" + "010203");
});

test("Rreaddir entry: qid offset[8] type[1] name[s]", () => {
  assert.equal(toHex(direntBytes({ type: 0x80, version: 0, path: 2n }, 1, 4, ".")),
    "80" + "00000000" + "0200000000000000" + "0100000000000000" + "04" + "0100" + "2e");
});

test("Rgetattr: 153 bytes of body, fields in Linux p9_stat_dotl order", () => {
  const r = rgetattr(1, {
    valid: 0x7ffn, qid: { type: 0, version: 0, path: 9n }, mode: 0o100644, uid: 1, gid: 2, nlink: 3, rdev: 0, size: 10,
    blksize: 4096, blocks: 1, atimeSec: 11, atimeNsec: 12, mtimeSec: 13, mtimeNsec: 14, ctimeSec: 15, ctimeNsec: 16,
  });
  assert.equal(r.length, 7 + 8 + 13 + 4 * 3 + 8 * 15);
  const rd = new Reader(r);
  assert.equal(rd.u32(), r.length);
  assert.equal(rd.u8(), 25);
  assert.equal(rd.u16(), 1);
  assert.equal(rd.u64(), 0x7ffn);
  assert.deepEqual(rd.qid(), { type: 0, version: 0, path: 9n });
  assert.deepEqual([rd.u32(), rd.u32(), rd.u32()], [0o100644, 1, 2]);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(() => Number(rd.u64())), [3, 0, 10, 4096, 1, 11, 12, 13, 14, 15, 16]);
});

test("Rstatfs: type[4] bsize[4] blocks bfree bavail files ffree fsid[8] namelen[4]", () => {
  const r = rstatfs(2, { type: 0x01021997, bsize: 4096, blocks: 1, bfree: 2, bavail: 3, files: 4, ffree: 5, fsid: 6n, namelen: 255 });
  assert.equal(toHex(r), "43000000" + "09" + "0200" + "97190201" + "00100000" + "0100000000000000" + "0200000000000000"
    + "0300000000000000" + "0400000000000000" + "0500000000000000" + "0600000000000000" + "ff000000");
});

test("Writer grows and strings round-trip through Reader", () => {
  const w = new Writer(2);
  for (let i = 0; i < 100; i++) w.str("ä" + i);
  const r = new Reader(w.finish());
  for (let i = 0; i < 100; i++) assert.equal(r.str(), "ä" + i);
  assert.equal(r.remaining, 0);
});
