// The design lives in the repository: code comments point into docs/ARCHITECTURE.md by section
// name, never to files outside the repository, and every section they name exists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const SOURCE_DIRS = ["bench", "bin", "cli", "core-wasm", "devices", "e2e", "examples", "lib", "scripts", "tests", "types", "web"];

function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (name === "node_modules" || name === "build" || name === "results") continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mjs|js|html|css)$/.test(name)) out.push(p);
    }
  };
  for (const d of SOURCE_DIRS) walk(join(root, d));
  return out;
}

test("no source cites a design file outside the repository", () => {
  const self = new URL(import.meta.url).pathname;
  const bad: string[] = [];
  for (const f of sources()) {
    if (f === self) continue;
    readFileSync(f, "utf8").split("\n").forEach((line, i) => {
      if (/DESIGN\.md|STYLE(\.md)? ?#\d|\.\.\/shared\//.test(line)) bad.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(bad, []);
});

test("every docs/ARCHITECTURE.md section a comment names exists", () => {
  const doc = readFileSync(join(root, "docs/ARCHITECTURE.md"), "utf8");
  const headings = new Set([...doc.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.trim()));
  const bad: string[] = [];
  let cited = 0;
  for (const f of sources()) {
    // A citation may wrap onto the next comment line: join comment continuations first.
    const text = readFileSync(f, "utf8").replace(/\n\s*(\/\/|\*) ?/g, " ");
    for (const m of text.matchAll(/docs\/ARCHITECTURE\.md "([^"]+)"/g)) {
      cited++;
      if (!headings.has(m[1]!)) bad.push(`${relative(root, f)}: "${m[1]}"`);
    }
  }
  assert.ok(cited > 10, `only ${cited} citations found: the pattern is broken`);
  assert.deepEqual(bad, []);
});
