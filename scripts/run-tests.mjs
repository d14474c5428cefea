// Runs every tests/**/*.test.ts with node's test runner (Node 20 has no glob for --test).
// Usage: node scripts/run-tests.mjs [substring filter]
import { spawnSync } from "node:child_process";
import { root, testFiles } from "./test-files.mjs";

const filter = process.argv[2] ?? "";
const files = testFiles(".test.ts", filter);
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter", "spec", ...files], {
  cwd: root,
  stdio: "inherit",
});
process.exit(r.status ?? 1);
