// The virtio inspector (issue #7) in the page: the PCI capability list, negotiated features and
// a live used index for virtio-blk on pci-modern; the QueuePFN register of virtio-mmio v1 and
// step mode; and the transport comparison table. Screenshots are saved as test artifacts.
import { test, expect, type Vm } from "./fixtures.ts";
import type { Page, TestInfo } from "@playwright/test";

const blk = (page: Page) => page.locator('.insp-device[data-device="virtio-blk0"]');

async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(name);
  await page.screenshot({ path });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

/** The blk queue's used index (split: used.idx; packed: used descriptors returned), as shown. */
async function usedIdx(page: Page): Promise<number> {
  return Number(await blk(page).locator('[data-testid="used-idx"][data-queue="0"]').textContent());
}

/** dd reads the disk; the shown used index moves while it runs. */
async function usedIdxMovesDuringDd(vm: Vm, page: Page): Promise<void> {
  await expect(blk(page).locator('[data-testid="used-idx"][data-queue="0"]')).toBeVisible();
  const before = await usedIdx(page);
  await vm.exec("echo 3 > /proc/sys/vm/drop_caches");
  const from = (await vm.transcript()).length;
  await vm.type("dd if=/dev/vda of=/dev/null bs=1M count=32\n");
  await expect.poll(() => usedIdx(page), { timeout: 30_000, intervals: [100] }).not.toBe(before);
  await vm.waitForPrompt(from);
}

test("pci-modern: capabilities, VERSION_1 accepted, the blk used index moves during dd", async ({ vm, page }, testInfo) => {
  await vm.boot({ disk: "pci-modern" });
  await page.locator("#inspector-toggle").click();
  const caps = blk(page).locator('[data-testid="cap-list"] li');
  await expect(caps.first()).toBeVisible();
  const types = await caps.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.cfgType));
  for (const t of ["COMMON", "NOTIFY", "ISR", "DEVICE"]) expect(types).toContain(t);
  await expect(blk(page).locator('tr[data-feature="VIRTIO_F_VERSION_1"]')).toHaveAttribute("data-accepted", "1");
  await expect(blk(page).locator('[data-testid="status"]')).toHaveText("ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK");
  await usedIdxMovesDuringDd(vm, page);
  await screenshot(page, testInfo, "inspector-pci-modern.png");
  await vm.poweroff();
});

test("mmio-v1 full page: QueuePFN, the used index moves, and a step stops at the next request", async ({ vm, page }, testInfo) => {
  await vm.boot({ disk: "mmio-v1", query: "inspector=full" });
  const pfn = blk(page).locator('tr[data-register="QueuePFN"] td[data-path]');
  await expect(pfn).toHaveText(/^0x[0-9a-f]+$/);
  expect(await pfn.textContent()).not.toBe("0x0");
  await expect(blk(page).locator('[data-section="identity"]')).toContainText("virtio-mmio version 1");
  await usedIdxMovesDuringDd(vm, page);
  await page.setViewportSize({ width: 1600, height: 1400 }); // the whole panel in the artifact
  await screenshot(page, testInfo, "inspector-mmio-v1.png");

  // Step mode: pause, queue a disk read, step once: the VM stops at its notify and says so.
  await page.locator('[data-act="pause"]').click();
  await expect(page.locator('[data-testid="inspector-state"]')).toHaveText("paused");
  await vm.type("echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda of=/dev/null bs=4k count=1\n");
  const used = await usedIdx(page);
  await page.locator('[data-act="step"]').click();
  const step = page.locator('[data-testid="step-changes"] .step-box');
  await expect(step).toContainText("notified the device", { timeout: 30_000 });
  await expect(page.locator('[data-testid="inspector-state"]')).toHaveText("paused");
  // Stopped on the notify: the request is in the available ring, highlighted, not yet used.
  await expect(blk(page).locator("tr.inflight").first()).toBeAttached();
  expect(await usedIdx(page)).toBe(used);
  await screenshot(page, testInfo, "inspector-step-notify.png");
  // Next step: the device completes it and interrupts.
  await page.locator('[data-act="step"]').click();
  await expect(step).toContainText("interrupted the driver", { timeout: 30_000 });
  await expect.poll(() => usedIdx(page)).toBe((used + 1) & 0xffff);
  await screenshot(page, testInfo, "inspector-step-interrupt.png");
  await page.locator('[data-act="resume"]').click();
  await vm.waitForPrompt((await vm.transcript()).lastIndexOf("dd if="));
  await vm.poweroff();
});

test("the panel opens beside the terminal or as the page, and the address says which", async ({ vm, page }) => {
  await vm.open({ query: "inspector=full" });
  const inspector = page.locator("#inspector");
  await expect(inspector).toBeVisible();
  const terminalHeight = async () => (await page.locator("#terminal").boundingBox())!.height;
  expect(await terminalHeight()).toBeLessThan(300); // a strip below the inspector
  await page.locator("#inspector-toggle").click();
  await expect(inspector).toBeHidden();
  expect(new URL(page.url()).searchParams.get("inspector")).toBeNull();
  expect(await terminalHeight()).toBeGreaterThan(300);
  await page.locator("#inspector-toggle").click();
  await page.locator('[data-act="full"]').click(); // back beside the terminal
  expect(new URL(page.url()).searchParams.get("inspector")).toBe("open");
  const box = (await inspector.boundingBox())!, term = (await page.locator("#terminal").boundingBox())!;
  expect(box.x).toBeGreaterThan(term.x + term.width - 1);
});

test("compare transports: a table of throughput, traps and interrupts per MiB", async ({ vm, page }, testInfo) => {
  await vm.open({ query: "inspector=open" });
  const rows = await page.evaluate(() => window.vireo!.inspector.compare(["pci-legacy", "mmio-v2"], 4));
  expect(rows.map((r) => r.transport)).toEqual(["pci-legacy", "mmio-v2"]);
  for (const r of rows) {
    expect(r.error, r.transport).toBeUndefined();
    expect(r.mibPerS).toBeGreaterThan(0);
    expect(r.trapsPerMiB).toBeGreaterThan(0);
    expect(r.interruptsPerMiB).toBeGreaterThan(0);
  }
  await expect(page.locator('[data-testid="compare-table"] tbody tr')).toHaveCount(2);
  await screenshot(page, testInfo, "inspector-compare.png");
});
