// Fuzz: a hostile driver's packed rings (virtio 1.2 §2.8) behind every device type — wild and
// overlapping buffers, indirect tables (unbounded before issue #15), reused buffer ids, flipped
// wrap counters. Properties and the case generator: ring-fuzz.ts.
import { test } from "node:test";
import fc from "fast-check";
import { fuzz } from "../../fuzz.ts";
import { caseArb, runCase } from "./ring-fuzz.ts";

test("packed rings: no device throws, every notify is bounded, in flight ≤ queue size, disk untouched outside writes", () => {
  fuzz("packed-ring", fc.property(caseArb, (c) => runCase(c, true)), 250);
});
