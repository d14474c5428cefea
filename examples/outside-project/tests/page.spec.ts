// The page in page/ (an HTML page embedding vireo/browser), built and served by Vite, opened in
// the browser: the guest boots in the page and the page's own code runs a command in it.
import { test, expect } from "@playwright/test";
import { build, preview, type PreviewServer } from "vite";

let server: PreviewServer;
test.beforeAll(async () => {
  test.setTimeout(120_000);
  await build({ logLevel: "warn" });
  server = await preview({ preview: { port: 0, host: "127.0.0.1" }, logLevel: "warn" });
});
test.afterAll(async () => server?.close());

test("a page embedding vireo/browser boots the guest and runs a command from its code", async ({ page }) => {
  await page.goto(server.resolvedUrls!.local[0]!);
  await expect(page.locator("#result")).toHaveText("uname -m: i686 (exit status 0); rng: virtio_rng.0", { timeout: 90_000 });
  // The console is in the page's element, as xterm.js draws it.
  await expect(page.locator("#console .xterm-rows")).toContainText("vireo-guest: ready");
});
