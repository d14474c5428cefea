// A guest kernel panic in the page: the VM stops at once, the status line says "guest kernel
// panicked", and the fixture's waiting call fails with a GuestPanic that carries the console
// transcript (attached to the test as well) instead of running into its timeout.
import { readFileSync } from "node:fs";
import { test, expect, GuestPanic } from "./fixtures.ts";

/** Whether the bundled kernel has the pvpanic driver (its config says; config/*.fragment asks for it). */
const kernelHasPvpanic = /^CONFIG_PVPANIC_PCI=y$/m.test(readFileSync(new URL("../guest-images/config/bzImage.config", import.meta.url), "utf8"));

test("a guest panic fails the waiting call at once, with the transcript", async ({ vm, page }) => {
  await vm.boot();
  // The default guest's shell is PID 1 (its /init execs it): leaving it kills init.
  const started = Date.now();
  const error = await vm.exec("exit", { timeoutMs: 60_000 }).then(() => null, (e: unknown) => e);
  expect(Date.now() - started, "failed on the panic, not on the timeout").toBeLessThan(30_000);
  expect(error).toBeInstanceOf(GuestPanic);
  const panic = error as GuestPanic;
  expect(panic.panicLine).toMatch(/^Kernel panic - not syncing: Attempted to kill init!/);
  expect(panic.transcript).toContain("vireo-guest: ready");
  expect(panic.transcript).toContain(panic.panicLine);
  expect(panic.message).toContain("--- console transcript ---");
  await expect(page.locator("#status")).toHaveText(/^halted — guest kernel panicked: Kernel panic - not syncing: Attempted to kill init!/);
  expect((await vm.exitStats())?.panicVia).toBe(kernelHasPvpanic ? "pvpanic" : "console");
});
