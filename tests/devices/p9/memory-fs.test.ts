// The in-memory folder's quota: bytes count once per file and for as long as the file lives.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFs } from "../../../devices/p9/memory-fs.ts";
import { ENOSPC, errnoOf } from "../../../devices/p9/errno.ts";

const rw = { access: 2 as const, trunc: false, append: false };

test("a file unlinked while open keeps counting against the quota until its last close", () => {
  const fs = new MemoryFs({ quota: 1000 });
  const a = fs.create([], "a", rw, 0o644, true);
  const again = fs.open(["a"], rw);
  fs.write(a, 0, new Uint8Array(800));
  fs.unlink([], "a", false);
  assert.equal(fs.bytesUsed, 800, "its bytes are still held");
  fs.write(a, 800, new Uint8Array(100)); // it may still grow, within the quota
  assert.equal(fs.bytesUsed, 900);
  const b = fs.create([], "b", rw, 0o644, true);
  assert.throws(() => fs.write(b, 0, new Uint8Array(800)), (e) => errnoOf(e) === ENOSPC);
  fs.close(a);
  assert.equal(fs.bytesUsed, 900, "one handle is still open");
  fs.close(again);
  assert.equal(fs.bytesUsed, 0, "freed at the last close");
  assert.equal(fs.write(b, 0, new Uint8Array(800)), 800);
});

test("hard links share one file's bytes and count once", () => {
  const fs = new MemoryFs({ quota: 1000 });
  const h = fs.create([], "f", rw, 0o644, true);
  fs.write(h, 0, new Uint8Array(600));
  for (let i = 0; i < 10; i++) fs.link([], `l${i}`, ["f"]);
  assert.equal(fs.bytesUsed, 600);
  fs.write(h, 0, Uint8Array.of(7));
  const l = fs.open(["l9"], rw);
  assert.equal(fs.read(l, 0, 1)[0], 7, "one file under eleven names");
  fs.close(l);
  fs.close(h);
  fs.unlink([], "f", false);
  assert.equal(fs.bytesUsed, 600, "its other names hold it");
  for (let i = 0; i < 10; i++) fs.unlink([], `l${i}`, false);
  assert.equal(fs.bytesUsed, 0);
});
