// Bad input leaves the page usable: a bad URL value, a file that is not a kernel and a truncated
// initrd (picked with the file inputs), a disk image of a partial sector and a kernel too large
// for the RAM (dropped), each refused with a clear message, also shown on its slot; then "Use default guest" and Power on still boot the bundled
// guest to its prompt.
import { readFileSync } from "node:fs";
import { test, expect } from "./fixtures.ts";
import type { Page } from "@playwright/test";

/** Drop a file on `selector` the way a browser does: a drop event carrying a DataTransfer. */
async function drop(page: Page, selector: string, name: string, bytes: Uint8Array): Promise<void> {
  const dataTransfer = await page.evaluateHandle(([n, b64]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], n));
    return dt;
  }, [name, Buffer.from(bytes).toString("base64")] as const);
  await page.locator(selector).dispatchEvent("drop", { dataTransfer });
}

test("bad URL values and bad files give messages; the default guest still boots", async ({ vm, page }) => {
  await vm.open({ query: "disk=mmio-v3&mem=64" });
  const message = page.locator("#message");
  await expect(message).toHaveText("In the address: disk=mmio-v3 is not one of off, pci-legacy, pci-modern, pci-transitional, mmio-v1, mmio-v2; using pci-modern.");
  await expect(page.locator("#disk")).toHaveValue("pci-modern");
  await expect(page.locator("#mem")).toHaveValue("64"); // the good value beside the bad one is kept
  expect(new URL(page.url()).searchParams.has("disk"), "the address now says what will run").toBe(false);

  // Not a kernel, through the file input.
  await page.locator("#pick-kernel").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.alloc(8192, "vireo ") });
  await expect(message).toHaveText("notes.txt: not a Linux bzImage (no boot sector signature or 'HdrS' setup header)");
  // The slot keeps the bundled kernel and says why the file was refused.
  await expect(page.locator("#kernel-file")).toHaveText("bundled bzImage-apic — refused: notes.txt: not a Linux bzImage (no boot sector signature or 'HdrS' setup header)");

  // A truncated initrd (the first 1000 bytes of the bundled one): refused on its slot with the
  // host's own check, the one the VM worker makes at power-on.
  const initramfs = readFileSync(new URL("../guest-images/initramfs.cpio.gz", import.meta.url));
  await page.locator("#pick-initrd").setInputFiles({ name: "cut.cpio.gz", mimeType: "application/gzip", buffer: initramfs.subarray(0, 1000) });
  const cut = "cut.cpio.gz: initrd (gzip at byte 0): the gzip stream ends early (the file is truncated)";
  await expect(message).toHaveText(cut);
  await expect(page.locator("#initrd-file")).toHaveText(`bundled initramfs — refused: ${cut}`);

  // A disk image that is not whole sectors, dropped anywhere on the page.
  await drop(page, "#terminal", "odd.img", new Uint8Array(1000));
  await expect(message).toContainText("odd.img: size 1000 bytes is not a multiple of 512");
  await expect(page.locator("#disk-file")).toHaveText(/^data disk \(kept in this browser\) — refused: odd\.img: size 1000 bytes/);

  // A real kernel whose init_size asks for 200 MiB, dropped on the kernel slot: accepted as a
  // kernel, refused at power-on for the 64 MiB chosen.
  const big = new Uint8Array(readFileSync(new URL("../guest-images/bzImage", import.meta.url)));
  new DataView(big.buffer, big.byteOffset).setUint32(0x260, 200 << 20, true);
  await drop(page, "[data-slot=kernel]", "big-bzImage", big);
  await expect(page.locator("#kernel-file")).toHaveText(/^big-bzImage \(1\.9 MiB\)$/);
  await page.locator("#power-on").click();
  await expect(message).toHaveText(/^too little RAM: 64 MiB given, this kernel and initrd need at least 2\d\d MiB: choose more RAM or smaller images$/);
  await expect(page.locator("#status")).toHaveAttribute("data-state", "off");
  await expect(page.locator("#power-on")).toBeEnabled();

  // Back to the bundled guest: it boots.
  await page.locator("#use-default").click();
  await expect(page.locator("#kernel-file")).toHaveText("bundled bzImage-apic");
  await expect(page.locator("#initrd-file")).toHaveText("bundled initramfs");
  await page.locator("#power-on").click();
  await vm.waitForPrompt();
  expect(await vm.exec("uname -m")).toBe("i686");
  await expect(page.locator("#status")).toHaveText(/^running — \d+\.\d MIPS · up <1 min · 64 MiB, serial console, disk pci-modern$/);
  await vm.poweroff();
});
