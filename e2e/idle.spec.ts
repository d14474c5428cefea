// A resting page costs almost nothing (issue #22): with the guest idle at its prompt the page does
// no work per animation frame — the renderer's own counters (CDP Performance.getMetrics) show
// the style recalculations and layouts — and a hidden page draws nothing while the guest runs on.
// Before, xterm.js's CSS cursor blink recomputed style 60 times a second and the status line
// was rewritten twice a second.
import type { CDPSession, Page } from "@playwright/test";
import { test, expect } from "./fixtures.ts";

/** Style recalculations and layouts the renderer did while `ms` passed. */
async function frameWork(cdp: CDPSession, ms: number): Promise<{ recalcs: number; layouts: number }> {
  const read = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const a = await read();
  await new Promise((r) => setTimeout(r, ms));
  const b = await read();
  return { recalcs: b.RecalcStyleCount! - a.RecalcStyleCount!, layouts: b.LayoutCount! - a.LayoutCount! };
}

/** What the page sees when its tab is hidden or shown (headless Chromium never hides a page itself). */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (h ? "hidden" : "visible") });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => h });
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

const rowsText = (page: Page) => page.locator("#terminal .xterm-rows").innerText();

test("an idle guest: no per-frame work, the status line once a second, the cursor blink rests", async ({ vm, page }) => {
  await vm.boot({ memMiB: 64, disk: "off" });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  await page.evaluate(() => {
    const w = window as unknown as { statusChanges: number };
    w.statusChanges = 0;
    new MutationObserver((records) => (w.statusChanges += records.length))
      .observe(document.getElementById("status")!, { childList: true, characterData: true, subtree: true });
  });
  // xterm.js's scrollbar fades out for a moment after the boot's output scrolled: past that,
  await new Promise((r) => setTimeout(r, 2500));

  // blinking (the prompt was the last output): two toggles of one class a second, each
  // restyling the cursor's cell; the status line's live text once a second.
  await page.evaluate(() => void ((window as unknown as { statusChanges: number }).statusChanges = 0));
  const blinking = await frameWork(cdp, 3000);
  const statusChanges = await page.evaluate(() => (window as unknown as { statusChanges: number }).statusChanges);
  console.log(`vireo e2e: idle, cursor blinking: ${blinking.recalcs} style recalcs, ${blinking.layouts} layouts, ${statusChanges} status changes in 3 s`);
  expect(blinking.recalcs).toBeLessThanOrEqual(8); // was 180 (60 a second)
  expect(blinking.layouts).toBeLessThanOrEqual(5);
  expect(statusChanges).toBeLessThanOrEqual(4); // was 6 (a whole new text twice a second)

  // Ten seconds after the last output the blink rests, cursor on: no style work at all.
  await new Promise((r) => setTimeout(r, 5500));
  const resting = await frameWork(cdp, 3000);
  console.log(`vireo e2e: idle, cursor at rest: ${resting.recalcs} style recalcs, ${resting.layouts} layouts in 3 s`);
  expect(resting.recalcs).toBeLessThanOrEqual(1);
  expect(resting.layouts).toBeLessThanOrEqual(4); // the status line's uptime

  // Typing wakes the blink and echoes as before.
  expect(await vm.exec("echo $((6*7))")).toBe("42");
});

test("a hidden page draws nothing; the guest runs on and its output shows on return", async ({ vm, page }) => {
  await vm.boot({ memMiB: 64, disk: "off" });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  await setHidden(page, true);
  await vm.type("echo hidden-$((6*7))\n");
  await vm.waitFor("hidden-42"); // the guest ran the command
  await new Promise((r) => setTimeout(r, 2000)); // the scrollbar's fade after the boot's output (drawn while visible)
  const hidden = await frameWork(cdp, 2000);
  expect(await rowsText(page)).not.toContain("hidden-42"); // the terminal drew none of it
  expect(hidden).toEqual({ recalcs: 0, layouts: 0 }); // no status line, no blink

  await setHidden(page, false);
  await expect.poll(() => rowsText(page), { timeout: 5000 }).toContain("hidden-42");
  expect(await vm.exec("uname -m")).toBe("i686");
});
