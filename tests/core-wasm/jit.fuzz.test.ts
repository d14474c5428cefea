// Differential fuzzing of the JIT against the interpreter: random instruction sequences
// (x86-gen.ts: the integer set, memory operands with SIB and displacements, faults mid-block,
// self-modifying stores, loops, calls, string ops) run from the same state by both, and every
// observable compared (cpu-diff.ts). A failing case prints its code and state; it then goes into
// jit-fuzz-regressions.test.ts. `npm run fuzz:cpu -- --time N` runs it for N seconds.
import { test } from "node:test";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { fuzz } from "../fuzz.ts";
import { Machine, compare, GDTR, IDTR } from "./cpu-diff.ts";
import { build, FORM_SLOTS, type RawCase, type RawItem } from "./x86-gen.ts";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const interp = new Machine(wasm, false), jit = new Machine(wasm, true);

const u32 = fc.nat({ max: 0xffffffff });
const item: fc.Arbitrary<RawItem> = fc.tuple(fc.nat({ max: FORM_SLOTS - 1 }), u32, u32, u32, u32, u32, u32);
const rawCase: fc.Arbitrary<RawCase> = fc.record({
  items: fc.array(item, { minLength: 1, maxLength: 24 }),
  regs: fc.array(u32, { minLength: 8, maxLength: 8 }),
  flags: u32,
  memSeed: u32,
  pointer: fc.nat({ max: 3 }),
  pOff: fc.nat({ max: 0xfff }),
  pageEnd: fc.boolean(),
  threshold: fc.constantFrom(1, 1, 2),
  // Mostly one slice for the whole case; sometimes the small slices of a busy run loop.
  slice: fc.oneof({ weight: 3, arbitrary: fc.constant(100000) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }) }),
});

/** Build and run one case; throws with the case and its differences if the runs disagree. */
export function checkRaw(raw: RawCase): void {
  const c = build(raw, GDTR, IDTR);
  const a = interp.run(c), b = jit.run(c);
  const d = compare(a, b, c.undefEnd, c.undefAny);
  if (d.length) {
    const { listing, ...rest } = c;
    throw new Error(`interpreter and JIT differ:\n  ${d.join("\n  ")}\ncase: ${JSON.stringify(rest)}\n${listing!.join("\n")}`);
  }
}

test("the JIT and the interpreter agree on random instruction sequences", () => {
  const runs = fuzz("jit vs interpreter", fc.property(rawCase, (raw) => checkRaw(raw)), 8000);
  // A fuzzer whose cases never reach translated code would pass for nothing.
  if (jit.core.jit.stats.inline === 0) throw new Error(`nothing translated in ${runs} cases: ${JSON.stringify(jit.core.jit.stats)}`);
});
