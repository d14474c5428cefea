import { defineConfig } from "@playwright/test";

// Debian's Chromium: Playwright cannot download its own browser here.
const chromium = process.env.VIREO_CHROMIUM ?? "/usr/bin/chromium";
// Another port lets two checkouts run their e2e tests side by side.
const port = Number(process.env.VIREO_E2E_PORT ?? 4173);

export default defineConfig({
  testDir: "e2e",
  timeout: 180_000,
  workers: 1,
  reporter: "list",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: chromium,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    },
  },
  webServer: {
    command: `npx vite preview --port ${port} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: !process.env.CI,
  },
});
