// The page's snapshots (web/auto-suspend.ts, web/state-store.ts): a reload comes back to the
// running shell — the guest's /tmp file and the shell's history — without booting; Suspend and
// Resume; Download state and opening it with ?state=URL; a damaged state (from a URL or dropped
// on the page) is refused with a message and the guest boots instead.
import { test, expect, type Vm } from "./fixtures.ts";
import type { Page } from "@playwright/test";

/** Wait until the page has stored a save whose screen shows `text` (the save after a command). */
async function storedWith(page: Page, text: string): Promise<void> {
  await expect.poll(() => page.evaluate(async (t) => (await window.vireo!.stored())?.screen.includes(t) ?? false, text), { timeout: 30_000 }).toBe(true);
}

async function running(vm: Vm): Promise<void> {
  await vm.page.waitForFunction(() => window.vireo!.state() === "running", null, { timeout: 30_000 });
}

test("a reload comes back to the running shell: its /tmp file and its history, no boot", async ({ vm, page }) => {
  await vm.boot({ memMiB: 128 });
  await vm.exec("echo vireo-$((6*7)) > /tmp/x");
  expect(await vm.exec("cat /tmp/x")).toBe("vireo-42");
  // After a command, once the console is quiet, the page saves the machine by itself.
  await storedWith(page, "vireo-42");
  // The next command's save is an increment over it: only the pages written since (issue #18:
  // ≤ 1 MiB after ls).
  expect(await vm.exec("ls /")).toContain("tmp");
  await storedWith(page, "usr");
  const parts = (await page.evaluate(() => window.vireo!.stored()))!.parts;
  expect(parts.length).toBeGreaterThan(1);
  const increment = parts[parts.length - 1]!.bytes;
  console.log(`vireo e2e: the page's increment after ls: ${(increment / 1024).toFixed(0)} KiB (whole state ${(parts[0]!.bytes / 1048576).toFixed(1)} MiB)`);
  expect(increment).toBeLessThanOrEqual(1 << 20);

  await page.reload();
  await page.waitForFunction(() => window.vireo !== undefined);
  // The next visit offers to resume, and that is the default: Enter takes it.
  await expect(page.locator("#resume-offer")).toBeVisible();
  await expect(page.locator("#resume-yes")).toBeFocused();
  await page.keyboard.press("Enter");
  await running(vm);
  // The screen as it was is shown again (not part of the new transcript).
  await expect(page.locator("#terminal")).toContainText("vireo-42");
  // Up arrow twice, Enter: the shell's history gives back the command before `ls /`, which
  // finds the file.
  await vm.type("\x1b[A");
  await vm.type("\x1b[A");
  await vm.type("\n");
  await vm.waitFor("vireo-42", 30_000);
  expect(await vm.exec("cat /tmp/x; echo $((1+1))")).toBe("vireo-42\n2");
  expect(await vm.transcript()).not.toContain("Linux version");
});

test("Suspend and Resume; a downloaded state opens with ?state=URL", async ({ vm, page }) => {
  await vm.boot({ memMiB: 64 });
  await vm.exec("echo suspended-$((2*21)) > /tmp/s");
  await page.click("#suspend");
  await page.waitForFunction(() => window.vireo!.state() === "off", null, { timeout: 30_000 });
  await expect(page.locator("#status")).toContainText("suspended");
  await expect(page.locator("#resume")).toBeEnabled();
  await page.click("#resume");
  await running(vm);
  expect(await vm.exec("cat /tmp/s")).toBe("suspended-42");

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#state-download")]);
  expect(download.suggestedFilename()).toMatch(/^vireo-.*\.vmstate$/);
  const { readFileSync } = await import("node:fs");
  const bytes = readFileSync(await download.path());
  expect(bytes.subarray(0, 8).toString("latin1")).toBe("VIREO-VM");
  await vm.poweroff();

  await page.route((u) => u.pathname === "/saved.vmstate", (route) => route.fulfill({ body: bytes, contentType: "application/octet-stream" }));
  await page.goto("/?mem=64&state=/saved.vmstate");
  await page.waitForFunction(() => window.vireo !== undefined);
  await running(vm);
  expect(await vm.exec("cat /tmp/s")).toBe("suspended-42");
  expect(new URL(page.url()).searchParams.get("state"), "the address no longer names the state").toBeNull();
});

test("a damaged state is refused with a message and the guest boots instead (URL, dropped file)", async ({ vm, page }) => {
  await vm.boot({ memMiB: 64 });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#state-download")]);
  const { readFileSync } = await import("node:fs");
  const bytes = readFileSync(await download.path());
  await vm.poweroff();
  bytes[bytes.length - 5]! ^= 0x40; // the checksum no longer matches

  await page.route((u) => u.pathname === "/bad.vmstate", (route) => route.fulfill({ body: bytes }));
  await page.goto("/?mem=64&state=/bad.vmstate");
  await page.waitForFunction(() => window.vireo !== undefined);
  await expect(page.locator("#message")).toContainText(/Could not resume the saved machine: damaged state file: checksum mismatch/);
  await vm.waitForPrompt(0, 60_000);
  expect(await vm.transcript()).toContain("Linux version");

  // Dropped on the page: not a state at all. (The marker tells this boot's output from the next.)
  await vm.exec("echo before-the-drop");
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(100).fill(7)], "junk.vmstate"));
    document.body.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await expect(page.locator("#message")).toContainText(/Could not resume the saved machine: not a Vireo state file/);
  await page.waitForFunction(() => !window.vireo!.transcript().includes("before-the-drop"), null, { timeout: 30_000 });
  await vm.waitForPrompt(0, 60_000);
  expect(await vm.exec("echo $((3*3))")).toBe("9");
});
