// Debian in the page (the acceptance): `?guest=debian` boots Debian's kernel and
// initramfs and its root disk streamed from guest-images/debian/ (web/stream-disk.ts), to the
// autologin shell; `dpkg -l` works, a file written survives a reload (the overlay in IndexedDB),
// and the second boot reads what the first fetched from the cache. Run on the dev server (the
// Playwright project "dev"), which serves guest-images/ with byte ranges; skipped where the image
// has not been built (CI: the build takes 30 minutes as root).
import { existsSync } from "node:fs";
import { test, expect } from "./fixtures.ts";
import { guestSpec } from "../devices/vm/guests.ts";
import { MANIFEST_SUFFIX } from "../devices/host/disk-manifest.ts";

const debian = guestSpec("debian")!;
const manifest = new URL(`../guest-images/${debian.disk}${MANIFEST_SUFFIX}`, import.meta.url);
const BOOT_MS = 900_000;

test.skip(!existsSync(manifest), `the Debian image is not built (${debian.build}; then npm run disk-manifest -- guest-images/${debian.disk})`);
test.setTimeout(3 * BOOT_MS);

test("Debian boots in the page from its streamed disk; a written file survives a reload; the reload reads from the cache", async ({ vm, page }) => {
  const progress = async () => Object.values(await page.evaluate(() => window.vireo!.streamProgress()))[0]!;
  let started = Date.now();
  await vm.boot({ query: "guest=debian", timeoutMs: BOOT_MS });
  const firstMs = Date.now() - started;
  const first = await progress();
  expect(first.fetchedBytes, "far less than the image").toBeLessThan(first.size / 2);
  expect(Number((await vm.exec("dpkg -l | wc -l", { timeoutMs: 120_000 })).trim())).toBeGreaterThan(100);
  await vm.exec("echo debian-in-the-page > /root/note && sync /root/note && echo ok", { timeoutMs: 60_000 });

  started = Date.now();
  await vm.boot({ query: "guest=debian", timeoutMs: BOOT_MS });
  const secondMs = Date.now() - started;
  const second = await progress();
  // bash echoes bracketed-paste sequences around a command: an empty line before its output.
  expect((await vm.exec("cat /root/note", { timeoutMs: 60_000 })).trim()).toBe("debian-in-the-page");
  expect(second.cacheHits).toBeGreaterThan(0);
  const line = `Debian in the page: first boot to the shell ${(firstMs / 1000).toFixed(1)} s, ${(first.fetchedBytes / 2 ** 20).toFixed(1)} MiB fetched ` +
    `(${first.fetchedChunks} chunks, ${first.cacheHits} from the cache) of ${(first.size / 2 ** 20).toFixed(0)} MiB; after a reload ${(secondMs / 1000).toFixed(1)} s, ` +
    `${(second.fetchedBytes / 2 ** 20).toFixed(1)} MiB fetched, ${second.cacheHits} chunks from the cache`;
  test.info().annotations.push({ type: "figures", description: line });
  console.log(line);
});
