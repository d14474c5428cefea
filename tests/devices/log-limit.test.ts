// The board's log rate limiter (devices/log-limit.ts): per source a burst, then a steady rate,
// and a count of what was held back — alone with a fake clock, then on a real board whose
// guest hammers a virtio-mmio register that does not exist (issue #15: 200k accesses were
// 200k log lines).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { LOG_BURST, LOG_RATE, LogLimiter } from "../../devices/log-limit.ts";
import { PcBoard } from "../../devices/board/pc.ts";

test("a burst per source, then LOG_RATE lines a second, and the count of what was suppressed", () => {
  let t = 0;
  const lines: string[] = [];
  const lim = new LogLimiter((m) => lines.push(m), () => t);
  for (let i = 0; i < 1000; i++) lim.log(`dev-a: bad access ${i}`);
  lim.log("dev-b: one line"); // another source has its own bucket
  assert.equal(lines.length, LOG_BURST + 1);
  assert.equal(lim.suppressed, 1000 - LOG_BURST);
  t += 1000; // one second: LOG_RATE more lines for dev-a, the first one carrying the count
  for (let i = 0; i < 10; i++) lim.log(`dev-a: again ${i}`);
  const after = lines.slice(LOG_BURST + 1);
  assert.equal(after.length, LOG_RATE);
  assert.match(after[0]!, /^dev-a: again 0 \(980 earlier lines from here suppressed\)$/);
  lim.flush();
  assert.equal(lines.at(-1), `dev-a: ${10 - LOG_RATE} more lines suppressed (rate limit)`);
  lim.flush();
  assert.equal(lines.at(-1), `dev-a: ${10 - LOG_RATE} more lines suppressed (rate limit)`, "nothing new to report");
});

test("a board: 200,000 bad virtio register accesses give a bounded number of log lines", () => {
  const module = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
  const lines: string[] = [];
  const b = new PcBoard({
    module, ramBytes: 16 << 20, clock: "deterministic", onConsole: () => {}, log: (m) => lines.push(m),
    virtio: [{ type: "rng", transport: "mmio-v2" }, { type: "rng", transport: "pci-modern" }],
  });
  const mmio = b.virtio[0]!.info().regions.find((r) => r.kind === "mmio")!;
  for (let i = 0; i < 100_000; i++) b.mmio.read(mmio.base! + 0x0f0, 4); // no register at 0xf0
  for (let i = 0; i < 100_000; i++) b.mmio.write(mmio.base! + 0x000, 4, 1); // MagicValue is read-only
  assert.ok(lines.length <= 2 * LOG_BURST + 10, `${lines.length} lines`);
  assert.ok(lines.length >= 2, "but the first ones are there");
  const logged = lines.length; // one line per access, or none
  assert.equal((b.stats() as { logSuppressed: number }).logSuppressed, 200_000 - logged);
  b.flushLog();
  assert.match(lines.at(-1)!, /\d+ more lines suppressed/);
});
