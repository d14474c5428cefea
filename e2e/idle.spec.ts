// A resting page costs almost nothing (issue #22): with the guest idle at its prompt the page does
// no work per animation frame — the renderer's own counters (CDP Performance.getMetrics) show
// the style recalculations and layouts, a trace of the renderer the frames it makes — the guest
// wakes a few times a second, and a hidden page draws nothing while the guest runs on.
// Before, xterm.js's CSS cursor blink recomputed style 60 times a second and the status line
// was rewritten twice a second; then the status line's uptime (every second) and the browser's
// own caret blink in xterm's hidden textarea (twice a second) still made frames at rest, and the
// PIT-only board woke the idle guest 36 times a second.
import type { CDPSession, Page } from "@playwright/test";
import { test, expect, type Vm } from "./fixtures.ts";

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

/**
 * Frames the renderer's main thread made while `ms` passed: Chromium's trace (category cc) has
 * one ProxyMain::BeginMainFrame per frame, whatever asked for it — a style change, a repaint,
 * the text caret's blink.
 */
async function mainFrames(page: Page, ms: number): Promise<number> {
  const browser = page.context().browser()!;
  await browser.startTracing(page, { categories: ["cc"] });
  await new Promise((r) => setTimeout(r, ms));
  const trace = JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: { name: string; ph: string }[] };
  return trace.traceEvents.filter((e) => e.name === "ProxyMain::BeginMainFrame" && e.ph === "X").length;
}

/** Timer interrupts the guest took while it slept 5 s at its prompt (PIT and local APIC timer lines of /proc/interrupts). */
async function timerInterruptsOverSleep(vm: Vm): Promise<number> {
  const out = await vm.exec("cat /proc/interrupts; sleep 5; cat /proc/interrupts");
  const [before, after] = out.split(/^ +CPU0 *$/m).slice(1).map((table) =>
    table.split("\n").filter((l) => /timer/.test(l)).reduce((n, l) => n + Number(/^ *\w+: +(\d+)/.exec(l)![1]), 0));
  return after! - before!;
}

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

  // Ten seconds after the last output the blink rests, cursor on: no style work, no layout, no
  // frame at all — the status line's MIPS reads 0.0 and its uptime counts whole minutes.
  await new Promise((r) => setTimeout(r, 5500));
  await page.evaluate(() => void ((window as unknown as { statusChanges: number }).statusChanges = 0));
  const resting = await frameWork(cdp, 3000);
  const restingStatus = await page.evaluate(() => (window as unknown as { statusChanges: number }).statusChanges);
  const frames = await mainFrames(page, 3000);
  console.log(`vireo e2e: idle, cursor at rest: ${resting.recalcs} style recalcs, ${resting.layouts} layouts, ${restingStatus} status changes in 3 s; ${frames} frames in 3 s more`);
  expect(resting.recalcs).toBeLessThanOrEqual(1);
  expect(resting.layouts).toBeLessThanOrEqual(1); // was 3 (the uptime, every second)
  expect(restingStatus).toBeLessThanOrEqual(1); // was 3
  expect(frames).toBeLessThanOrEqual(1); // was 12: the uptime's 2 and the text caret's 2 a second

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

test("the default board's idle guest sleeps between timer deadlines: a few wake-ups a second, not 36", async ({ vm }) => {
  // The APIC board: the local APIC timer's one-shot reaches seconds ahead, so a tickless guest
  // wakes only for what it has to do.
  await vm.boot({ memMiB: 64, disk: "off" });
  expect(await vm.exec("grep -c LOC /proc/interrupts")).toBe("1");
  const apic = await timerInterruptsOverSleep(vm);
  // The PIT-only board (apic=0, bzImage): Linux arms the PIT's one-shot for at most 27.5 ms.
  await vm.boot({ memMiB: 64, disk: "off", query: "apic=0" });
  expect(await vm.exec("grep -c LOC /proc/interrupts")).toBe("0");
  const pit = await timerInterruptsOverSleep(vm);
  console.log(`vireo e2e: timer interrupts over 5 s idle: APIC board ${apic}, PIT-only board ${pit}`);
  expect(apic).toBeLessThan(50);
  expect(pit).toBeGreaterThan(150); // the measure tells the two apart
});
