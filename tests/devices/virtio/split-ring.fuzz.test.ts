// Fuzz: a hostile driver's split rings (virtio 1.2 §2.7) behind every device type — wild and
// overlapping buffers, indirect tables, re-posted heads, wild avail indices. Properties and the
// case generator: ring-fuzz.ts. `npm run fuzz -- --time N split-ring` runs it longer.
import { test } from "node:test";
import fc from "fast-check";
import { fuzz } from "../../fuzz.ts";
import { caseArb, runCase } from "./ring-fuzz.ts";

test("split rings: no device throws, every notify is bounded, in flight ≤ queue size, disk untouched outside writes", () => {
  fuzz("split-ring", fc.property(caseArb, (c) => runCase(c, false)), 250);
});
