// The bench's arithmetic and table on fixed numbers (no VMs): `npm run bench` itself is not
// part of npm test, but its pure code stays compiled and checked here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fmt, formatTable, median, pairedRatios, row, target } from "../../bench/table.ts";
import { blkScript, consoleScript, cpuScript, seqBytes } from "../../bench/workloads.ts";

test("median of odd and even counts, ignoring non-finite values", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([NaN, 5, Infinity]), 5);
  assert.equal(median([]), null);
});

test("a row keeps median, min, max and the finite values in run order", () => {
  const r = row("cpu", "md5sum", "s", [12, null, 10, NaN, 11, undefined]);
  assert.deepEqual([r.median, r.min, r.max, r.values], [11, 10, 12, [12, 10, 11]]);
  const empty = row("io", "x", "MiB/s", [null]);
  assert.deepEqual([empty.median, empty.min, empty.max, empty.values], [null, null, null, []]);
});

test("ratios pair run i with run i and skip missing runs", () => {
  assert.deepEqual(pairedRatios([4, 6, null, 9], [2, 3, 1, 0]), [2, 2]);
});

test("targets: met, missed, not measured", () => {
  assert.equal(target("mips", 151, "MIPS", ">=", 150).met, true);
  assert.equal(target("boot", 2.5, "x", "<=", 2).met, false);
  assert.equal(target("idle", 1.9, "% core", "<", 2).met, true);
  assert.equal(target("idle", null, "% core", "<", 2).met, null);
  assert.equal(target("mips", 30, "MIPS", ">=", 150).goal, ">= 150 MIPS");
});

test("number formatting", () => {
  assert.deepEqual([fmt(62_080_000), fmt(1.5e9), fmt(123.4), fmt(12.34), fmt(1.234), fmt(0.0123), fmt(null), fmt(NaN)],
    ["62.08M", "1.50G", "123", "12.3", "1.23", "0.012", "n/a", "n/a"]);
});

test("the table lists every row and target in aligned columns", () => {
  const rows = [row("boot", "bzImage realtime: VM wall", "s", [1.8, 1.7, 2.1], "VM start to ready line"), row("cpu", "MIPS", "MIPS", [30])];
  const text = formatTable(rows, [target("cpu workload", 30, "MIPS", ">=", 150), target("idle", null, "% core", "<", 2)], "HEADER");
  const lines = text.split("\n");
  assert.equal(lines[0], "HEADER");
  const head = lines.find((l) => l.startsWith("section"))!;
  const wall = lines.find((l) => l.includes("VM wall"))!;
  assert.match(wall, /1\.80 +1\.70 +2\.10 +3 +s +VM start to ready line$/);
  assert.equal(wall.indexOf("1.80") + 4, head.indexOf("median") + 6, "medians are right-aligned under their heading");
  assert.match(text, /cpu workload +>= 150 MIPS +30\.0 MIPS +NO/);
  assert.match(text, /idle +< 2 % core +n\/a +n\/a/);
});

test("guest scripts: sizes and marks", () => {
  assert.equal(seqBytes(12), 9 * 2 + 3 * 3);
  const { script, lines } = consoleScript(64);
  assert.ok(seqBytes(lines) >= 64 * 1024 && seqBytes(lines - 1) < 64 * 1024);
  assert.match(script, /m c0; cat \/tmp\/c; m c1$/);
  assert.match(blkScript(32), /count=512 conv=fsync.*drop_caches.*count=512/);
  assert.match(cpuScript(32, 8), /truncate -s 33554432 \/tmp\/in; head -c 8388608 \/tmp\/in > \/tmp\/gz/);
});
