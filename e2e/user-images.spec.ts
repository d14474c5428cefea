// The user's own images: a kernel and initrd picked with the file inputs and a disk image dropped
// on the page boot (a file only the picked initrd holds shows it is the one in use), and the guest reads the dropped disk's bytes through virtio-blk (the disk
// device switches itself on when a disk image arrives).
import { readFileSync } from "node:fs";
import { test, expect } from "./fixtures.ts";

const images = new URL("../guest-images/", import.meta.url);

/** A cpio "newc" archive (what initramfs unpacks) holding one file at the root. */
function cpio(name: string, content: string): Buffer {
  const pad4 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const entry = (n: string, mode: number, data: Buffer) => {
    const fields = [1, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, n.length + 1, 0];
    const header = "070701" + fields.map((f) => f.toString(16).padStart(8, "0")).join("");
    return Buffer.concat([pad4(Buffer.from(header + n + "\0")), pad4(data)]);
  };
  return Buffer.concat([entry(name, 0o100644, Buffer.from(content)), entry("TRAILER!!!", 0, Buffer.alloc(0))]);
}

test("picked kernel and initrd boot; a dropped disk image is the guest's /dev/vda", async ({ vm, page }) => {
  await vm.open({ memMiB: 64, query: "disk=off" }); // the dropped disk must switch the device on
  const message = page.locator("#message");
  await page.locator("#pick-kernel").setInputFiles({ name: "my-bzImage", mimeType: "application/octet-stream", buffer: readFileSync(new URL("bzImage", images)) });
  await expect(page.locator("#kernel-file")).toHaveText("my-bzImage (1.9 MiB)");
  // The bundled initramfs plus one more archive, as Linux allows (zero padding to 4 bytes
  // between them): a file only this picked initrd has.
  const bundled = readFileSync(new URL("initramfs.cpio.gz", images));
  const initrd = Buffer.concat([bundled, Buffer.alloc((4 - (bundled.length % 4)) % 4), cpio("picked-initrd", "yes, the picked one\n")]);
  await page.locator("#pick-initrd").setInputFiles({ name: "my-initrd", mimeType: "application/octet-stream", buffer: initrd });
  await expect(page.locator("#initrd-file")).toHaveText("my-initrd (1.0 MiB)");

  const disk = Buffer.alloc(1 << 20);
  disk.write("vireo-dropped-disk", 3 * 512);
  const dataTransfer = await page.evaluateHandle((b64) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "data.img"));
    return dt;
  }, disk.toString("base64"));
  await page.locator("#terminal").dispatchEvent("drop", { dataTransfer });
  await expect(message).toHaveText("using data.img as the disk; disk device turned on (pci-modern)");
  await expect(page.locator("#disk")).toHaveValue("pci-modern");
  // pci-modern is the default, so the address drops its disk=off rather than naming it.
  expect(new URL(page.url()).searchParams.has("disk")).toBe(false);

  await vm.powerOn();
  expect(await vm.exec("cat /picked-initrd")).toBe("yes, the picked one");
  expect(await vm.exec("cat /sys/block/vda/size")).toBe("2048");
  expect(await vm.exec("dd if=/dev/vda bs=512 skip=3 count=1 2>/dev/null | head -c 18; echo")).toBe("vireo-dropped-disk");
  await vm.poweroff();
});
