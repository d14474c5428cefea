// Boot the default guest in the page, run a command, power off.
import { test, expect } from "./fixtures.ts";

test("boots to a shell prompt and runs uname", async ({ vm }) => {
  await vm.boot({ memMiB: 128 });
  console.log(`vireo e2e: power-on to prompt ${vm.bootToPromptMs} ms (headless Chromium)`);
  const out = await vm.exec("uname -a");
  expect(out).toContain("i686");
  expect(await vm.exec("uname -m")).toBe("i686"); // exec returns exactly the output
  await vm.waitFor("vireo-guest: ready");
  await vm.poweroff();
  const stats = await vm.exitStats();
  console.log(`vireo e2e: ${stats?.stats.mips.toFixed(1)} MIPS over ${stats?.stats.wallSeconds.toFixed(1)} s`);
});
