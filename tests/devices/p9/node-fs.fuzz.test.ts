// The 9p server on a host directory, under a hostile guest and a hostile host at once: random
// 9P2000.L request sequences (fast-check) while a worker thread keeps swapping a directory of
// the export for a symlink to a directory outside it, and back. Properties: the server never
// throws; no reply carries anything from outside (a canary's bytes, names, link target or inode
// numbers); nothing outside the export is created, changed, linked or removed (names, modes,
// owners, link counts, mtimes and contents of the canary tree, and the export's neighbours).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { NodeFsBackend } from "../../../devices/p9/node-fs.ts";
import { P9Server } from "../../../devices/p9/server.ts";
import { NOFID } from "../../../devices/p9/messages.ts";
import { fuzz } from "../../fuzz.ts";
import { request, s, d, q, T } from "./client.ts";
import { treeState } from "./tree-state.ts";

const MARKER = "OUTSIDE-CANARY";
/** Names the guest uses: the swapped directory, what it and the outside both hold, and others. */
const NAMES = ["sw", "secret", "sub", "x", "y", "sw.real"];
const WALK_NAMES = [...NAMES, "..", "."];

// The swapper: ctrl[0] is what the test asks (0 swap, 1 pause, 2 stop), ctrl[1] what the worker
// does (0 swapping, 1 paused), ctrl[2] counts completed swaps. Errors (the guest renamed or
// removed "sw" meanwhile) put "sw" back as a directory and go on.
const SWAPPER = `
const { workerData } = require("node:worker_threads");
const fs = require("node:fs");
const ctrl = new Int32Array(workerData.sab);
const sw = workerData.share + "/sw", real = workerData.share + "/sw.real";
function restore() {
  try { if (fs.lstatSync(sw).isSymbolicLink()) fs.unlinkSync(sw); } catch {}
  try { fs.renameSync(real, sw); } catch {}
  try { fs.mkdirSync(sw); } catch {}
}
for (;;) {
  const c = Atomics.load(ctrl, 0);
  if (c === 2) { restore(); break; }
  if (c === 1) { restore(); Atomics.store(ctrl, 1, 1); Atomics.notify(ctrl, 1); Atomics.wait(ctrl, 0, 1); Atomics.store(ctrl, 1, 0); continue; }
  try {
    fs.renameSync(sw, real);
    fs.symlinkSync(workerData.outside, sw);
    fs.unlinkSync(sw);
    fs.renameSync(real, sw);
    Atomics.add(ctrl, 2, 1);
  } catch { restore(); }
}`;

/** One random request: an op number and the arguments any op may take from it. */
const opArb = fc.record({
  op: fc.integer({ min: 0, max: 19 }),
  fid: fc.integer({ min: 0, max: 5 }),
  fid2: fc.integer({ min: 0, max: 5 }),
  name: fc.constantFrom(...NAMES),
  name2: fc.constantFrom(...NAMES),
  path: fc.array(fc.constantFrom(...WALK_NAMES), { maxLength: 3 }),
  flags: fc.constantFrom(0, 1, 2, 0o1002, 0o2001, 0o200 | 2, 0o100000, 0o400000),
  mode: fc.constantFrom(0o644, 0o755, 0o6755, 0o4777, 0o2755, 0o1777, 0o000),
  num: fc.integer({ min: 0, max: 70_000 }),
  valid: fc.integer({ min: 0, max: 0x1ff }),
  data: fc.uint8Array({ maxLength: 64 }),
  target: fc.constantFrom("secret", "..", "../outside", "/", "/etc/passwd", "sw/secret", "../../outside/secret"),
});
type Op = typeof opArb extends fc.Arbitrary<infer O> ? O : never;

function message(o: Op, outside: string): Uint8Array {
  switch (o.op) {
    case 0: case 1: return request(T.walk, 1, d(o.fid), d(o.fid2), ["S", o.path]);
    case 2: return request(T.lopen, 1, d(o.fid), d(o.flags));
    case 3: return request(T.lcreate, 1, d(o.fid), s(o.name), d(o.flags | 0o100), d(o.mode), d(0));
    case 4: return request(T.read, 1, d(o.fid), q(o.num), d(4096));
    case 5: return request(T.write, 1, d(o.fid), q(o.num % 4096), ["D", o.data]);
    case 6: return request(T.clunk, 1, d(o.fid));
    case 7: return request(T.getattr, 1, d(o.fid), q(0x3fff));
    case 8: return request(T.setattr, 1, d(o.fid), d(o.valid), d(o.mode), d(o.num), d(o.num), q(o.num), q(1000), q(0), q(2000), q(0));
    case 9: return request(T.readdir, 1, d(o.fid), q(o.num % 8), d(4096));
    case 10: return request(T.mkdir, 1, d(o.fid), s(o.name), d(o.mode), d(0));
    case 11: return request(T.symlink, 1, d(o.fid), s(o.name), s(o.target === "/" ? outside : o.target), d(0));
    case 12: return request(T.readlink, 1, d(o.fid));
    case 13: return request(T.link, 1, d(o.fid), d(o.fid2), s(o.name));
    case 14: return request(T.unlinkat, 1, d(o.fid), s(o.name), d(o.num & 1 ? 0x200 : 0));
    case 15: return request(T.renameat, 1, d(o.fid), s(o.name), d(o.fid2), s(o.name2));
    case 16: return request(T.rename, 1, d(o.fid), d(o.fid2), s(o.name));
    case 17: return request(T.remove, 1, d(o.fid));
    case 18: return request(T.fsync, 1, d(o.fid), d(0));
    default: return request(T.statfs, 1, d(o.fid));
  }
}

