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
