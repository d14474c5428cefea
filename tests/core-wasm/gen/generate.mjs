// Runs every case from groups.mjs on the real processor (through runner.c, built with
// gcc -m32) and every case of groups64.mjs (through runner64.c, 64-bit mode, for hosts that
// cannot run 32-bit code) and writes tests/core-wasm/vectors/<group>.json. Usage: see generate.sh.
//
//   node tests/core-wasm/gen/generate.mjs <runner | -> <runner64 | -> [group ...]
// ("-": that runner cannot run on this host; its groups are left as they are.)
//
// Vector file format (read by tests/core-wasm/cpu-vectors.test.ts):
//   { "group", "about", "host", "base": [eax..edi], "tests": [ { "name", "mask", "cases": [...] } ] }
//   case = [code, in, out] or [code, in, out, extra]
//     code   instruction bytes, hex
//     in     [eflags, reg, value, reg, value, ...]: EFLAGS (status flags and DF) and the registers
//            that differ from "base" (0..7 = EAX ECX EDX EBX ESP EBP ESI EDI)
//     out    [eflags, reg, value, ...]: EFLAGS after (status flags and DF, unmasked) and the
//            registers that differ from the inputs. For an exception: the state at the fault.
//     extra  { m: EFLAGS mask if not the test's, u: bitmask of registers with undefined results,
//              x: exception vector raised by the instruction (it faulted; EIP = its first byte),
//              wa: address of the memory window if not 0x00200000 (16-bit addressing uses 0x8000),
//              mi: memory window before (hex), mo: the bytes that differ after,
//              as runs [offset, hex, offset, hex, ...] (absent: the window is unchanged) }
//   Only EFLAGS bits in the mask are defined by the Intel SDM for that case; compare those.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GROUPS } from "./groups.mjs";
import { GROUPS64 } from "./groups64.mjs";
import { ALL, hex } from "./x86.mjs";
import { memDiff } from "./mem-diff.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "../vectors");
const runner32 = process.argv[2], runner64 = process.argv[3];
if (!runner32 || !runner64) {
  console.error("usage: node generate.mjs <runner | -> <runner64 | -> [group ...]");
  process.exit(2);
}
const only = process.argv.slice(4);
const h = (v) => (v >>> 0).toString(16);

function host() {
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const get = (k) => (info.match(new RegExp(`^${k}\\s*: (.*)$`, "m")) ?? [])[1] ?? "?";
    return `${get("vendor_id")} ${get("model name")} family ${get("cpu family")} model ${get("model")} stepping ${get("stepping")}`;
  } catch {
    return "unknown";
  }
}

function runNative(runner, lines) {
  const r = spawnSync(runner, [], { input: lines.join("\n") + "\n", maxBuffer: 1 << 30, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`runner failed (${r.status}): ${r.stderr}`);
  const out = r.stdout.trim().split("\n");
  if (out.length !== lines.length) throw new Error(`runner answered ${out.length} of ${lines.length} cases`);
  return out;
}

/** Exceptions that push an error code (SDM vol. 3 table 6-1). */
const ERROR_CODE = [8, 10, 11, 12, 13, 14, 17];

const hostName = host();
mkdirSync(outDir, { recursive: true });
let total = 0;
const ALL_GROUPS = [
  ...Object.entries(GROUPS).map(([name, make]) => ({ name, make, runner: runner32, how: "groups.mjs + runner.c, run natively with gcc -m32" })),
  ...Object.entries(GROUPS64).map(([name, make]) => ({ name, make, runner: runner64, how: "groups64.mjs + runner64.c, run natively in 64-bit mode" })),
];
for (const { name, make, runner, how } of ALL_GROUPS) {
  if (only.length && !only.includes(name)) continue;
  if (runner === "-") {
    if (only.includes(name)) throw new Error(`${name}: its runner cannot run on this host`);
    console.log(`${name}: skipped (its runner cannot run on this host; the checked-in file stays)`);
    continue;
  }
  const g = make();
  const all = g.tests.flatMap((t) => t.cases.map((c) => ({ t, c })));
  const lines = all.map(({ c }) =>
    [hex(c.code), h(c.flags), ...c.regs.map(h), c.mem ? (c.at ? h(c.at) + ":" : "") + hex(c.mem) : "-"].join(" "));
  const res = runNative(runner, lines);
  // Undefined flags must at least be stable on this machine, or the vectors would churn.
  const again = runNative(runner, lines);
  for (let i = 0; i < res.length; i++) {
    if (res[i] !== again[i]) throw new Error(`${name}: case ${lines[i]} is not deterministic:\n${res[i]}\n${again[i]}`);
  }
  const byTest = new Map(g.tests.map((t) => [t, []]));
  res.forEach((line, i) => {
    const { t, c } = all[i];
    const f = line.split(" ");
    const flags = parseInt(f[0], 16) & ALL;
    const regs = f.slice(1, 9).map((x) => parseInt(x, 16) >>> 0);
    const trap = parseInt(f[9], 10), at = parseInt(f[10], 10), err = parseInt(f[11], 10), memAfter = f[12];
    const inp = [c.flags];
    for (let r = 0; r < 8; r++) if (c.regs[r] !== g.base[r]) inp.push(r, c.regs[r]);
    const out = [flags];
    for (let r = 0; r < 8; r++) if (regs[r] !== c.regs[r]) out.push(r, regs[r]);
    const extra = {};
    if (c.mask !== undefined && c.mask !== t.mask) extra.m = c.mask;
    if (c.undef) extra.u = c.undef;
    if (trap >= 0) {
      if (!c.fault) throw new Error(`${name}/${t.name}: unexpected exception ${trap} in case ${lines[i]}`);
      if (at < 0 || at >= c.code.length + 1) throw new Error(`${name}/${t.name}: fault at offset ${at}, outside the case: ${lines[i]}`);
      extra.x = trap;
      if (at !== 0) extra.xe = at; // a trap (INT3, INTO): EIP after the instruction
      if (ERROR_CODE.includes(trap)) extra.xc = err;
    }
    if (c.mem) {
      if (c.at) extra.wa = c.at;
      extra.mi = hex(c.mem);
      if (memAfter !== extra.mi) extra.mo = memDiff(extra.mi, memAfter);
    }
    const row = [hex(c.code), inp, out];
    if (Object.keys(extra).length) row.push(extra);
    byTest.get(t).push(row);
  });
  const text = [
    "{",
    `"group": ${JSON.stringify(name)},`,
    `"about": ${JSON.stringify(g.about)},`,
    `"generator": "tests/core-wasm/gen/generate.sh (${how})",`,
    `"host": ${JSON.stringify(hostName)},`,
    `"base": ${JSON.stringify(g.base)},`,
    `"tests": [`,
    g.tests.map((t) => [
      `{"name": ${JSON.stringify(t.name)}, "mask": ${t.mask}, "cases": [`,
      byTest.get(t).map((row) => JSON.stringify(row)).join(",\n"),
      "]}",
    ].join("\n")).join(",\n"),
    "]}",
    "",
  ].join("\n");
  writeFileSync(join(outDir, `${name}.json`), text);
  total += all.length;
  console.log(`${name}: ${g.tests.length} tests, ${all.length} cases, ${(text.length / 1024).toFixed(0)} KiB`);
}
console.log(`total: ${total} cases`);
