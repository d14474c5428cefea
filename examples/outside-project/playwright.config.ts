import { defineConfig } from "@playwright/test";

// The vm fixture boots in Node: no browser is needed for these tests.
export default defineConfig({
  testDir: "tests",
  timeout: 60_000,
  workers: 1,
});
