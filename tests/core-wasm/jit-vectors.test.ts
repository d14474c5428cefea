// The CPU vectors again, through the JIT: every block is translated the first time it runs, so
// each case checks the WebAssembly the translator generated (core-wasm/jit/) against the same
// native results as the interpreter (cpu-vectors.test.ts).
import { describe, test } from "node:test";
import { readFileSync } from "node:fs";
import { VectorRunner, checkCases, loadVectors } from "./cpu-vectors.ts";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const files = loadVectors(new URL("./vectors/", import.meta.url));
const runner = new VectorRunner(wasm, true);

for (const file of files) {
  describe(`jit ${file.group}: ${file.about}`, () => {
    for (const t of file.tests) test(t.name, () => checkCases(runner, file, t));
  });
}
