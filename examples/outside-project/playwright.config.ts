import { defineConfig } from "@playwright/test";

// The vm fixture boots in Node; only a test that boots { in: "browser" } opens a browser.
export default defineConfig({
  testDir: "tests",
  timeout: 60_000,
  workers: 1,
  use: {
    // A browser of the machine's own (Playwright's downloaded one otherwise).
    launchOptions: process.env.VIREO_CHROMIUM ? { executablePath: process.env.VIREO_CHROMIUM, args: ["--no-sandbox"] } : {},
  },
});
