// A failed boot fails the CLI run at once, with one exit code per outcome (cli/exit-codes.ts)
// and the reason: --help lists the table; a bad option, a truncated or random initrd (refused
// before the guest runs), a timeout, a guest kernel panic (the default kernels report it through
// pvpanic; a kernel whose driver never binds is caught by its console line) and a reboot with
// --no-reboot (the default for --cmd runs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT } from "../../cli/exit-codes.ts";
import { SCRIPTED_TIMEOUT_S } from "../../cli/options.ts";
import { DEFAULT_CMDLINE } from "../../devices/vm/config.ts";

const root = new URL("../../", import.meta.url).pathname;
const cli = ["--import", "tsx", "cli/boot.ts"];

function boot(args: string[], timeoutS = 120) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...cli, ...args], { cwd: root, encoding: "utf8", timeout: timeoutS * 1000 });
  return { code: r.status, out: r.stdout.replace(/\r/g, ""), err: r.stderr, ms: performance.now() - t0 };
}

test("--help lists each exit code of the table, and the table has one code per outcome", () => {
  const r = boot(["--help"]);
  assert.equal(r.code, EXIT.ok.code);
  const listed = r.out.slice(r.out.indexOf("Exit codes:")).split("\n").slice(1)
    .map((l) => /^\s+(\d+)\s+(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [Number(m![1]), m![2]]);
  assert.deepEqual(listed, Object.values(EXIT).map((e) => [e.code, e.text]));
  assert.equal(new Set(listed.map(([c]) => c)).size, listed.length, "codes are distinct");
  assert.match(r.out, new RegExp(`--timeout S\\|none .*\\n.* ${SCRIPTED_TIMEOUT_S} s for a --cmd/--expect run`));
  assert.match(r.out, /--no-reboot .*\n.*the default for --cmd and\n\s+--expect runs/);
  // The README lists the same table.
  const readme = readFileSync(new URL("README.md", `file://${root}`), "utf8");
  for (const e of Object.values(EXIT)) assert.ok(readme.includes(`| ${e.code} | ${e.text} |`), `README lacks exit code ${e.code}`);
});

test("a bad option exits 2; a timeout exits 3", () => {
  const bad = boot(["--mem", "5"]);
  assert.equal(bad.code, EXIT.usage.code);
  assert.match(bad.err, /^vireo: --mem must be/);
  const slow = boot(["--expect", "text the guest never prints", "--timeout", "2"]);
  assert.equal(slow.code, EXIT.timeout.code, slow.err);
  assert.match(slow.err, /vireo: timeout: 2 s passed without 'text the guest never prints'/);
});

test("truncated and random initrds: exit 2 with the reason before the guest runs", () => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-initrd-"));
  const gz = readFileSync(new URL("guest-images/initramfs.cpio.gz", `file://${root}`));
  const random = new Uint8Array(1 << 20);
  for (let i = 0, x = 7; i < random.length; i++) random[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const cases: [string, Uint8Array, RegExp][] = [
    ["truncated.cpio.gz", gz.subarray(0, 1000), /^vireo: initrd \(gzip at byte 0\): the gzip stream ends early \(the file is truncated\)\n$/],
    ["random.img", random, /^vireo: initrd: not an initramfs: it starts with [0-9a-f ]{11}, neither a newc cpio archive/],
  ];
  for (const [name, bytes, reason] of cases) {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    const r = boot(["--initrd", file, "--cmd", "echo alive", "--stats"]);
    assert.equal(r.code, EXIT.usage.code, `${name}: ${r.err}`);
    assert.match(r.err, reason);
    const stats = JSON.parse(r.out.slice(r.out.lastIndexOf("\n{")));
    assert.equal(stats.reason, "image");
    assert.equal(stats.instructions, 0, "no guest instruction ran");
    assert.ok(stats.wallSeconds < 1, `${name}: the check took ${stats.wallSeconds} s`);
    process.stderr.write(`${name}: exit ${r.code} after ${Math.round(r.ms)} ms (check ${Math.round(stats.wallSeconds * 1000)} ms)\n`);
  }
});

/** A run that should end in a guest kernel panic: how it ended, and how long after the panic line came. */
async function panicking(args: string[]) {
  const p = spawn(process.execPath, [...cli, ...args, "--stats"], { cwd: root });
  let out = "";
  let err = "";
  let panicAt = 0;
  p.stdout.on("data", (b: Buffer) => {
    out += b.toString("latin1");
    if (!panicAt && out.includes("Kernel panic - not syncing")) panicAt = performance.now();
  });
  p.stderr.on("data", (b: Buffer) => void (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => p.on("exit", resolve));
  const afterMs = Math.round(performance.now() - panicAt);
  assert.equal(code, EXIT.panic.code, err + out.slice(-2000));
  assert.ok(panicAt > 0 && afterMs < 1000, `exited ${afterMs} ms after the panic line`);
  const stats = JSON.parse(out.slice(out.lastIndexOf("\n{")));
  return { err, out, stats, afterMs };
}

// Three ways to panic, each with the reason the kernel gives (init/do_mounts.c, kernel/exit.c,
// drivers/tty/sysrq.c). An initramfs with /init makes the kernel ignore init=; with rdinit= naming
// no file it mounts root= instead, and there is none. The default guest's shell is PID 1 (its
// /init execs it): `exit` kills init.
const NO_INIT = `${DEFAULT_CMDLINE} rdinit=/nonexistent`;
const NO_ROOT = "VFS: Unable to mount root fs on unknown-block(0,0)";
const panics: [string, string[], string][] = [
  ["rdinit=/nonexistent", ["--append", NO_INIT], NO_ROOT],
  ["the shell (PID 1) exits", ["--cmd", "exit"], "Attempted to kill init! exitcode=0x00000000"],
  ["echo c > /proc/sysrq-trigger", ["--cmd", "echo c > /proc/sysrq-trigger"], "sysrq triggered crash"],
];
// Both default kernels; on the APIC one, the panic from a running shell alone (each boot costs seconds).
const kernels: [string, string[], typeof panics][] = [
  ["bzImage", [], panics],
  ["bzImage-apic --apic", ["--kernel", "guest-images/bzImage-apic", "--apic"], panics.slice(2)],
];

for (const [kernel, kernelArgs, cases] of kernels) {
  test(`${kernel}: a guest kernel panic is reported by pvpanic and ends the run within a second, with exit 4`, { timeout: 300_000 }, async () => {
    for (const [what, args, reason] of cases) {
      const r = await panicking([...kernelArgs, ...args]);
      assert.equal(r.err, `vireo: guest kernel panicked (reported by pvpanic): Kernel panic - not syncing: ${reason}\n`, what);
      assert.equal(r.stats.panicVia, "pvpanic", what);
      process.stderr.write(`${kernel}, ${what}: exit 4 ${r.afterMs} ms after the panic line\n`);
    }
  });
}

test("a kernel whose pvpanic driver never binds: the console's panic line ends the run (the fallback)", { timeout: 120_000 }, async () => {
  // pci=off: the kernel scans no PCI bus, so the driver never reads the device — to the host,
  // the same as a kernel built without it.
  const r = await panicking(["--append", `${NO_INIT} pci=off`]);
  assert.equal(r.err, `vireo: guest kernel panicked (seen on the console): Kernel panic - not syncing: ${NO_ROOT}\n`);
  assert.equal(r.stats.panicVia, "console");
  process.stderr.write(`pci=off: exit 4 ${r.afterMs} ms after the panic line\n`);
});

test("--no-reboot is the default for --cmd runs: reboot -f exits 5; --reboot resets instead", () => {
  const r = boot(["--clock", "deterministic", "--cmd", "reboot -f"]);
  assert.equal(r.code, EXIT.reboot.code, r.err + r.out.slice(-1000));
  assert.match(r.err, /vireo: the guest rebooted \(a reset request\) and --no-reboot is in effect/);
  const both = boot(["--reboot", "--no-reboot", "--cmd", "true"]);
  assert.equal(both.code, EXIT.usage.code);
});
