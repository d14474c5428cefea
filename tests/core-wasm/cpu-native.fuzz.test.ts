// The differential test against the host CPU (cpu-native.ts): random instruction sequences
// from the opcode table (native-gen.ts) run natively in 64-bit mode by gen/runner64.c and in
// core.wasm — every case through the interpreter, every JIT_EVERY-th also through the JIT
// (translating a block costs ~1 ms; the vectors and jit.fuzz cover the JIT more) — and must
// agree on registers, the flags the SDM defines, memory and exceptions. Only architecturally
// defined results are compared, so the test holds on any x86-64 host; what the SDM leaves
// undefined is checked against this project's recordings instead (vectors/shiftd.json,
// vectors/undefined.json). Every X87_EVERY-th case is an x87 one (x87-native-gen.ts: FSCALE or
// a transcendental on random 80-bit operands under a random control word; results and status
// word compared). FSCALE must match bit for bit; a transcendental may differ from the host's
// result by one ulp and in C1, the hardware's documented accuracy: this host's results are not
// always correctly rounded (x87-measure.ts counts how often). Skipped, with the reason,
// without gcc or off x86-64 Linux.
//
// `npm test` runs DEFAULT_CASES cases from a random seed (a few seconds); `npm run
// fuzz:cpu-native -- --time N` runs for N seconds and appends each difference to
// vectors/native.json as a vector (the host's result), where cpu-vectors.test.ts keeps
// checking it. VIREO_FUZZ_SEED replays from a seed.
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { Differ, generate, nativeRunner, recordVectors, runNative, type Difference } from "./cpu-native.ts";
import { X87_OPS, generateX87, isExact, toleratedLines } from "./x87-native-gen.ts";
import type { NativeCase } from "./native-gen.ts";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const DEFAULT_CASES = 6000, BATCH = 2000, JIT_EVERY = 16, X87_EVERY = 8;
/** Every X87_EVERY-th seed is an x87 case (x87-native-gen.ts), the instruction from the seed. */
const x87Op = (seed: number) => ((seed / X87_EVERY) >>> 0) % X87_OPS.length;
const isX87 = (seed: number) => seed % X87_EVERY === 1;
const caseFor = (seed: number, listing = false): NativeCase => (isX87(seed) ? generateX87(seed, x87Op(seed), listing) : generate(seed, listing));
const timeS = Number(process.env.VIREO_FUZZ_TIME ?? 0);
const runner = nativeRunner();

test("Vireo agrees with the host CPU on random instruction sequences (native differential)", { skip: "skip" in runner ? runner.skip : false }, () => {
  const path = (runner as { path: string }).path;
  const differ = new Differ(wasm);
  const start = process.env.VIREO_FUZZ_SEED !== undefined ? Number(process.env.VIREO_FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  const t0 = Date.now(), deadline = t0 + timeS * 1000;
  const found: Difference[] = [];
  let n = 0, viaJit = 0, tolerated = 0, report = t0 + 300_000;
  while (timeS > 0 ? Date.now() < deadline : n < DEFAULT_CASES) {
    const seeds = Array.from({ length: BATCH }, (_, i) => (start + n + i) >>> 0);
    const cases = seeds.map((s) => caseFor(s));
    const out = runNative(path, cases);
    for (let i = 0; i < BATCH; i++) {
      const seed = seeds[i]!, x87 = isX87(seed);
      // x87 seeds are 1 mod 8, never 0 mod JIT_EVERY: their own every JIT_EVERY-th goes through the JIT.
      const jit = ((x87 ? seed >>> 3 : seed) % JIT_EVERY) === 0;
      if (jit) viaJit++;
      let diffs = differ.check(seed, cases[i]!, out[i]!, jit);
      // A transcendental within the hardware's documented 1 ulp of the host's result.
      if (diffs.length && x87 && !isExact(x87Op(seed)) &&
        toleratedLines(out[i]!).some((l) => differ.check(seed, cases[i]!, l, jit).length === 0)) { tolerated++; diffs = []; }
      for (const d of diffs) if (found.length < 200) found.push(d);
    }
    n += BATCH;
    if (timeS > 0 && Date.now() > report) { // a long run reports its progress every 5 minutes
      report += 300_000;
      process.stderr.write(`fuzz cpu-native: ${n} sequences in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${found.length} differences so far\n`);
    }
    if (timeS > 0 && found.length >= 200) break;
  }
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  process.stderr.write(`fuzz cpu-native: ${n} sequences (${viaJit} also through the JIT; every ${X87_EVERY}th an x87 case, ${tolerated} transcendental within 1 ulp/C1 of the host), seeds ${start}..${(start + n - 1) >>> 0}, ${s} s, ${found.length} differences, host ${differ.file.host}\n`);
  if (found.length) {
    const where = timeS > 0 ? recordVectors(found.map((d) => ({ seed: d.seed, row: d.row }))) : "";
    const show = found.slice(0, 5).map((d) => `seed ${d.seed} (${d.where}):\n  ${d.diffs.join("\n  ")}\n  ${caseFor(d.seed, true).listing.join("\n  ")}`);
    throw new Error(`${found.length} case(s) differ from the host CPU${where ? ` (kept as vectors in ${where})` : ""}; first ${show.length}:\n${show.join("\n")}`);
  }
});
