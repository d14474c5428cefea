// Runs the fuzz properties (tests/**/*.fuzz.test.ts) for longer than `npm test` does.
// Usage: npm run fuzz -- [--time SECONDS_PER_PROPERTY] [--seed S] [path filter]
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2);
const env = { ...process.env, VIREO_FUZZ_TIME: "60" };
let filter = "";
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--time") env.VIREO_FUZZ_TIME = String(Number(args[++i]));
  else if (args[i] === "--seed") env.VIREO_FUZZ_SEED = String(Number(args[++i]));
  else if (args[i] === "--help") {
    console.log("npm run fuzz -- [--time SECONDS_PER_PROPERTY (default 60)] [--seed S] [path filter]");
    process.exit(0);
  } else filter = args[i];
}
const root = new URL("..", import.meta.url).pathname;
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".fuzz.test.ts") && relative(root, p).includes(filter)) files.push(relative(root, p));
  }
})(join(root, "tests"));
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
