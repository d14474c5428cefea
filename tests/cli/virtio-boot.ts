// One headless boot per virtio transport (tests/cli/virtio-*.test.ts), through the real CLI with
// the deterministic clock: console on hvc0 (virtio-console), a virtio-blk disk image, and
// virtio-rng, all on the transport under test. Expected values come from outside the emulator:
// the host's md5 of the image, the bytes a guest `dd … conv=fsync` must leave in the host file,
// the feature bits the transport offers.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../../", import.meta.url).pathname;

export function boot(args: string[], timeoutS = 120) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/boot.ts", "--timeout", String(timeoutS), ...args], {
    cwd: root, encoding: "utf8", timeout: (timeoutS + 30) * 1000,
  });
  return { code: r.status, out: r.stdout.replace(/\r/g, ""), err: r.stderr };
}

/** Output of the command typed at the prompt, up to the next prompt (kernel lines dropped). */
export function outputOf(out: string, cmd: string): string {
  const start = out.indexOf(cmd + "\n");
  assert.ok(start >= 0, `command '${cmd}' was not echoed:\n${out.slice(-3000)}`);
  const rest = out.slice(start + cmd.length + 1);
  return rest.slice(0, rest.search(/vireo:[^\n]*# /)).replace(/^\[ *\d+\.\d+\] .*\n/gm, "");
}

const MARK = "VIREO-DD-CHECK";
const SEEK_SECTORS = 777;

export interface TransportCheckOptions {
  /**
   * The APIC board (--apic) with bzImage-apic and every device on MSI-X (irq=msix): the guest
   * must then show one PCI-MSI vector for config changes plus one per queue for each device.
   */
  msix?: boolean;
}

/** Queues per device as the guest names its MSI-X vectors (virtioN-<queue name>). */
const MSIX_NAMES: Record<string, string[]> = {
  virtio0: ["config", "input", "output"], // console: receiveq, transmitq (no MULTIPORT)
  virtio1: ["config", "req.0"], // blk: one request queue
  virtio2: ["config", "input"], // rng
};

export function checkTransport(transport: string, opts: TransportCheckOptions = {}): void {
  const dir = mkdtempSync(join(tmpdir(), "vireo-virtio-"));
  try {
    const image = join(dir, "disk.img");
    const bytes = randomBytes(2 << 20);
    writeFileSync(image, bytes);
    const md5 = createHash("md5").update(bytes).digest("hex");
    // The busybox shell wraps long echoed lines at 80 columns; keep commands short.
    const cmds = [
      "v=/sys/bus/virtio/devices",
      "for d in $v/*; do echo ${d##*/} $(readlink $d/driver); done",
      "cat $v/*/features",
      "md5sum /dev/vda",
      `printf ${MARK}|dd of=/dev/vda seek=${SEEK_SECTORS} conv=fsync`,
      "head -c 4096 /dev/hwrng | wc -c",
      "tty",
      ...(opts.msix ? ["grep PCI-MSI /proc/interrupts"] : []),
    ];
    const irq = opts.msix ? ",irq=msix" : "";
    const r = boot([
      "--clock", "deterministic", "--stats", "--append", "console=hvc0 tsc=reliable pty.legacy_count=0",
      ...(opts.msix ? ["--apic", "--kernel", "guest-images/bzImage-apic"] : []),
      "--device", `console,transport=${transport}${irq}`,
      "--device", `blk,transport=${transport},image=${image}${irq}`,
      "--device", `rng,transport=${transport}${irq}`,
      ...cmds.flatMap((c) => ["--cmd", c]),
    ]);
    assert.equal(r.code, 0, `exit ${r.code}\n${r.err}\n${r.out.slice(-3000)}`);

    const bound = outputOf(r.out, cmds[1]!).replace(/ \S*\/drivers\//g, " ");
    assert.equal(bound, "virtio0 virtio_console\nvirtio1 virtio_blk\nvirtio2 virtio_rng\n");
    const features = outputOf(r.out, cmds[2]!).trim().split("\n");
    assert.equal(features.length, 3);
    const modern = transport !== "pci-legacy" && transport !== "mmio-v1";
    for (const f of features) {
      // /sys/…/features: one character per bit, bit 0 first.
      assert.equal(f[32], modern ? "1" : "0", `VERSION_1 in ${f}`);
      assert.equal(f[34], modern ? "1" : "0", `RING_PACKED in ${f}`);
      assert.equal(f[28], "1", `INDIRECT_DESC in ${f}`);
      assert.equal(f[29], "1", `EVENT_IDX in ${f}`);
    }
    assert.equal(outputOf(r.out, cmds[3]!), `${md5}  /dev/vda\n`);
    assert.match(outputOf(r.out, cmds[4]!), /^0\+1 records in\n0\+1 records out\n/);
    const after = readFileSync(image);
    const at = SEEK_SECTORS * 512;
    assert.equal(after.subarray(at, at + MARK.length).toString("latin1"), MARK);
    assert.ok(after.subarray(0, at).equals(bytes.subarray(0, at)), "bytes before the write unchanged");
    assert.ok(after.subarray(at + MARK.length).equals(bytes.subarray(at + MARK.length)), "bytes after the write unchanged");
    assert.equal(outputOf(r.out, cmds[5]!), "4096\n");
    assert.equal(outputOf(r.out, cmds[6]!), "/dev/hvc0\n");
    if (opts.msix) {
      // "NN:  count  PCI-MSI  hwirq-edge  virtioK-name": one line per vector.
      const lines = outputOf(r.out, cmds[7]!).trim().split("\n");
      const names = lines.map((l) => l.trim().split(/\s+/).pop()!).sort();
      const expected = Object.entries(MSIX_NAMES).flatMap(([dev, qs]) => qs.map((q) => `${dev}-${q}`)).sort();
      assert.deepEqual(names, expected, lines.join("\n"));
      for (const l of lines) assert.match(l, /PCI-MSI \d+-edge/);
    }

    const stats = JSON.parse(r.out.trim().split("\n").pop()!);
    assert.equal(stats.reason, "poweroff");
    for (const name of ["virtio-console0", "virtio-blk0", "virtio-rng0"]) {
      const s = stats.virtio[name];
      assert.equal(s.transport, transport);
      assert.ok(s.notifications > 0 && s.interrupts > 0, `${name}: ${JSON.stringify(s)}`);
      assert.equal(s.rejected, 0, `${name}: no rejected accesses`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
