// The data disk (virtio-blk on an IndexedDB overlay, web/idb-disk.ts): what the guest syncs
// survives a page reload, what it writes before a power off survives too, Download gives the
// disk with the changes, and Reset disk brings back the empty image.
import { readFileSync } from "node:fs";
import { test, expect, type Vm } from "./fixtures.ts";

const FIRST = "vireo persistence check 7f3a";
const SECOND = "written before power off 91c2";

async function mountData(vm: Vm): Promise<void> {
  // The kernel's ext2 banner may land among the output on the serial console: look at the end.
  expect(await vm.exec("mount -t ext2 /dev/vda /mnt; echo rc=$?")).toMatch(/rc=0$/);
}

test("the data disk keeps synced files across a reload and a power off; Reset disk empties it", async ({ vm, page }) => {
  await vm.boot({ memMiB: 128 });
  await mountData(vm);
  expect(await vm.exec("ls /mnt")).toBe("lost+found");
  await vm.exec(`echo '${FIRST}' > /mnt/hello.txt`);
  const md5 = await vm.exec("md5sum /mnt/hello.txt");
  expect(md5).toMatch(/^[0-9a-f]{32}  \/mnt\/hello.txt$/);
  // sync writes the blocks out; fsync (sync FILE) then sends FLUSH, which completes only once
  // IndexedDB has committed them. After that a reload must not lose the file.
  expect(await vm.exec("sync && sync /mnt/hello.txt; echo rc=$?")).toBe("rc=0");

  await vm.boot({ memMiB: 128 }); // a reload, with the VM still running
  await mountData(vm);
  expect(await vm.exec("cat /mnt/hello.txt")).toBe(FIRST);
  expect(await vm.exec("md5sum /mnt/hello.txt")).toBe(md5);

  // No fsync this time: the power off saves what the guest had written.
  await vm.exec(`echo '${SECOND}' > /mnt/two.txt && umount /mnt`);
  await vm.poweroff();

  // Download: the base image with the changes, byte for byte what the guest wrote.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#disk-download")]);
  expect(download.suggestedFilename()).toBe("vireo-data.img");
  const image = readFileSync(await download.path());
  expect(image.length).toBe(64 << 20);
  expect(image.includes(`${FIRST}\n`)).toBe(true);
  expect(image.includes(`${SECOND}\n`)).toBe(true);

  await vm.boot({ memMiB: 128 });
  await mountData(vm);
  expect(await vm.exec("cat /mnt/two.txt")).toBe(SECOND);
  await vm.exec("umount /mnt");

  // Reset disk is refused while the VM runs, and empties the disk once it is off.
  await expect(page.evaluate(() => window.vireo!.resetDisk())).rejects.toThrow(/power the VM off first/);
  await vm.poweroff();
  await vm.resetDisk();
  await vm.boot({ memMiB: 128 });
  await mountData(vm);
  expect(await vm.exec("ls /mnt")).toBe("lost+found");
  expect(await vm.exec("cat /mnt/hello.txt 2>&1; echo rc=$?")).toMatch(/No such file or directory\nrc=1$/);
  await vm.poweroff();
});

test("a second tab cannot run the data disk while the first one does", async ({ vm, page }) => {
  await vm.boot({ memMiB: 64 });
  const other = await page.context().newPage();
  await other.goto("/?mem=64");
  await other.waitForFunction(() => window.vireo !== undefined);
  await other.evaluate(() => window.vireo!.boot());
  await other.waitForFunction(() => window.vireo!.lastExit() !== undefined, null, { timeout: 20_000 });
  const exit = await other.evaluate(() => window.vireo!.lastExit()!);
  expect(exit.reason).toBe("error");
  expect(exit.message).toMatch(/disk data is in use by another Vireo tab/);
  await other.close();
  expect(await vm.exec("echo still here")).toBe("still here");
});

/** The data disk's records in IndexedDB (web/idb-disk.ts): block count and the meta record. */
async function storedData(vm: Vm, editMeta?: string): Promise<{ blocks: number; sha256?: string }> {
  return vm.page.evaluate(async (newSha) => {
    const done = <T>(r: IDBRequest<T>) => new Promise<T>((ok, fail) => ((r.onsuccess = () => ok(r.result)), (r.onerror = () => fail(r.error))));
    const db = await done(indexedDB.open("vireo-disks"));
    const s = db.transaction("blocks", "readwrite").objectStore("blocks");
    const blocks = await done(s.count(IDBKeyRange.bound(["data", 0], ["data", Infinity])));
    const meta = (await done(s.get(["data", "meta"]))) as { sha256: string } | undefined;
    if (meta && newSha) await done(s.put({ ...meta, sha256: newSha }, ["data", "meta"]));
    db.close();
    return { blocks, sha256: meta?.sha256 };
  }, editMeta);
}

test("changes saved over a different base image are discarded, not laid over this one", async ({ vm }) => {
  await vm.boot({ memMiB: 64 });
  await mountData(vm);
  await vm.exec("echo old > /mnt/old.txt && umount /mnt");
  await vm.poweroff();
  const saved = await storedData(vm, "0".repeat(64)); // as if written over another image
  expect(saved.blocks).toBeGreaterThan(0);
  expect(saved.sha256).toMatch(/^[0-9a-f]{64}$/);

  await vm.boot({ memMiB: 64 });
  expect(await storedData(vm)).toEqual({ blocks: 0, sha256: undefined });
  await mountData(vm);
  expect(await vm.exec("ls /mnt")).toBe("lost+found");
  await vm.poweroff();
});
