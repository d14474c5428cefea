// Runs the fuzz properties (tests/**/*.fuzz.test.ts) for longer than `npm test` does.
// Usage: npm run fuzz -- [--time SECONDS_PER_PROPERTY] [--runs CASES_PER_PROPERTY] [--seed S] [path filter]
// With --runs and no --time, a property runs exactly that many cases however long they take.
import { spawnSync } from "node:child_process";
import { root, testFiles } from "./test-files.mjs";

const args = process.argv.slice(2);
const env = { ...process.env, VIREO_FUZZ_TIME: "60" };
let filter = "";
let timeGiven = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--time") { env.VIREO_FUZZ_TIME = String(Number(args[++i])); timeGiven = true; }
  else if (args[i] === "--runs") env.VIREO_FUZZ_RUNS = String(Number(args[++i]));
  else if (args[i] === "--seed") env.VIREO_FUZZ_SEED = String(Number(args[++i]));
  else if (args[i] === "--help") {
    console.log("npm run fuzz -- [--time SECONDS_PER_PROPERTY (default 60)] [--runs CASES_PER_PROPERTY] [--seed S] [path filter]");
    process.exit(0);
  } else filter = args[i];
}
if (env.VIREO_FUZZ_RUNS !== undefined && !timeGiven) delete env.VIREO_FUZZ_TIME;
const files = testFiles(".fuzz.test.ts", filter);
if (files.length === 0) {
  console.error("no fuzz test files matched");
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...files], {
  cwd: root,
  env,
  stdio: "inherit",
});
process.exit(r.status ?? 1);
