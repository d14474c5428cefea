// The built site on a plain static host that sends no COOP/COEP headers (GitHub Pages, a file
// server): web/public/coi-sw.js adds them, the page reloads once through it, becomes cross-origin
// isolated and boots. Where service workers are unavailable the page says why it cannot run.
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import type { AddressInfo } from "node:net";
import { test, expect } from "./fixtures.ts";

const dist = new URL("../dist/", import.meta.url).pathname;
const TYPES: Record<string, string> = {
  ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm",
};

let server: Server;
let origin: string;

// Files from dist/ with a content type and nothing else: no isolation headers.
test.beforeAll(async () => {
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url!, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    try {
      const body = await readFile(join(dist, path.endsWith("/") ? path + "index.html" : path));
      res.writeHead(200, { "Content-Type": TYPES[extname(path) || ".html"] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test("without isolation headers the service worker isolates the page and the guest boots", async ({ vm, page }) => {
  const plain = await fetch(`${origin}/`);
  expect(plain.headers.get("cross-origin-opener-policy"), "the host sends no isolation headers").toBeNull();
  expect(plain.headers.get("cross-origin-embedder-policy")).toBeNull();

  await vm.boot({ origin });
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${origin}/coi-sw.js`);
  expect(await vm.exec("uname -m")).toBe("i686");
  await vm.poweroff();
});

test.describe("where no service worker may run", () => {
  test.use({ serviceWorkers: "block" });

  test("the page says it cannot run, and why", async ({ page }) => {
    await page.goto(`${origin}/`);
    await expect(page.locator("#message")).toHaveText(/installing its service worker/);
    // web/coi.ts gives the worker 10 s to become active.
    await expect(page.locator("#status")).toContainText("This page is not cross-origin isolated, so SharedArrayBuffer is unavailable", { timeout: 20_000 });
    await expect(page.locator("#status")).toContainText("the isolation service worker could not be installed");
    await expect(page.locator("#status")).toHaveAttribute("data-state", "error");
    await expect(page.locator("#power-on")).toBeDisabled();
  });
});
