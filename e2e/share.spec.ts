// The page's shared folder (virtio-9p on ?share=T over the IndexedDB folder, web/idb-share.ts):
// files put in the folder are in the guest's 9p mount, and what the guest writes is in the
// folder after a power off — and still there at the next power-on.
import { test, expect } from "./fixtures.ts";

test("share=pci-modern: page → guest and guest → page through the 9p mount", async ({ vm, page }) => {
  await vm.open({ memMiB: 128, query: "share=pci-modern&disk=off" });
  await page.evaluate(() => window.vireo!.setShare({ "hello.txt": "from the page\n", "sub/inner.txt": "deeper\n" }));
  await vm.powerOn();
  expect(await vm.exec("mount -t 9p -o trans=virtio,version=9p2000.L share /mnt; echo rc=$?")).toMatch(/rc=0$/);
  expect(await vm.exec("cat /mnt/hello.txt /mnt/sub/inner.txt")).toBe("from the page\ndeeper");
  await vm.exec("cd /mnt && echo from the guest > guest.txt && mkdir d && mv sub/inner.txt d/moved.txt; cd /");
  expect(await vm.exec("ls /mnt /mnt/d | tr '\\n' ' '; echo")).toMatch(/^\/mnt: d guest.txt hello.txt sub +\/mnt\/d: moved.txt *$/);
  await vm.exec("umount /mnt");
  await vm.poweroff();
  expect(await page.evaluate(() => window.vireo!.readShare())).toEqual({
    "hello.txt": "from the page\n",
    "guest.txt": "from the guest\n",
    "d/moved.txt": "deeper\n",
  });

  // The folder outlives the power-on.
  await vm.boot({ memMiB: 128, query: "share=mmio-v2&disk=off" });
  expect(await vm.exec("mount -t 9p -o trans=virtio share /mnt && cat /mnt/guest.txt")).toBe("from the guest");
  await vm.poweroff();
});

test("a folder uploaded through the folder input replaces the shared folder", async ({ vm, page }) => {
  const { mkdtempSync, mkdirSync, writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = join(mkdtempSync(join(tmpdir(), "vireo-share-")), "picked");
  mkdirSync(join(dir, "nested"), { recursive: true });
  writeFileSync(join(dir, "a.txt"), "alpha\n");
  writeFileSync(join(dir, "nested", "b.txt"), "beta\n");
  await vm.open({ query: "share=mmio-v1&disk=off" });
  await page.setInputFiles("#share-input", dir);
  await expect.poll(() => page.evaluate(() => window.vireo!.readShare())).toEqual({ "a.txt": "alpha\n", "nested/b.txt": "beta\n" });
  await expect(page.locator("#share-info")).toHaveText("2 files, 0.0 MiB");
  await vm.powerOn();
  expect(await vm.exec("mount -t 9p -o trans=virtio share /mnt; echo rc=$?")).toMatch(/rc=0$/);
  expect(await vm.exec("cat /mnt/a.txt /mnt/nested/b.txt")).toBe("alpha\nbeta");
  await vm.poweroff();
});
