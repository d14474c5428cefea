// The test files under tests/ whose names end with `suffix` and whose repo-relative paths
// contain `filter`, sorted: what run-tests.mjs and fuzz.mjs hand to node's test runner.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export const root = new URL("..", import.meta.url).pathname;

export function testFiles(suffix, filter = "") {
  const files = [];
  (function walk(dir) {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(suffix) && relative(root, p).includes(filter)) files.push(relative(root, p));
    }
  })(join(root, "tests"));
  return files;
}
