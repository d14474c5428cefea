// A failed boot fails the CLI run at once, with one exit code per outcome (cli/exit-codes.ts)
// and the reason: --help lists the table; a bad option, a truncated or random initrd (refused
// before the guest runs), a timeout, a guest kernel panic (through pvpanic, the run ends as the
// guest reports it) and a reboot with --no-reboot (the default for --cmd runs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT } from "../../cli/exit-codes.ts";
import { SCRIPTED_TIMEOUT_S } from "../../cli/options.ts";

const root = new URL("../../", import.meta.url).pathname;
const cli = ["--import", "tsx", "cli/boot.ts"];
/** Whether the committed kernel has the pvpanic driver (its config says; config/*.fragment asks for it). */
const kernelHasPvpanic = /^CONFIG_PVPANIC_PCI=y$/m.test(readFileSync(new URL("guest-images/config/bzImage.config", `file://${root}`), "utf8"));
const via = kernelHasPvpanic ? "pvpanic" : "console";

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

test("a guest kernel panic ends the run within a second of the panic line, with exit 4", { timeout: 180_000 }, async () => {
  // The default guest's shell is PID 1: `exit` kills init.
  const p = spawn(process.execPath, [...cli, "--cmd", "exit", "--stats"], { cwd: root });
  let out = "";
  let err = "";
  let panicAt = 0;
  p.stdout.on("data", (b: Buffer) => {
    out += b.toString("latin1");
    if (!panicAt && out.includes("Kernel panic - not syncing")) panicAt = performance.now();
  });
  p.stderr.on("data", (b: Buffer) => void (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => p.on("exit", resolve));
  const after = performance.now() - panicAt;
  assert.equal(code, EXIT.panic.code, err + out.slice(-2000));
  assert.match(err, new RegExp(`vireo: guest kernel panicked \\(${kernelHasPvpanic ? "reported by pvpanic" : "seen on the console"}\\): Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000\n`));
  assert.equal(JSON.parse(out.slice(out.lastIndexOf("\n{"))).panicVia, via);
  assert.ok(panicAt > 0 && after < 1000, `exited ${Math.round(after)} ms after the panic line`);
  process.stderr.write(`panic: exit ${code} ${Math.round(after)} ms after the panic line\n`);
});

test("--no-reboot is the default for --cmd runs: reboot -f exits 5; --reboot resets instead", () => {
  const r = boot(["--clock", "deterministic", "--cmd", "reboot -f"]);
  assert.equal(r.code, EXIT.reboot.code, r.err + r.out.slice(-1000));
  assert.match(r.err, /vireo: the guest rebooted \(a reset request\) and --no-reboot is in effect/);
  const both = boot(["--reboot", "--no-reboot", "--cmd", "true"]);
  assert.equal(both.code, EXIT.usage.code);
});
