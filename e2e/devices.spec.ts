// The page's virtio-balloon and virtio-input keyboard: the balloon size set on the page
// reaches the running guest (MemTotal drops by it, then comes back), and a key pressed in the
// terminal arrives on the guest's /dev/input/event0 as EV_KEY with its Linux code.
import { test, expect } from "./fixtures.ts";

test("balloon size from the page, and key presses on the virtio keyboard", async ({ vm, page }) => {
  await vm.boot({ memMiB: 128, disk: "off", query: "balloon=mmio-v2&input=pci-modern" });
  const memTotal = async () => Number((await vm.exec("grep MemTotal /proc/meminfo")).match(/(\d+) kB/)![1]);
  const full = await memTotal();

  const size = page.locator("#balloon-mib");
  await expect(size).toBeVisible();
  await size.fill("24");
  await size.dispatchEvent("change");
  await expect.poll(memTotal, { timeout: 20_000 }).toBe(full - 24 * 1024);
  // The inspector shows the balloon's pages and the memory statistics its driver reports.
  await page.locator("#inspector-toggle").click();
  const counters = page.locator('.insp-device[data-device="virtio-balloon0"] .insp-device-stats');
  await expect(counters.locator('[data-path="device.heldPages"]')).toHaveText(String(6144));
  await expect(counters.locator('[data-path="device.guest.memTotal"]')).toHaveText(/^\d+$/);
  await page.locator("#inspector-toggle").click();

  await size.fill("0");
  await size.dispatchEvent("change");
  await expect.poll(memTotal, { timeout: 20_000 }).toBe(full);

  // od waits in the background for one key press (EV_KEY + SYN_REPORT, 16 bytes each on i386).
  await vm.exec("od -An -tx1 -w16 -N 32 /dev/input/event0 > /tmp/keys &");
  await page.locator("#terminal").click();
  await expect.poll(async () => {
    await page.keyboard.press("Shift"); // a key that types nothing on the console
    return vm.exec("cat /tmp/keys");
  }, { timeout: 20_000 }).toMatch(/ 01 00 2a 00 01 00 00 00\n.* 00 00 00 00 00 00 00 00$/);
  await vm.poweroff();
  const virtio = (await vm.exitStats())!.stats.virtio as Record<string, Record<string, number | string>>;
  expect(virtio["virtio-balloon0"]!.transport).toBe("mmio-v2");
  expect(virtio["virtio-input0"]!.events).toBeGreaterThanOrEqual(2);
});
