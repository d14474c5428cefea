// The host-directory backend: what the guest does lands in the directory, and nothing the guest
// names — symlinks it planted, directories swapped for symlinks — reaches outside the root.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, renameSync, lstatSync, readdirSync, realpathSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeFsBackend } from "../../../devices/p9/node-fs.ts";
import { ATTR_GID, ATTR_MODE, ATTR_UID, P9Server } from "../../../devices/p9/server.ts";
import { ELOOP, ENOENT, EINVAL, ENOTDIR } from "../../../devices/p9/errno.ts";
import { errnoOf as errnoOfThrown, FsError } from "../../../devices/p9/errno.ts";
import { NOFID } from "../../../devices/p9/messages.ts";
import { request, reply, errnoOf, s, d, q, T } from "./client.ts";
import { treeState } from "./tree-state.ts";

function sandbox() {
  const top = mkdtempSync(join(tmpdir(), "vireo-p9-"));
  const root = join(top, "share");
  const outside = join(top, "outside");
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, "secret"), "do not read");
  return { top, root, outside, done: () => rmSync(top, { recursive: true, force: true }) };
}

/** The call fails with `errno`, thrown at once or as a rejection (backends may answer either way). */
async function rejects(f: () => unknown, errno: number) {
  await assert.rejects(async () => f(), (e: unknown) => errnoOfThrown(e) === errno);
}

test("files, directories, symlinks and renames land in the host directory", async () => {
  const sb = sandbox();
  try {
    const fs = new NodeFsBackend(sb.root);
    await fs.mkdir([], "d", 0o755);
    const h = await fs.create(["d"], "f", { access: 2, trunc: false, append: false }, 0o640, true);
    assert.equal(await fs.write(h, 0, new TextEncoder().encode("abc")), 3);
    assert.equal(new TextDecoder().decode(await fs.read(h, 1, 10)), "bc");
    await fs.close(h);
    assert.equal(readFileSync(join(sb.root, "d/f"), "utf8"), "abc");
    assert.equal(lstatSync(join(sb.root, "d/f")).mode & 0o777, 0o640 & ~process.umask());
    await fs.symlink(["d"], "l", "f");
    assert.equal(await fs.readlink(["d", "l"]), "f");
    assert.equal((await fs.stat(["d", "l"])).kind, "symlink");
    await fs.rename(["d"], "f", [], "g");
    assert.equal(readFileSync(join(sb.root, "g"), "utf8"), "abc");
    await fs.setattr(["g"], { size: 1, mtime: { sec: 1000, nsec: 0 } });
    assert.equal(readFileSync(join(sb.root, "g"), "utf8"), "a");
    assert.equal((await fs.stat(["g"])).mtimeSec, 1000);
    await fs.unlink([], "g", false);
    await fs.unlink(["d"], "l", false);
    await fs.unlink([], "d", true);
    assert.deepEqual(await fs.readdir([]), []);
    const a = await fs.create([], "app", { access: 1, trunc: false, append: true }, 0o644, false);
    await fs.write(a, 0, Uint8Array.of(65));
    await fs.write(a, 0, Uint8Array.of(66));
    assert.equal(readFileSync(join(sb.root, "app"), "utf8"), "AB", "append ignores the offset");
  } finally {
    sb.done();
  }
});

