// The budget of the property-based fuzz tests (`*.fuzz.test.ts`, fast-check). In `npm test` a
// property runs its own small default number of cases; `npm run fuzz -- --time N` gives each
// property N seconds instead (VIREO_FUZZ_TIME), `--runs N` N cases (VIREO_FUZZ_RUNS; with both,
// whichever ends first) and `--seed S` replays one seed (VIREO_FUZZ_SEED). Every property prints
// how many cases it ran in how long, so long runs can be reported.
import fc from "fast-check";

const timeS = Number(process.env.VIREO_FUZZ_TIME ?? 0);
const runs = Number(process.env.VIREO_FUZZ_RUNS ?? 0);
const seedEnv = process.env.VIREO_FUZZ_SEED;

/** Runs `property` and throws, with the seed and counterexample, if any case fails. */
export function fuzz<Ts>(name: string, property: fc.IProperty<Ts>, defaultRuns: number): number {
  const params: fc.Parameters<Ts> = { numRuns: runs > 0 ? runs : timeS > 0 ? Number.MAX_SAFE_INTEGER : defaultRuns };
  if (timeS > 0) Object.assign(params, { interruptAfterTimeLimit: timeS * 1000, markInterruptAsFailure: false });
  if (seedEnv !== undefined) params.seed = Number(seedEnv);
  // The property's own error (what differed) belongs in the report, not only the raw input.
  params.includeErrorInReport = true;
  const t0 = performance.now();
  const details = fc.check(runs > 0 || timeS > 0 ? withProgress(name, property, t0) : property, params);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  process.stderr.write(`fuzz ${name}: ${details.numRuns} cases in ${s} s, seed ${details.seed}${details.failed ? ", FAILED" : ""}\n`);
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `fuzz ${name} failed`);
  return details.numRuns;
}

/** Cases between progress lines of a long run, so a run stopped early still says how far it got. */
const PROGRESS_EVERY = 100_000;

/** `property`, printing a progress line every PROGRESS_EVERY cases it runs. */
function withProgress<Ts>(name: string, property: fc.IProperty<Ts>, t0: number): fc.IProperty<Ts> {
  let n = 0;
  const counted = Object.create(property) as fc.IProperty<Ts>;
  counted.run = (v) => {
    if (++n % PROGRESS_EVERY === 0) process.stderr.write(`fuzz ${name}: ${n} cases in ${((performance.now() - t0) / 1000).toFixed(0)} s so far\n`);
    return property.run(v);
  };
  return counted;
}
