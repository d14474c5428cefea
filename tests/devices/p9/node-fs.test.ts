// The host-directory backend: what the guest does lands in the directory, and nothing the guest
// names — symlinks it planted, directories swapped for symlinks — reaches outside the root.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, renameSync, lstatSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeFsBackend } from "../../../devices/p9/node-fs.ts";
import { P9Server } from "../../../devices/p9/server.ts";
import { EACCES, ELOOP, ENOENT, EINVAL } from "../../../devices/p9/errno.ts";
import { errnoOf as errnoOfThrown, FsError } from "../../../devices/p9/errno.ts";
import { NOFID } from "../../../devices/p9/messages.ts";
import { request, reply, errnoOf, s, d, q, T } from "./client.ts";

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
    await rejects(() => fs.stat(["out", "secret"]), EACCES);
    await rejects(() => fs.readdir(["out"]), EACCES);
    await rejects(() => fs.open(["out", "secret"], { access: 0, trunc: false, append: false }), EACCES);
    await rejects(() => fs.open(["sec"], { access: 0, trunc: false, append: false }), ELOOP);
    await rejects(() => fs.create(["out"], "new", { access: 1, trunc: false, append: false }, 0o644, false), EACCES);
    await rejects(() => fs.mkdir(["out"], "x", 0o755), EACCES);
    await rejects(() => fs.unlink(["out"], "secret", false), EACCES);
    await rejects(() => fs.rename(["out"], "secret", [], "stolen"), EACCES);
    await rejects(() => fs.setattr(["sec"], { size: 0 }), EINVAL);
    await rejects(() => fs.link([], "hard", ["out", "secret"]), EACCES);
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
    assert.equal(errnoOf(await srv.handle(request(T.lopen, 0, d(1), d(0)))), EACCES);
    assert.equal(errnoOf(await srv.handle(request(T.getattr, 0, d(1), q(0x7ff)))), EACCES);
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
