import { readFileSync } from "node:fs";
import { defineConfig } from "@playwright/test";

// Debian's Chromium: Playwright cannot download its own browser here.
const chromium = process.env.VIREO_CHROMIUM ?? "/usr/bin/chromium";
// Another port lets two checkouts run their e2e tests side by side; the dev server takes the next.
const port = Number(process.env.VIREO_E2E_PORT ?? 4173);
const devPort = port + 1;
const host = "127.0.0.1";
// `npm start` is "build the core && <dev server>": its last step is the server to test (npm test
// has built the core already).
const startScript: string = JSON.parse(readFileSync(new URL("package.json", import.meta.url), "utf8")).scripts.start;
const devServer = startScript.split("&&").at(-1)!.trim();

export default defineConfig({
  testDir: "e2e",
  timeout: 180_000,
  workers: 1,
  reporter: "list",
  use: {
    launchOptions: {
      executablePath: chromium,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    },
  },
  projects: [
    // The built page (`npm run build`'s dist/, as a static host serves it): every test.
    { name: "built", testIgnore: "debian.spec.ts", use: { baseURL: `http://${host}:${port}` } },
    // `npm start`'s server (the Vite dev server, which serves sources and guest images its own
    // way): the boot test, so the README's first command is checked too.
    // Also Debian (its streamed root disk from guest-images/, when built: the dev server serves it with byte ranges).
    { name: "dev", testMatch: ["boot.spec.ts", "debian.spec.ts"], use: { baseURL: `http://${host}:${devPort}` } },
  ],
  webServer: [
    {
      command: `npx vite preview --port ${port} --strictPort --host ${host}`,
      url: `http://${host}:${port}`,
      reuseExistingServer: !process.env.CI,
    },
    {
      command: `npx ${devServer} --port ${devPort} --strictPort --host ${host}`,
      url: `http://${host}:${devPort}`,
      reuseExistingServer: !process.env.CI,
    },
  ],
});
