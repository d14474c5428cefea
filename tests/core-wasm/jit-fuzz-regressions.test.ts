// Cases the differential fuzzer (jit.fuzz.test.ts) found, kept as fixed tests: each runs by the
// interpreter and by the JIT (cpu-diff.ts) and must agree. A case is the built code and state
// (not fast-check's raw values), so it stays the same when the generator changes. A case the
// JIT still gets wrong is `todo` with what differs.
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { Machine, compare } from "./cpu-diff.ts";
import type { Case } from "./x86-gen.ts";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const interp = new Machine(wasm, false), jit = new Machine(wasm, true);

interface Regression { name: string; case: Case; todo?: string }

const CASES: Regression[] = [
  {
    // Found with the translator's 83 /0 immediate zero-extended instead of sign-extended.
    name: "ADD r/m32, imm8 sign-extends the immediate (83 /0 ib with 0x80)",
    case: { code: "0f0115080f00000f011d000f0000668305180c0200800005ff0f0200f4", base: 0x10000, regs: [0, 0, 0, 0x20100, 0x7800, 0, 0, 0], flags: 0, memSeed: 0, threshold: 1, slice: 100000, undefEnd: 0, undefAny: 0 },
  },
  {
    // Found with the translator's inline stores not checking for a code page: the second
    // MOV EAX, imm32 ran with its old immediate.
    name: "a store patches the immediate of the next instruction in the same block (self-modifying code)",
    case: { code: "0f0115080f00000f011d000f0000c7051900010000000000b800000000c7052800010091f44525b8010000003600832efffffff4", base: 0x10000, regs: [0, 0, 0, 0x20100, 0x7800, 0, 0, 0], flags: 0, memSeed: 0, threshold: 1, slice: 100000, undefEnd: 0, undefAny: 0 },
  },
];

for (const r of CASES) {
  test(`jit fuzz regression: ${r.name}`, r.todo ? { todo: r.todo } : {}, () => {
    const a = interp.run(r.case), b = jit.run(r.case);
    const d = compare(a, b, r.case.undefEnd, r.case.undefAny);
    if (d.length) throw new Error(`interpreter and JIT differ:\n  ${d.join("\n  ")}`);
    if (jit.core.jit.stats.inline === 0) throw new Error("nothing was translated");
  });
}
