// A streamed disk in the page (`?stream=URL`, web/stream-disk.ts): the default guest's data disk,
// a 64 MiB ext2 image, served by a plain HTTP server on another origin with byte ranges (and the
// CORS headers a cross-origin image needs). The guest reads only the chunks it touches; after a
// reload they come from the browser's cache and only the probe reaches the server; its writes
// stay in the browser, and a server without range support is a clear error, not a download.
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { test, expect } from "./fixtures.ts";

const CHUNK = 256 << 10;
const image = gunzipSync(readFileSync(new URL("../guest-images/data-ext2.img.gz", import.meta.url)));
const chunks: string[] = [];
for (let at = 0; at < image.length; at += CHUNK) chunks.push(createHash("sha256").update(image.subarray(at, at + CHUNK)).digest("hex"));
const manifest = JSON.stringify({ format: "vireo-disk-1", size: image.length, chunkSize: CHUNK, chunks });

const READ_START = "dd if=/dev/vda of=/dev/null bs=64k count=32 2>/dev/null; echo rc=$?";

let server: Server;
let origin: string;
/** What reached the server: method and Range of every image request. */
const requests: string[] = [];
let ranges = true;

test.beforeAll(async () => {
  server = createServer((req, res) => {
    const cors = {
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Headers": "Range",
      "Access-Control-Expose-Headers": "Content-Range",
      "Cross-Origin-Resource-Policy": "cross-origin",
    };
    if (req.method === "OPTIONS") return void res.writeHead(204, cors).end();
    if (req.url === "/data.img.manifest.json") return void res.writeHead(200, { ...cors, "Content-Type": "application/json" }).end(manifest);
    if (req.url !== "/data.img") return void res.writeHead(404, cors).end();
    requests.push(`${req.method} ${req.headers.range ?? "(whole)"}`);
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    if (!ranges || !m) return void res.writeHead(200, { ...cors, "Content-Length": String(image.length) }).end(image);
    const first = Number(m[1]), last = Math.min(Number(m[2]), image.length - 1);
    res.writeHead(206, { ...cors, "Content-Range": `bytes ${first}-${last}/${image.length}`, "Content-Length": String(last - first + 1) });
    res.end(image.subarray(first, last + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(() => new Promise<void>((resolve) => {
  server.closeAllConnections();
  server.close(() => resolve());
}));

test("a streamed data disk fetches only what the guest reads; a reload reads it from the cache and keeps the guest's writes", async ({ vm, page }) => {
  const query = `stream=${origin}/data.img.manifest.json`;
  const progress = async () => Object.values(await page.evaluate(() => window.vireo!.streamProgress()))[0]!;

  let started = Date.now();
  await vm.boot({ memMiB: 128, query });
  expect(await vm.exec("mount -t ext2 /dev/vda /mnt; echo rc=$?")).toMatch(/rc=0$/);
  expect(await vm.exec("ls /mnt")).toBe("lost+found");
  await vm.exec("echo streamed-7d1e > /mnt/note.txt && sync && sync /mnt/note.txt");
  // Blocks the guest reads and never writes (the reload reads them again): the first 2 MiB.
  expect(await vm.exec(READ_START)).toBe("rc=0");
  const mountedFirst = Date.now() - started;
  const first = await progress();
  expect(first.size).toBe(image.length);
  expect(first.fetchedBytes).toBeGreaterThan(0);
  expect(first.fetchedBytes, "far less than the image").toBeLessThan(image.length / 4);
  await expect(page.locator("#stream-status")).toContainText(/disk: [\d.]+ of 64\.0 MiB fetched/);
  expect(requests.every((r) => /^GET bytes=\d+-\d+$/.test(r)), `only ranged GETs: ${requests.join(", ")}`).toBe(true);
  const afterFirst = requests.length;

  started = Date.now();
  await vm.boot({ memMiB: 128, query }); // a reload, the VM still running
  expect(await vm.exec("mount -t ext2 /dev/vda /mnt; echo rc=$?")).toMatch(/rc=0$/);
  expect(await vm.exec("cat /mnt/note.txt")).toBe("streamed-7d1e");
  expect(await vm.exec(READ_START)).toBe("rc=0");
  const mountedSecond = Date.now() - started;
  const second = await progress();
  expect(second.fetchedBytes, "every chunk read came from the cache").toBe(0);
  expect(second.cacheHits, "at least the 8 chunks of the first 2 MiB").toBeGreaterThanOrEqual(8);
  expect(requests.length - afterFirst, "only the probe of the reloaded disk").toBe(1);
  test.info().annotations.push({
    type: "figures",
    description: `first boot to mounted+written: ${mountedFirst} ms, ${first.fetchedBytes} bytes in ${first.fetchedChunks} requests; ` +
      `after a reload: ${mountedSecond} ms, ${second.cacheHits} chunks from the cache, 0 bytes fetched`,
  });
  console.log(test.info().annotations.at(-1)!.description);
  await vm.poweroff();
});

test("a server without range support is refused with a clear error before the guest runs", async ({ vm, page }) => {
  ranges = false;
  try {
    await vm.open({ memMiB: 128, query: `stream=${origin}/data.img.manifest.json` });
    await page.evaluate(() => window.vireo!.boot());
    await expect(page.locator("#status")).toContainText("the server ignored the Range request", { timeout: 30_000 });
    expect(await page.evaluate(() => window.vireo!.lastExit()?.stats.instructions)).toBe(0);
  } finally {
    ranges = true;
  }
});
