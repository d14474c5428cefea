// The ACPI PM timer and PM1 registers against the ACPI 6.5 text (§4.8.3): the timer counts at
// 3.579545 MHz, 24 bits wide when the FADT's TMR_VAL_EXT is clear, and reads the board's clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AcpiPm, ACPI_PM_BASE, PM_TMR_OFFSET, PM1_CNT_OFFSET, PM1_EVT_OFFSET, pmTimerAt } from "../../devices/acpi-pm.ts";
import { VirtualClock } from "../../devices/clock.ts";

function board() {
  let instret = 0;
  const clock = new VirtualClock({ mode: "deterministic", instret: () => instret });
  const pm = new AcpiPm(clock);
  const r = pm.ports[0]!;
  return { set ns(v: number) { instret = v; }, read: (off: number, w: 1 | 2 | 4) => r.read(off, w), write: (off: number, w: 1 | 2 | 4, v: number) => r.write(off, w, v), region: r };
}

test("PM_TMR counts 3,579,545 ticks per second of the board's clock, 24 bits wide", () => {
  const b = board();
  assert.equal(b.region.base, ACPI_PM_BASE);
  b.ns = 0;
  assert.equal(b.read(PM_TMR_OFFSET, 4), 0);
  b.ns = 1e9;
  assert.equal(b.read(PM_TMR_OFFSET, 4), 3_579_545);
  b.ns = 1e6; // 1 ms: 3579.545 ticks, the counter shows whole ones
  assert.equal(b.read(PM_TMR_OFFSET, 4), 3579);
  // 2^24 ticks = 4.6869 s: the count wraps to 0 and goes on (bits 31:24 read 0).
  const wrapNs = Math.ceil((0x100_0000 / 3_579_545) * 1e9);
  b.ns = wrapNs;
  assert.ok(b.read(PM_TMR_OFFSET, 4) < 4, `just past the wrap: ${b.read(PM_TMR_OFFSET, 4)}`);
  b.ns = 3600e9; // an hour: 3600 × 3579545 mod 2^24, exactly (the product passes 2^32)
  assert.equal(pmTimerAt(3600e9), (3600 * 3_579_545) % 0x100_0000);
  assert.equal(b.read(PM_TMR_OFFSET, 4), (3600 * 3_579_545) % 0x100_0000);
  // Byte and word reads give the same count's bytes.
  b.ns = 2.5e9;
  const v = b.read(PM_TMR_OFFSET, 4);
  assert.equal(b.read(PM_TMR_OFFSET, 2) | (b.read(PM_TMR_OFFSET + 2, 2) << 16), v);
  assert.equal(b.read(PM_TMR_OFFSET + 3, 1), 0, "bits 31:24 of a 24-bit timer read 0");
  b.write(PM_TMR_OFFSET, 4, 0); // read-only
  assert.equal(b.read(PM_TMR_OFFSET, 4), v);
});

test("PM1: SCI_EN reads 1 (always in ACPI mode), SLP_TYP and PM1_EN keep what is written, no status bit is set", () => {
  const b = board();
  assert.equal(b.read(PM1_CNT_OFFSET, 2), 1, "SCI_EN");
  b.write(PM1_CNT_OFFSET, 2, (5 << 10) | 0); // SLP_TYP 5, SCI_EN written 0
  assert.equal(b.read(PM1_CNT_OFFSET, 2), (5 << 10) | 1);
  b.write(PM1_CNT_OFFSET, 2, 1 << 13); // SLP_EN is write-only: reads 0
  assert.equal(b.read(PM1_CNT_OFFSET, 2) & (1 << 13), 0);
  b.write(PM1_EVT_OFFSET + 2, 2, 0xffff); // PM1_EN: only the defined enables stick
  assert.equal(b.read(PM1_EVT_OFFSET + 2, 2), (1 << 0) | (1 << 5) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 14));
  b.write(PM1_EVT_OFFSET, 2, 0xffff); // write-1-to-clear of nothing
  assert.equal(b.read(PM1_EVT_OFFSET, 2), 0);
  assert.equal(b.read(PM1_EVT_OFFSET, 4) >>> 16, b.read(PM1_EVT_OFFSET + 2, 2), "a dword read spans PM1_STS and PM1_EN");
});
