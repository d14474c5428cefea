// The page's virtio devices on each of the five transports, chosen through the URL
// (?disk=T&console=T&rng=T): the guest's own drivers bind them, the disk reads and writes
// through virtio_blk, the shell runs on hvc0, and a window resize reaches the guest's tty through
// the console's config-change interrupt. The same checks as tests/cli/virtio-boot.ts, in the page.
import { test, expect, type Vm } from "./fixtures.ts";
import { TRANSPORT_KINDS, type TransportKind } from "../devices/virtio/device.ts";

/** virtio 1.2 §4.1.2.1: transitional devices keep the legacy IDs, 0x1000 + type - 1; modern ones are 0x1040 + type. */
const PCI_BLK_ID: Partial<Record<TransportKind, string>> = { "pci-legacy": "0x1001", "pci-transitional": "0x1001", "pci-modern": "0x1042" };
const MODERN = new Set<TransportKind>(["pci-modern", "pci-transitional", "mmio-v2"]);
/** The disk is the page's data disk, guest-images/data-ext2.img.gz: 64 MiB. */
const DATA_DISK_SECTORS = 64 * 2048;

/** Kernel log lines can land in the middle of a command's output on the console. */
async function run(vm: Vm, cmd: string): Promise<string> {
  return (await vm.exec(cmd)).replace(/^\[ *\d+\.\d+\] .*\n?/gm, "").trim();
}

for (const t of TRANSPORT_KINDS) {
  test(`disk, console and rng on ${t}`, async ({ vm, page }) => {
    await vm.boot({ disk: t, console: t, rng: t });
    // The address keeps the choice (the default, pci-modern, is left out of it).
    expect(new URL(page.url()).searchParams.get("disk")).toBe(t === "pci-modern" ? null : t);
    expect(await page.evaluate(() => window.vireo!.settings().devices.disk)).toBe(t);
    expect(await run(vm, "tty")).toBe("/dev/hvc0");

    // Bound by the in-tree drivers, in the page's device order (console, disk, rng).
    // (Commands stay under 80 columns: the shell's line editor wraps longer echoes.)
    await run(vm, "v=/sys/bus/virtio/devices");
    const bound = await run(vm, "for d in $v/*; do echo ${d##*/} $(basename $(readlink $d/driver)); done");
    expect(bound).toBe("virtio0 virtio_console\nvirtio1 virtio_blk\nvirtio2 virtio_rng");

    // The transport the disk sits on: its parent device in sysfs, PCI ids, VERSION_1 (bit 32).
    const path = await run(vm, "readlink -f /sys/block/vda/device");
    if (t.startsWith("pci")) {
      expect(path).toMatch(/\/pci0000:00\/0000:00:02\.0\/virtio1$/);
      expect(await run(vm, "cat /sys/block/vda/device/../device")).toBe(PCI_BLK_ID[t]);
      expect(await run(vm, "cat /sys/block/vda/device/../vendor")).toBe("0x1af4");
    } else {
      // Devices from virtio_mmio.device= hang under a virtio-mmio-cmdline parent.
      expect(path).toMatch(/\/virtio-mmio-cmdline\/virtio-mmio\.1\/virtio1$/);
      expect(await run(vm, "cat /proc/cmdline")).toMatch(/virtio_mmio\.device=0x200@0xd0000200:\d+/);
    }
    const features = await run(vm, "cat /sys/block/vda/device/features");
    expect(features[32], `VERSION_1 in ${features}`).toBe(MODERN.has(t) ? "1" : "0");

    // The disk works through virtio_blk: its size, and a sector written, flushed out of the
    // page cache (blockdev --flushbufs) and read back from the device. (Each test has its own
    // browser context, so the sector written over the ext2 image lands in a fresh overlay.)
    expect(await run(vm, "cat /sys/block/vda/size")).toBe(String(DATA_DISK_SECTORS));
    const mark = `vireo-${t}`;
    expect(await run(vm, `printf ${mark} | dd of=/dev/vda seek=777 conv=fsync; echo $?`)).toBe("0+1 records in\n0+1 records out\n0");
    expect(await run(vm, "blockdev --flushbufs /dev/vda; echo $?")).toBe("0");
    expect(await run(vm, `dd if=/dev/vda skip=777 count=1 2>/dev/null | head -c ${mark.length}; echo`)).toBe(mark);
    expect(await run(vm, "head -c 4096 /dev/hwrng | wc -c")).toBe("4096");

    // The terminal's size reaches the guest tty: at activation, and again after a resize.
    const sttySize = async () => {
      const { cols, rows } = await page.evaluate(() => window.vireo!.termSize());
      await expect.poll(() => run(vm, "stty size"), { timeout: 10_000 }).toBe(`${rows} ${cols}`);
    };
    await sttySize();
    const before = await page.evaluate(() => window.vireo!.termSize());
    await page.setViewportSize({ width: 900, height: 500 });
    await expect.poll(() => page.evaluate(() => window.vireo!.termSize().cols)).not.toBe(before.cols);
    await sttySize();

    await vm.poweroff();
    const exit = await vm.exitStats();
    const virtio = exit!.stats.virtio as Record<string, { transport: string; notifications: number; interrupts: number; configInterrupts: number; rejected: number }>;
    for (const name of ["virtio-console0", "virtio-blk0", "virtio-rng0"]) {
      expect(virtio[name]!.transport).toBe(t);
      expect(virtio[name]!.notifications, name).toBeGreaterThan(0);
      expect(virtio[name]!.rejected, name).toBe(0);
    }
    expect(virtio["virtio-console0"]!.configInterrupts, "initial size + one resize").toBeGreaterThanOrEqual(2);
  });
}
