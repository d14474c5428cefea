// Headless boots of the default guest through the real CLI (`npm run boot`), with the
// deterministic clock. Expected values come from outside the emulator: the host's md5sum of
// the same bytes, the kernel's own strings, the CPUID features the guest requires.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../../", import.meta.url).pathname;

function boot(args: string[], timeoutS = 120) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/boot.ts", "--timeout", String(timeoutS), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: (timeoutS + 30) * 1000,
  });
  return { code: r.status, out: r.stdout.replace(/\r/g, ""), err: r.stderr };
}

/** Output of the command typed at the prompt, up to the next prompt. */
function outputOf(out: string, cmd: string): string {
  const start = out.indexOf(cmd + "\n");
  assert.ok(start >= 0, `command '${cmd}' was not echoed:\n${out.slice(-2000)}`);
  const rest = out.slice(start + cmd.length + 1);
  // Kernel messages can land between a command's lines on the serial console; drop them.
  return rest.slice(0, rest.search(/vireo:[^\n]*# /)).replace(/^\[ *\d+\.\d+\] .*\n/gm, "");
}

test("the default guest boots and runs commands (deterministic clock)", () => {
  const input = "pear\napple\nfig\nbanana\n";
  const sorted = input.split("\n").filter(Boolean).sort().join("\n") + "\n";
  const cmds = [
    "uname -a",
    "cat /proc/cpuinfo",
    "echo $((6*7))",
    "ls /sys/bus/pci/devices",
    `printf '${input.replace(/\n/g, "\\n")}' | sort | md5sum`,
    "cut -d' ' -f1 /proc/uptime; sleep 2; cut -d' ' -f1 /proc/uptime",
  ];
  const r = boot(["--clock", "deterministic", "--stats", ...cmds.flatMap((c) => ["--cmd", c])]);
  assert.equal(r.code, 0, `exit ${r.code}\n${r.err}\n${r.out.slice(-3000)}`);
  assert.match(r.out, /vireo-guest: ready/);

  assert.match(outputOf(r.out, cmds[0]!), /^Linux vireo 6\.1\.\d+ #1 .* i686 GNU\/Linux\n$/);
  const cpuinfo = outputOf(r.out, cmds[1]!);
  assert.match(cpuinfo, /^cpu family\s*: 6$/m);
  const flags = cpuinfo.match(/^flags\s*: (.*)$/m)![1]!.split(" ");
  for (const f of ["fpu", "tsc", "cx8", "cmov", "pse", "pge"]) assert.ok(flags.includes(f), `cpuinfo flags lack ${f}: ${flags}`);
  assert.equal(outputOf(r.out, cmds[2]!), "42\n");
  // Bus 0 has the host bridge at 00.0 (Linux's PCI sanity check needs it), and the pvpanic
  // device in the first free slot.
  assert.match(outputOf(r.out, cmds[3]!), /^0000:00:00\.0\s+0000:00:01\.0\n/);
  const md5 = createHash("md5").update(sorted).digest("hex");
  assert.equal(outputOf(r.out, cmds[4]!), `${md5}  -\n`);

  // sleep(1) really waits (32-bit time_t syscalls are in the guest kernel; time advances while
  // the guest halts).
  const [t0, t1] = outputOf(r.out, cmds[5]!).trim().split("\n").map(Number);
  assert.ok(t1! - t0! >= 2 && t1! - t0! < 2.5, `uptime ${t0} -> ${t1} across sleep 2`);

  const stats = JSON.parse(r.out.trim().split("\n").pop()!);
  assert.equal(stats.reason, "poweroff");
  assert.ok(stats.instructions > 30e6, `instructions ${stats.instructions}`); // the boot alone is ~30 M
});

test("two deterministic runs give the same transcript and instruction count", () => {
  const args = ["--clock", "deterministic", "--stats", "--cmd", "cat /proc/uptime /proc/interrupts"];
  const a = boot(args);
  const b = boot(args);
  assert.equal(a.code, 0, a.err);
  assert.equal(b.code, 0, b.err);
  const [ta, sa] = [a.out.slice(0, a.out.lastIndexOf("\n{")), JSON.parse(a.out.slice(a.out.lastIndexOf("\n{")))];
  const [tb, sb] = [b.out.slice(0, b.out.lastIndexOf("\n{")), JSON.parse(b.out.slice(b.out.lastIndexOf("\n{")))];
  assert.equal(ta, tb);
  assert.equal(sa.instructions, sb.instructions);
});

test("--guest-decompress: the kernel's own decompressor and gunzip run in the guest, to the same shell", () => {
  const cmd = "uname -r; md5sum /init";
  const args = ["--clock", "deterministic", "--stats", "--cmd", cmd];
  const host = boot(args);
  const guest = boot(["--guest-decompress", ...args]);
  assert.equal(host.code, 0, host.err);
  assert.equal(guest.code, 0, `exit ${guest.code}\n${guest.err}\n${guest.out.slice(-2000)}`);
  assert.equal(outputOf(guest.out, cmd), outputOf(host.out, cmd));
  const instructions = (r: { out: string }) => JSON.parse(r.out.slice(r.out.lastIndexOf("\n{"))).instructions as number;
  // To the ready line: 30.1 M instructions unpacked on the host, 95.1 M in the guest.
  assert.ok(instructions(guest) - instructions(host) > 40e6, `host ${instructions(host)}, guest ${instructions(guest)}`);
});

test("bad input is one clear line and a non-zero exit", () => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-"));
  const junk = join(dir, "junk");
  writeFileSync(junk, "this is not a kernel\n".repeat(500));
  const cases: [string[], RegExp][] = [
    [["--kernel", join(dir, "missing")], /^vireo: cannot read kernel '.*missing': ENOENT\n$/],
    [["--kernel", junk], /^vireo: not a Linux bzImage/],
    [["--mem", "8"], /^vireo: --mem must be a whole number of MiB from 16 to 2000/],
    [["--mem", "16", "--expect", "x"], /^vireo: too little RAM: 16 MiB given/],
    [["--clock", "fast"], /^vireo: --clock must be/],
  ];
  for (const [args, re] of cases) {
    const r = boot(args, 20);
    assert.notEqual(r.code, 0, args.join(" "));
    assert.match(r.err, re, args.join(" "));
    assert.equal(r.err.trim().split("\n").length, 1, `one line for ${args.join(" ")}: ${r.err}`);
    assert.doesNotMatch(r.err, /\bat .*\.ts:\d+/, "no stack trace");
  }
});
