// The differential test against the host CPU (cpu-native.ts): random instruction sequences
// from the opcode table (native-gen.ts) run natively in 64-bit mode by gen/runner64.c and in
// core.wasm — every case through the interpreter, every JIT_EVERY-th also through the JIT
// (translating a block costs ~1 ms; the vectors and jit.fuzz cover the JIT more) — and must
// agree on registers, the flags the SDM defines, memory and exceptions. Only architecturally
// defined results are compared, so the test holds on any x86-64 host; what the SDM leaves
// undefined is checked against this project's recordings instead (vectors/shiftd.json,
// vectors/undefined.json). Skipped, with the reason, without gcc or off x86-64 Linux.
//
// `npm test` runs DEFAULT_CASES cases from a random seed (a few seconds); `npm run
// fuzz:cpu-native -- --time N` runs for N seconds and appends each difference to
// vectors/native.json as a vector (the host's result), where cpu-vectors.test.ts keeps
// checking it. VIREO_FUZZ_SEED replays from a seed.
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { Differ, generate, nativeRunner, recordVectors, runNative, type Difference } from "./cpu-native.ts";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const DEFAULT_CASES = 6000, BATCH = 2000, JIT_EVERY = 16;
const timeS = Number(process.env.VIREO_FUZZ_TIME ?? 0);
const runner = nativeRunner();

test("Vireo agrees with the host CPU on random instruction sequences (native differential)", { skip: "skip" in runner ? runner.skip : false }, () => {
  const path = (runner as { path: string }).path;
  const differ = new Differ(wasm);
  const start = process.env.VIREO_FUZZ_SEED !== undefined ? Number(process.env.VIREO_FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  const t0 = Date.now(), deadline = t0 + timeS * 1000;
  const found: Difference[] = [];
  let n = 0, viaJit = 0, report = t0 + 300_000;
  while (timeS > 0 ? Date.now() < deadline : n < DEFAULT_CASES) {
    const seeds = Array.from({ length: BATCH }, (_, i) => (start + n + i) >>> 0);
    const cases = seeds.map((s) => generate(s));
    const out = runNative(path, cases);
    for (let i = 0; i < BATCH; i++) {
      const jit = (seeds[i]! % JIT_EVERY) === 0;
      if (jit) viaJit++;
      for (const d of differ.check(seeds[i]!, cases[i]!, out[i]!, jit)) if (found.length < 200) found.push(d);
    }
    n += BATCH;
    if (timeS > 0 && Date.now() > report) { // a long run reports its progress every 5 minutes
      report += 300_000;
      process.stderr.write(`fuzz cpu-native: ${n} sequences in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${found.length} differences so far\n`);
    }
    if (timeS > 0 && found.length >= 200) break;
  }
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  process.stderr.write(`fuzz cpu-native: ${n} sequences (${viaJit} also through the JIT), seeds ${start}..${(start + n - 1) >>> 0}, ${s} s, ${found.length} differences, host ${differ.file.host}\n`);
  if (found.length) {
    const where = timeS > 0 ? recordVectors(found.map((d) => ({ seed: d.seed, row: d.row }))) : "";
    const show = found.slice(0, 5).map((d) => `seed ${d.seed} (${d.where}):\n  ${d.diffs.join("\n  ")}\n  ${generate(d.seed, true).listing.join("\n  ")}`);
    throw new Error(`${found.length} case(s) differ from the host CPU${where ? ` (kept as vectors in ${where})` : ""}; first ${show.length}:\n${show.join("\n")}`);
  }
});
