// The status line's live text (web/run-status.ts): the uptime counts whole minutes, so a guest
// at rest changes the line once a minute rather than every second (issue #22).
import { test } from "node:test";
import assert from "node:assert/strict";
import { uptime } from "../../web/run-status.ts";

test("uptime in whole minutes: <1 min, N min, H h MM min", () => {
  assert.equal(uptime(0), "<1 min");
  assert.equal(uptime(59.9), "<1 min");
  assert.equal(uptime(60), "1 min");
  assert.equal(uptime(42 * 60 + 59), "42 min");
  assert.equal(uptime(3599), "59 min");
  assert.equal(uptime(3600), "1 h 00 min");
  assert.equal(uptime(3600 + 2 * 60 + 30), "1 h 02 min");
  assert.equal(uptime(27 * 3600 + 59 * 60), "27 h 59 min");
});

test("the text is the same for every second of a minute: at rest the line changes once a minute", () => {
  const shown = new Set<string>();
  for (let s = 120; s < 180; s += 0.5) shown.add(uptime(s));
  assert.deepEqual([...shown], ["2 min"]);
});
