// Measures Vireo's x87 against the host CPU, instruction by instruction (x87-native-gen.ts
// cases through gen/runner64.c and the interpreter): how many cases differ, and how — only in
// C1, in a result's last bit (with or without C1), or beyond that. Not a test: it prints a table
// and never fails.
//   node --import tsx tests/core-wasm/x87-measure.ts [cases per instruction] [name filter] [-v]
import { readFileSync } from "node:fs";
import { Differ, nativeRunner, runNative } from "./cpu-native.ts";
import { X87_OPS, generateX87, toleratedLines } from "./x87-native-gen.ts";

const n = Number(process.argv[2] ?? 2000);
const filter = process.argv[3] && process.argv[3] !== "-v" ? new RegExp(process.argv[3], "i") : null;
const verbose = process.argv.includes("-v");
const runner = nativeRunner();
if ("skip" in runner) { console.log(`skipped: ${runner.skip}`); process.exit(0); }
const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const differ = new Differ(wasm);
const seed0 = Number(process.env.VIREO_FUZZ_SEED ?? 1);
X87_OPS.forEach((op, k) => {
  if (filter && !filter.test(op.name)) return;
  const seeds = Array.from({ length: n }, (_, i) => (seed0 + i * 7919) >>> 0);
  const cases = seeds.map((s) => generateX87(s, k));
  const out = runNative(runner.path, cases);
  let bad = 0, shown = 0;
  const kinds = new Map<string, number>();
  cases.forEach((c, i) => {
    const d = differ.check(seeds[i]!, c, out[i]!, false);
    if (!d.length) return;
    bad++;
    const line = out[i]!;
    const near = toleratedLines(line).find((l) => differ.check(seeds[i]!, c, l, false).length === 0);
    const c1Only = near !== undefined && near.split(" ").slice(2).join(" ") === line.split(" ").slice(2).join(" ");
    const kind = near === undefined ? "beyond 1 ulp / C1" : c1Only ? "C1 only" : "a result 1 ulp off (C1 either way)";
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    const text = d[0]!.diffs.join(" | ");
    if (verbose && near === undefined && shown++ < 8) console.log(`  ${op.name} seed ${seeds[i]}: ${text}\n    ${generateX87(seeds[i]!, k, true).listing[0]}`);
  });
  console.log(`${op.name.padEnd(36)} ${String(n).padStart(7)} cases  ${String(bad).padStart(6)} differ  ${[...kinds].map(([k2, v]) => `${k2}: ${v}`).join(", ")}`);
});