test("confinement: symlinks out of the root are never followed", async () => {
  const sb = sandbox();
  try {
    symlinkSync(sb.outside, join(sb.root, "out")); // planted on the host or by the guest: same thing
    symlinkSync(join(sb.outside, "secret"), join(sb.root, "sec"));
    const fs = new NodeFsBackend(sb.root);
    await rejects(() => fs.stat(["out", "secret"]), ENOTDIR);
    await rejects(() => fs.readdir(["out"]), ENOTDIR);
    await rejects(() => fs.open(["out", "secret"], { access: 0, trunc: false, append: false }), ENOTDIR);
    await rejects(() => fs.open(["sec"], { access: 0, trunc: false, append: false }), ELOOP);
    await rejects(() => fs.create(["out"], "new", { access: 1, trunc: false, append: false }, 0o644, false), ENOTDIR);
    await rejects(() => fs.mkdir(["out"], "x", 0o755), ENOTDIR);
    await rejects(() => fs.unlink(["out"], "secret", false), ENOTDIR);
    await rejects(() => fs.rename(["out"], "secret", [], "stolen"), ENOTDIR);
    await rejects(() => fs.setattr(["sec"], { size: 0 }), EINVAL);
    await rejects(() => fs.link([], "hard", ["out", "secret"]), ENOTDIR);
    await rejects(() => fs.stat([".."]), EINVAL);
    await rejects(() => fs.stat(["a/../.."]), EINVAL);
    assert.equal(readFileSync(join(sb.outside, "secret"), "utf8"), "do not read");
    assert.ok(!existsSync(join(sb.outside, "new")) && !existsSync(join(sb.outside, "x")));
  } finally {
    sb.done();
  }
});

test("confinement through the server: a directory swapped for a symlink under an open fid", async () => {
  const sb = sandbox();
  try {
    mkdirSync(join(sb.root, "a"));
    writeFileSync(join(sb.root, "a", "secret"), "inside");
    const srv = new P9Server(new NodeFsBackend(sb.root));
    reply(await srv.handle(request(T.version, 0, d(8192), s("9P2000.L"))), T.version + 1);
    reply(await srv.handle(request(T.attach, 0, d(0), d(NOFID), s(""), s(""), d(0))), T.attach + 1);
    reply(await srv.handle(request(T.walk, 0, d(0), d(1), ["S", ["a", "secret"]])), T.walk + 1);
    // The host (not the guest: the server would have moved fid 1 along) swaps "a" for a symlink outside.
    renameSync(join(sb.root, "a"), join(sb.root, "a2"));
    symlinkSync(sb.outside, join(sb.root, "a"));
    assert.equal(errnoOf(await srv.handle(request(T.lopen, 0, d(1), d(0)))), ENOTDIR);
    assert.equal(errnoOf(await srv.handle(request(T.getattr, 0, d(1), q(0x7ff)))), ENOTDIR);
    // The guest's own symlink: stored, readable with readlink, never walked through.
    reply(await srv.handle(request(T.symlink, 0, d(0), s("up"), s("../outside"), d(0))), T.symlink + 1);
    reply(await srv.handle(request(T.walk, 0, d(0), d(2), ["S", ["up"]])), T.walk + 1);
    assert.notEqual(errnoOf(await srv.handle(request(T.walk, 0, d(2), d(3), ["S", ["secret"]]))), 0);
    assert.equal(errnoOf(await srv.handle(request(T.walk, 0, d(0), d(4), ["S", ["nothing"]]))), ENOENT);
  } finally {
    sb.done();
  }
});

test("errors from the host reach the guest as Linux errnos", async () => {
  const sb = sandbox();
  try {
    const fs = new NodeFsBackend(sb.root);
    await rejects(() => fs.stat(["missing"]), ENOENT);
    assert.equal(errnoOfThrown(new FsError(7)), 7);
    assert.equal(errnoOfThrown(new Error("x")), 5);
  } finally {
    sb.done();
  }
});

// ---- races with the host ---------------------------------------------------------------------
// Another host process may swap a directory of the export for a symlink to somewhere else at any
// moment. raceOn() makes that moment the worst one: the swap happens inside the backend, just
// before the first host call whose path ends in `trigger` (the file the operation is about) —
// after whatever checks the backend made on the way there.

const fsCjs = createRequire(import.meta.url)("node:fs") as Record<string, (...a: unknown[]) => unknown>;
const HOST_CALLS = ["openSync", "lstatSync", "statSync", "readdirSync", "mkdirSync", "symlinkSync", "readlinkSync", "linkSync",
  "unlinkSync", "rmdirSync", "renameSync", "chmodSync", "lchownSync", "chownSync", "lutimesSync", "utimesSync", "truncateSync"];

