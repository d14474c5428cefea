// The budget of the property-based fuzz tests (`*.fuzz.test.ts`, fast-check). In `npm test` a
// property runs its own small default number of cases; `npm run fuzz -- --time N` gives each
// property N seconds instead (VIREO_FUZZ_TIME) and `--seed S` replays one seed
// (VIREO_FUZZ_SEED). Every property prints how many cases it ran, so long runs can be reported.
import fc from "fast-check";

const timeS = Number(process.env.VIREO_FUZZ_TIME ?? 0);
const seedEnv = process.env.VIREO_FUZZ_SEED;

/** Runs `property` and throws, with the seed and counterexample, if any case fails. */
export function fuzz<Ts>(name: string, property: fc.IProperty<Ts>, defaultRuns: number): number {
  const params: fc.Parameters<Ts> =
    timeS > 0
      ? { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: timeS * 1000, markInterruptAsFailure: false }
      : { numRuns: defaultRuns };
  if (seedEnv !== undefined) params.seed = Number(seedEnv);
  const details = fc.check(property, params);
  process.stderr.write(`fuzz ${name}: ${details.numRuns} cases, seed ${details.seed}\n`);
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `fuzz ${name} failed`);
  return details.numRuns;
}
