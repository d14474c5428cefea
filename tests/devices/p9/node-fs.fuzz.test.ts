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
import { request, s, d, T } from "./client.ts";
import { message, opArb } from "./fuzz-requests.ts";
import { treeState } from "./tree-state.ts";

const MARKER = "OUTSIDE-CANARY";
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
  // Race from the first request on: wait for the swapper's first swap (a thread starts slowly on a busy machine).
  while (Atomics.load(ctrl, 2) === 0) Atomics.wait(ctrl, 2, 0, 10);

  // Both security models: passthrough lets setuid bits and owners through, inside the export.
  const backends = [new NodeFsBackend(share), new NodeFsBackend(share, { securityModel: "passthrough" })];
  let ops = 0, cases = 0;
  try {
    fuzz("9p node-fs with a host swapper", fc.property(fc.array(opArb, { minLength: 1, maxLength: 24 }), fc.boolean(), (seq, passthrough) => {
      // Every so often start from a fresh tree, so the export stays small over millions of cases.
      if (++cases % 20_000 === 0) process.stderr.write(`fuzz 9p node-fs: ${cases} cases, ${ops} operations so far\n`);
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
    }), 400);
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
