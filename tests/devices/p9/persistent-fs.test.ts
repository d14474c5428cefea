// The write-through folder: whatever the guest did is in the store, and a folder reopened from
// the store is the same tree.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MapFolderStore, PersistentFs } from "../../../devices/p9/persistent-fs.ts";

const enc = (t: string) => new TextEncoder().encode(t);
const rw = { access: 2 as const, trunc: false, append: false };

async function tree(fs: PersistentFs) {
  const out: string[] = [];
  const walk = async (p: string[]) => {
    for (const name of (await fs.readdir(p)).sort()) {
      const q = [...p, name];
      const st = await fs.stat(q);
      if (st.kind === "dir") { out.push(`${q.join("/")}/`); await walk(q); }
      else if (st.kind === "symlink") out.push(`${q.join("/")} -> ${await fs.readlink(q)}`);
      else {
        const h = await fs.open(q, { access: 0, trunc: false, append: false });
        out.push(`${q.join("/")} = ${new TextDecoder().decode(await fs.read(h, 0, 1 << 20))}`);
        await fs.close(h);
      }
    }
  };
  await walk([]);
  return out;
}

test("changes reach the store; reopening gives the same tree", async () => {
  const store = new MapFolderStore();
  const fs = await PersistentFs.open(store);
  await fs.mkdir([], "a", 0o755);
  await fs.mkdir(["a"], "b", 0o755);
  const h = await fs.create(["a", "b"], "f", rw, 0o644, true);
  await fs.write(h, 0, enc("hello"));
  assert.equal(store.map.get(JSON.stringify(["a", "b", "f"]))!.data!.length, 0, "contents are stored at close");
  await fs.rename([], "a", [], "z"); // the open file moves with its directory
  await fs.close(h);
  await fs.symlink(["z"], "l", "b/f");
  const g = await fs.create([], "gone", rw, 0o644, true);
  await fs.close(g);
  await fs.unlink([], "gone", false);
  await fs.setattr(["z", "b", "f"], { size: 4 });
  const again = await PersistentFs.open(store);
  assert.deepEqual(await tree(again), await tree(fs));
  assert.deepEqual(await tree(again), ["z/", "z/b/", "z/b/f = hell", "z/l -> b/f"]);
});

test("closeAll (a reset) stores what files still open hold", async () => {
  const store = new MapFolderStore();
  const fs = await PersistentFs.open(store);
  const h = await fs.create([], "open.txt", rw, 0o644, true);
  fs.write(h, 0, enc("unsaved"));
  await fs.closeAll();
  assert.deepEqual(await tree(await PersistentFs.open(store)), ["open.txt = unsaved"]);
});

test("a hard-linked file is stored once, reloads as one file, and leaves the store with its last name", async () => {
  const store = new MapFolderStore();
  const fs = await PersistentFs.open(store, { quota: 1000 });
  const h = await fs.create([], "f", rw, 0o644, true);
  await fs.write(h, 0, new Uint8Array(600).fill(1));
  await fs.close(h);
  for (let i = 0; i < 10; i++) await fs.link([], `l${i}`, ["f"]);
  const storedBytes = () => [...store.map.values()].reduce((n, e) => n + (e.data?.length ?? 0), 0);
  assert.equal(storedBytes(), 600, "the bytes are stored once, not once per name");
  const again = await PersistentFs.open(store, { quota: 1000 });
  assert.equal(again.mem.bytesUsed, 600, "and count once when the folder is reopened");
  assert.equal((await again.stat(["l3"])).nlink, 11);
  const w = await again.open(["l3"], rw);
  await again.write(w, 0, enc("X"));
  await again.close(w);
  const r = await again.open(["f"], rw);
  assert.equal(new TextDecoder().decode((await again.read(r, 0, 1))), "X", "one file under every name");
  await again.close(r);
  await again.rename([], "l0", [], "f"); // two names of one file: rename(2) changes nothing
  assert.deepEqual((await again.readdir([])).length, 11);
  assert.equal((await PersistentFs.open(store)).mem.readdir([]).length, 11, "nor in the store");
  for (let i = 0; i < 10; i++) await again.unlink([], `l${i}`, false);
  assert.equal(storedBytes(), 600);
  await again.unlink([], "f", false);
  assert.equal(store.map.size, 0, "the last name takes the bytes with it");
});

test("bytes written through a name that is unlinked before the close reach the file's other names", async () => {
  const store = new MapFolderStore();
  const fs = await PersistentFs.open(store);
  await fs.close(await fs.create([], "a", rw, 0o644, true));
  await fs.link([], "b", ["a"]);
  const h = await fs.open(["a"], rw);
  await fs.write(h, 0, enc("kept"));
  await fs.unlink([], "a", false);
  await fs.close(h);
  assert.deepEqual(await tree(await PersistentFs.open(store)), ["b = kept"]);
});
