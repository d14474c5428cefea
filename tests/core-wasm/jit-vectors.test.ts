// The CPU vectors again, through the JIT: every block is translated the first time it runs, so
// each case checks the WebAssembly the translator generated (core-wasm/jit/) against the same
// native results as the interpreter (cpu-vectors.test.ts).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { VectorRunner, loadVectors } from "./cpu-vectors.ts";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const files = loadVectors(new URL("./vectors/", import.meta.url));
const SHOW = 5;
const runner = new VectorRunner(wasm, true);

for (const file of files) {
  describe(`jit ${file.group}: ${file.about}`, () => {
    for (const t of file.tests) {
      test(t.name, () => {
        const failures: string[] = [];
        let failed = 0;
        for (const row of t.cases) {
          let diffs: string[];
          try {
            diffs = runner.check(file, t, row);
          } catch (e) {
            diffs = [`code ${row[0]}: core.wasm threw ${(e as Error).message}`];
            runner.reset();
          }
          if (diffs.length) {
            failed++;
            if (failures.length < SHOW) failures.push(diffs.join("\n    "));
          }
        }
        if (failed) {
          assert.fail(`${failed} of ${t.cases.length} cases differ from the ${file.host}; first ${failures.length}:\n  ` +
            failures.join("\n  "));
        }
      });
    }
  });
}