function raceOn<T>(trigger: string, swap: () => void, body: () => T): T {
  const saved = HOST_CALLS.map((n) => [n, fsCjs[n]!] as const);
  let armed = true;
  for (const [n, orig] of saved) {
    fsCjs[n] = function (this: unknown, ...args: unknown[]) {
      if (armed && args.some((a) => typeof a === "string" && a.endsWith(`/${trigger}`))) {
        armed = false;
        swap();
      }
      return orig.apply(this, args);
    };
  }
  syncBuiltinESMExports();
  try {
    return body();
  } finally {
    for (const [n, orig] of saved) fsCjs[n] = orig;
    syncBuiltinESMExports();
    assert.ok(!armed, `the race on '${trigger}' happened`);
  }
}

test("a directory swapped for a symlink between the backend's checks and its host call: every operation stays inside", () => {
  const ops: [string, string, (fs: NodeFsBackend) => unknown][] = [
    ["read", "secret", (fs) => {
      const h = fs.open(["a", "secret"], { access: 0, trunc: false, append: false });
      const text = new TextDecoder().decode(fs.read(h, 0, 100));
      fs.close(h);
      assert.equal(text, "inside");
    }],
    ["stat", "secret", (fs) => assert.equal(fs.stat(["a", "secret"]).size, "inside".length)],
    ["readdir", "b", (fs) => assert.deepEqual(fs.readdir(["a", "b"]).sort(), ["e", "in-b"])],
    ["readlink", "lnk", (fs) => assert.equal(fs.readlink(["a", "lnk"]), "in")],
    ["create", "new", (fs) => fs.close(fs.create(["a"], "new", { access: 1, trunc: false, append: false }, 0o644, true))],
    ["mkdir", "nd", (fs) => fs.mkdir(["a"], "nd", 0o755)],
    ["symlink", "sl", (fs) => fs.symlink(["a"], "sl", "x")],
    ["link", "secret", (fs) => fs.link([], "hard", ["a", "secret"])],
    ["rename", "secret", (fs) => fs.rename(["a"], "secret", [], "stolen")],
    ["unlink", "secret", (fs) => fs.unlink(["a"], "secret", false)],
    ["rmdir", "e", (fs) => fs.unlink(["a", "b"], "e", true)],
    ["chmod", "secret", (fs) => fs.setattr(["a", "secret"], { mode: 0o600 })],
    ["truncate", "secret", (fs) => fs.setattr(["a", "secret"], { size: 0 })],
    ["utimes", "secret", (fs) => fs.setattr(["a", "secret"], { mtime: { sec: 1000, nsec: 0 } })],
  ];
  const failures: string[] = [];
  for (const [what, trigger, op] of ops) {
    const sb = sandbox();
    try {
      mkdirSync(join(sb.root, "a", "b"), { recursive: true });
      writeFileSync(join(sb.root, "a", "secret"), "inside");
      writeFileSync(join(sb.root, "a", "b", "in-b"), "");
      mkdirSync(join(sb.root, "a", "b", "e"));
      symlinkSync("in", join(sb.root, "a", "lnk"));
      mkdirSync(join(sb.outside, "b"));
      writeFileSync(join(sb.outside, "b", "out-b"), "");
      mkdirSync(join(sb.outside, "b", "e"));
      symlinkSync("out", join(sb.outside, "lnk"));
      const before = treeState(sb.outside);
      const fs = new NodeFsBackend(sb.root);
      try {
        raceOn(trigger, () => {
          renameSync(join(sb.root, "a"), join(sb.root, "a-moved"));
          symlinkSync(sb.outside, join(sb.root, "a"));
        }, () => op(fs));
        assert.equal(treeState(sb.outside), before, "something outside the export changed");
        assert.equal(readdirSync(sb.top).sort().join(), "outside,share", "something created next to the export");
      } catch (e) {
        failures.push(`${what}: ${(e as Error).message.split("\n")[0]}`);
      }
    } finally {
      sb.done();
    }
  }
  assert.deepEqual(failures, []);
});

