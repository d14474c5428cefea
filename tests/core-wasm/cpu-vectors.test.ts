// CPU conformance against the real processor (docs/ARCHITECTURE.md "Tests": expected values from the real CPU, not the code under test):
// every case in tests/core-wasm/vectors/*.json was run natively by gen/generate.sh; here the
// same instruction bytes run in core.wasm with the same inputs and must give the same
// registers, the EFLAGS bits the Intel SDM defines, memory, and exceptions.
// One test per vector test (op x operand size x encoding); a failure lists the first few cases.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { VectorRunner, checkCases, loadVectors, missingExports, REQUIRED } from "./cpu-vectors.ts";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const files = loadVectors(new URL("./vectors/", import.meta.url));
const missing = missingExports(wasm);

test("core.wasm exports the CPU test interface", () => {
  assert.deepEqual(missing, [], `core.wasm must export ${REQUIRED.join(", ")}`);
});

test("vector files are present and well-formed", () => {
  assert.ok(files.length >= 10, "tests/core-wasm/vectors holds the generated groups");
  for (const f of files) {
    assert.equal(f.base.length, 8, f.group);
    for (const t of f.tests) assert.ok(t.cases.length > 0, `${f.group}: ${t.name} has cases`);
  }
});

const runner = missing.length ? null : new VectorRunner(wasm);
for (const file of files) {
  describe(`cpu ${file.group}: ${file.about}`, () => {
    for (const t of file.tests) {
      test(t.name, { skip: runner ? false : `core.wasm lacks ${missing.join(", ")}` }, () => checkCases(runner!, file, t));
    }
  });
}