/** Every inode number outside, as the 8 little-endian bytes a qid or Rgetattr would carry. */
function inodeBytes(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p, { bigint: true });
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(st.ino);
    out.push(b.toString("latin1"));
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(dir);
  return out;
}

test("9p on a host directory: random requests racing a host swapper touch nothing outside the export", async () => {
  const top = mkdtempSync(join(tmpdir(), "vireo-p9fuzz-"));
  const share = join(top, "share"), outside = join(top, "outside");
  mkdirSync(share);
  mkdirSync(join(outside, "sub"), { recursive: true });
  // The outside mirrors what the guest names, so a call that lands there finds something to hit.
  writeFileSync(join(outside, "secret"), `${MARKER} secret`);
  writeFileSync(join(outside, "sub", "secret"), `${MARKER} sub`);
  writeFileSync(join(outside, "x"), `${MARKER} x`);
  writeFileSync(join(outside, "canary-only-name"), `${MARKER}`);
  symlinkSync("CANARY-LINK-TARGET", join(outside, "y"));
  // The outside tree and the export's neighbours (the outside directory's own entry included).
  const hostState = () => treeState(top, ["share"]);
  const canary = hostState();
  const inos = inodeBytes(outside);

  const fillShare = () => {
    for (const n of readdirSync(share)) rmSync(join(share, n), { recursive: true, force: true });
    mkdirSync(join(share, "sw", "sub"), { recursive: true });
    writeFileSync(join(share, "sw", "secret"), "inside");
    writeFileSync(join(share, "sw", "sub", "secret"), "inside too");
    writeFileSync(join(share, "x"), "x");
  };
  fillShare();
  const sab = new SharedArrayBuffer(12);
  const ctrl = new Int32Array(sab);
  const worker = new Worker(SWAPPER, { eval: true, workerData: { sab, share, outside } });
  const pause = () => {
    Atomics.store(ctrl, 0, 1);
    while (Atomics.load(ctrl, 1) !== 1) Atomics.wait(ctrl, 1, 0, 5);
  };
  const resume = () => {
    Atomics.store(ctrl, 0, 0);
    Atomics.notify(ctrl, 0);
  };

  // Both security models: passthrough lets setuid bits and owners through, inside the export.
  const backends = [new NodeFsBackend(share), new NodeFsBackend(share, { securityModel: "passthrough" })];
  let ops = 0, cases = 0;
  try {
    fuzz("9p node-fs with a host swapper", fc.property(fc.array(opArb, { minLength: 1, maxLength: 24 }), fc.boolean(), (seq, passthrough) => {
      // Every so often start from a fresh tree, so the export stays small over millions of cases.
      if (++cases % 100_000 === 0) process.stderr.write(`fuzz 9p node-fs: ${cases} cases, ${ops} operations so far\n`);
      if (cases % 200 === 0) {
        pause();
        fillShare();
        resume();
      }
      const srv = new P9Server(backends[passthrough ? 1 : 0]!);
      srv.handle(request(T.version, 0, d(8192), s("9P2000.L")));
      srv.handle(request(T.attach, 0, d(0), d(NOFID), s(""), s(""), d(0)));
      // Fids already in the swapped directory, so most requests go where the race is.
      srv.handle(request(T.walk, 0, d(0), d(1), ["S", ["sw"]]));
      srv.handle(request(T.walk, 0, d(0), d(2), ["S", ["sw", "secret"]]));
      srv.handle(request(T.walk, 0, d(0), d(3), ["S", ["sw", "sub"]]));
      try {
        for (const o of seq) {
          const msg = message(o, outside);
          const r = srv.handle(msg);
          ops++;
          if (!(r instanceof Uint8Array)) throw new Error("the Node backend answers synchronously");
          assert.equal(new DataView(r.buffer, r.byteOffset).getUint32(0, true), r.length, "reply size");
          const text = Buffer.from(r.buffer, r.byteOffset, r.length).toString("latin1");
          if (text.includes(MARKER) || text.includes("canary-only-name") || text.includes("CANARY-LINK")) assert.fail(`reply to op ${o.op} carries outside data`);
          for (const ino of inos) if (text.includes(ino)) assert.fail(`reply to op ${o.op} carries an outside inode number`);
        }
      } finally {
        srv.reset();
      }
      assert.equal(hostState(), canary, "nothing outside the export changed");
    }), 150);
  } finally {
    Atomics.store(ctrl, 0, 2);
    Atomics.notify(ctrl, 0);
    await worker.terminate();
    for (const b of backends) b.dispose();
    const swaps = Atomics.load(ctrl, 2);
    process.stderr.write(`fuzz 9p node-fs with a host swapper: ${ops} operations, ${swaps} swaps\n`);
    rmSync(top, { recursive: true, force: true });
  }
  assert.ok(ops > 0);
});