test("exporting / reaches files below the first level", () => {
  const sb = sandbox();
  try {
    writeFileSync(join(sb.root, "f"), "deep");
    const fs = new NodeFsBackend("/");
    const path = [...realpathSync(sb.root).split("/").filter((c) => c !== ""), "f"];
    assert.ok(path.length > 2);
    assert.equal(fs.stat(path).size, 4);
    const h = fs.open(path, { access: 0, trunc: false, append: false });
    assert.equal(new TextDecoder().decode(fs.read(h, 0, 10)), "deep");
    fs.close(h);
  } finally {
    sb.done();
  }
});

test("security_model none (default): a guest chmod 6755, create or mkdir with s-bits, or chown leaves no setuid/setgid bit and no new owner on the host", async () => {
  const sb = sandbox();
  try {
    writeFileSync(join(sb.root, "prog"), "#!/bin/sh\n");
    const owner = lstatSync(join(sb.root, "prog"));
    const srv = new P9Server(new NodeFsBackend(sb.root));
    reply(await srv.handle(request(T.version, 0, d(8192), s("9P2000.L"))), T.version + 1);
    reply(await srv.handle(request(T.attach, 0, d(0), d(NOFID), s(""), s(""), d(0))), T.attach + 1);
    reply(await srv.handle(request(T.walk, 0, d(0), d(1), ["S", ["prog"]])), T.walk + 1);
    // Tsetattr: valid, mode, uid, gid, size, atime, mtime (Linux's p9_iattr_dotl).
    const setattr = (fid: number, valid: number, mode: number, uid: number, gid: number) =>
      srv.handle(request(T.setattr, 0, d(fid), d(valid), d(mode), d(uid), d(gid), q(0), q(0), q(0), q(0), q(0)));
    reply(await setattr(1, ATTR_MODE, 0o6755, 0, 0), T.setattr + 1);
    assert.equal(lstatSync(join(sb.root, "prog")).mode & 0o7777, 0o755, "chmod 6755 → 0755 on the host");
    reply(await setattr(1, ATTR_UID | ATTR_GID, 0, 4321, 4321), T.setattr + 1);
    const after = lstatSync(join(sb.root, "prog"));
    assert.deepEqual([after.uid, after.gid], [owner.uid, owner.gid], "chown changes no host owner");
    // Tlcreate: fid, name, flags, mode, gid. Tmkdir: dfid, name, mode, gid.
    reply(await srv.handle(request(T.walk, 0, d(0), d(2), ["S", []])), T.walk + 1);
    reply(await srv.handle(request(T.lcreate, 0, d(2), s("made"), d(0o101), d(0o6777), d(0))), T.lcreate + 1);
    reply(await srv.handle(request(T.mkdir, 0, d(0), s("dir"), d(0o3777), d(0))), T.mkdir + 1);
    assert.equal(lstatSync(join(sb.root, "made")).mode & 0o6000, 0);
    assert.equal(lstatSync(join(sb.root, "dir")).mode & 0o6000, 0);
  } finally {
    sb.done();
  }
});

test("security_model passthrough: modes reach the host whole", () => {
  const sb = sandbox();
  try {
    writeFileSync(join(sb.root, "prog"), "");
    const fs = new NodeFsBackend(sb.root, { securityModel: "passthrough" });
    fs.setattr(["prog"], { mode: 0o4755 });
    assert.equal(lstatSync(join(sb.root, "prog")).mode & 0o7777, 0o4755);
    assert.throws(() => new NodeFsBackend(sb.root, { securityModel: "bogus" as "none" }), /unknown security model/);
  } finally {
    sb.done();
  }
});
