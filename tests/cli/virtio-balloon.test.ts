// virtio-balloon in the default guest (Linux 6.1 virtio_balloon, built in): asked for 32 MiB at
// power-on, the driver inflates by 8192 pages during probe, tells the device `actual`, and the
// guest's MemTotal is 32 MiB smaller than without a balloon (no DEFLATE_ON_OOM: ballooned pages
// leave the managed total). Legacy and modern config paths: pci-legacy and mmio-v2.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

const root = new URL("../../", import.meta.url).pathname;
const CMD = "grep MemTotal /proc/meminfo; readlink /sys/bus/virtio/devices/virtio0/driver";

function boot(devices: string[]): { out: string; stats: Record<string, Record<string, number>>; memTotalKiB: number } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/boot.ts", "--timeout", "120", "--clock", "deterministic", "--stats",
    ...devices.flatMap((d) => ["--device", d]), "--cmd", CMD], { cwd: root, encoding: "utf8", timeout: 150_000 });
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  const out = r.stdout.replace(/\r/g, "");
  return { out, stats: JSON.parse(out.slice(out.lastIndexOf("\n{"))).virtio, memTotalKiB: Number(out.match(/^MemTotal:\s+(\d+) kB$/m)![1]) };
}

let plain: number | undefined;

for (const transport of ["pci-legacy", "mmio-v2"]) {
  test(`balloon on ${transport}: 32 MiB inflated at boot leave MemTotal`, () => {
    plain ??= boot([]).memTotalKiB;
    const { out, stats: virtio, memTotalKiB } = boot([`balloon,transport=${transport},mib=32`]);
    assert.match(out, /\/virtio_balloon\n/);
    const stats = virtio["virtio-balloon0"]!;
    assert.equal(stats.targetPages, 8192);
    assert.equal(stats.actualPages, 8192, "the driver wrote actual");
    assert.equal(stats.heldPages, 8192);
    assert.equal(stats.refused, 0);
    assert.ok(stats.statsUpdates! >= 1, "the stats buffer primed at probe arrived");
    assert.equal(memTotalKiB + 32 * 1024, plain);
    // The stats report came at probe, before inflating and before the kernel freed its init
    // sections (a few hundred KiB): about the balloon-less total.
    assert.ok(Math.abs(stats["guest.memTotal"]! - plain * 1024) < 1 << 20, `stats memTotal ${stats["guest.memTotal"]}, MemTotal ${plain} kB`);
  });
}
