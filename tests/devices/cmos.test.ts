// Expectations from the MC146818A datasheet and Linux 6.1 drivers/rtc/rtc-mc146818-lib.c.
// Calendar values are checked against JavaScript's Date (an independent implementation).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cmos } from "../../devices/cmos.ts";
import { DETERMINISTIC_EPOCH_MS } from "../../devices/clock.ts";
import { busWith, manualClock } from "./helpers.ts";

function setup() {
  const t = manualClock();
  const irq: boolean[] = [];
  const cmos = new Cmos({ clock: t.clock, setIrq: (l) => irq.push(l) });
  const io = busWith(cmos.ports);
  const rd = (i: number) => { io.outb(0x70, i); return io.inb(0x71); };
  const wr = (i: number, v: number) => { io.outb(0x70, i); io.outb(0x71, v); };
  return { t, cmos, io, rd, wr, irq };
}
const bcd = (v: number) => ((Math.floor(v / 10)) << 4) | (v % 10);
const S = 1e9;

test("power-on time in deterministic mode is 2026-01-01 00:00:00 (Thursday), BCD 24-hour", () => {
  const { rd } = setup();
  assert.deepEqual([0, 2, 4, 6, 7, 8, 9, 0x32].map(rd), [0x00, 0x00, 0x00, 0x05, 0x01, 0x01, 0x26, 0x20]);
  assert.equal(rd(0x0b) & 0x06, 0x02, "24h, BCD");
  assert.equal(rd(0x0d), 0x80, "VRT: valid RAM and time");
  assert.equal(rd(0x0a) & 0x70, 0x20, "divider running at 32.768 kHz");
});

test("time advances with the virtual clock; calendar matches Date for many instants (leap years too)", () => {
  const { t, rd, wr } = setup();
  const offsets = [1, 59, 3600, 86399, 86400 * 31 + 7, 86400 * 59, 86400 * 790 + 12345, 86400 * 365 * 4 + 99, 86400 * 10000 + 1];
  for (const bin of [false, true]) {
    wr(0x0b, bin ? 0x06 : 0x02);
    for (const s of offsets) {
      t.set(s * S + 500_000_000);
      const d = new Date(DETERMINISTIC_EPOCH_MS + s * 1000);
      const enc = bin ? (v: number) => v : bcd;
      assert.deepEqual([0, 2, 4, 6, 7, 8, 9, 0x32].map(rd), [
        enc(d.getUTCSeconds()), enc(d.getUTCMinutes()), enc(d.getUTCHours()), enc(d.getUTCDay() + 1),
        enc(d.getUTCDate()), enc(d.getUTCMonth() + 1), enc(d.getUTCFullYear() % 100), bcd(Math.floor(d.getUTCFullYear() / 100)),
      ], `${d.toISOString()} binary=${bin}`);
    }
  }
});

test("12-hour mode: hours 1-12 with bit 7 = PM", () => {
  const { t, rd, wr } = setup();
  wr(0x0b, 0x00); // 12h BCD
  assert.equal(rd(4), 0x12, "midnight is 12 AM");
  t.set((13 * 3600 + 5) * S);
  assert.equal(rd(4), 0x81, "13:00 is 1 PM");
  t.set(12 * 3600 * S);
  assert.equal(rd(4), 0x92, "noon is 12 PM");
  wr(0x0b, 0x04); // 12h binary
  assert.equal(rd(4), 0x8c);
});

test("UIP is set for the 244 + 1984 us before each second boundary; registers change only at it", () => {
  const { t, rd } = setup();
  t.set(S - 2_228_001);
  assert.equal(rd(0x0a) & 0x80, 0);
  assert.equal(rd(0), 0x00);
  t.set(S - 2_228_000);
  assert.equal(rd(0x0a) & 0x80, 0x80);
  t.set(S - 1);
  assert.equal(rd(0x0a) & 0x80, 0x80);
  assert.equal(rd(0), 0x00);
  t.set(S);
  assert.equal(rd(0x0a) & 0x80, 0);
  assert.equal(rd(0), 0x01);
});

test("Linux mc146818_avoid_UIP / get_time reads a consistent time even when started inside UIP", () => {
  const { t, rd } = setup();
  t.set(5 * S - 1_000_000); // 1 ms before a boundary: UIP set
  let seconds = -1, tries = 0;
  for (let i = 0; i < 10000; i++) {
    tries++;
    t.add(2000); // the port accesses themselves take time
    seconds = rd(0);
    if (rd(0x0a) & 0x80) { t.add(100_000); continue; } // udelay(UIP_RECHECK_DELAY)
    if (seconds !== rd(0)) continue;
    const min = rd(2);
    if (rd(0x0a) & 0x80) { t.add(100_000); continue; }
    if (seconds !== rd(0)) continue;
    assert.equal(min, 0);
    break;
  }
  assert.equal(seconds, 0x05);
  assert.ok(tries >= 2 && tries < 100);
});

test("SET freezes the clock and the guest's new time runs on from where SET is cleared", () => {
  const { t, rd, wr } = setup();
  t.set(10 * S);
  wr(0x0b, 0x82); // SET, 24h, BCD
  assert.equal(rd(0x0a) & 0x80, 0, "no UIP while SET");
  wr(0, 0x30); wr(2, 0x59); wr(4, 0x23); wr(7, 0x31); wr(8, 0x12); wr(9, 0x99); wr(0x32, 0x19);
  t.add(5 * S);
  assert.equal(rd(0), 0x30, "frozen while SET");
  wr(0x0b, 0x02);
  t.add(S - 1);
  assert.equal(rd(0), 0x30);
  t.add(29 * S + 1); // 30 s after SET was cleared
  assert.deepEqual([0, 2, 4, 7, 8, 9].map(rd), [0x00, 0x00, 0x00, 0x01, 0x01, 0x00], "rolled over into 2000");
  assert.equal(rd(0x32), 0x20);
});

test("Linux set_time with the divider held in reset (reg A 0x70) then released", () => {
  const { t, rd, wr } = setup();
  wr(0x0b, 0x82);
  wr(0x0a, 0x70); // RTC_DIV_RESET2
  wr(0, 0x00); wr(2, 0x10); wr(4, 0x08); wr(7, 0x15); wr(8, 0x06); wr(9, 0x30);
  wr(0x0b, 0x02);
  t.add(3 * S);
  assert.equal(rd(0), 0x00, "divider in reset: time does not run");
  wr(0x0a, 0x26);
  t.add(2 * S);
  assert.deepEqual([0, 2, 4, 7, 8, 9].map(rd), [0x02, 0x10, 0x08, 0x15, 0x06, 0x30]);
});

test("register C: UF after an update, read clears; periodic interrupt at 1024 Hz drives IRQ8", () => {
  const { t, cmos, rd, wr, irq } = setup();
  t.set(S + 10);
  assert.equal(rd(0x0c), 0x50, "PF and UF set (interrupts disabled: no IRQF)");
  assert.equal(rd(0x0c), 0x00);
  wr(0x0b, 0x42); // PIE
  const period = S / 1024;
  const next = cmos.nextDeadlineNs();
  assert.equal(next, Math.ceil((Math.floor(t.ns / period) + 1) * period));
  t.set(next);
  cmos.advance(t.ns);
  assert.deepEqual(irq, [true]);
  assert.equal(rd(0x0c) & 0xc0, 0xc0, "IRQF | PF");
  assert.deepEqual(irq, [true, false], "reading C lowers IRQ8");
  wr(0x0a, 0x2f); // RS=15: 2 Hz
  t.add(S / 2);
  cmos.advance(t.ns);
  assert.equal(irq.length, 3);
  wr(0x0b, 0x02);
  rd(0x0c);
  assert.equal(cmos.nextDeadlineNs(), Infinity);
});

test("update-ended and alarm interrupts", () => {
  const { t, cmos, rd, wr, irq } = setup();
  wr(1, 0x05); wr(3, 0xc0); wr(5, 0xc0); // alarm at second 5 of any minute/hour
  wr(0x0b, 0x22); // AIE
  for (let s = 1; s <= 6; s++) {
    t.set(s * S);
    cmos.advance(t.ns);
    if (s < 5) assert.equal(irq.length, 0, `no alarm at ${s}`);
    if (s === 5) { assert.deepEqual(irq, [true]); assert.equal(rd(0x0c) & 0xa0, 0xa0); }
  }
  wr(0x0b, 0x12); // UIE
  rd(0x0c);
  t.set(cmos.nextDeadlineNs());
  assert.equal(t.ns, 7 * S);
  cmos.advance(t.ns);
  assert.equal(rd(0x0c) & 0x90, 0x90);
});

test("CMOS RAM bytes, memory size and the NMI-mask bit of the index", () => {
  const { cmos, io, rd, wr } = setup();
  wr(0x40, 0x5a);
  io.outb(0x70, 0x80 | 0x40); // NMI disable bit is ignored for indexing
  assert.equal(io.inb(0x71), 0x5a);
  cmos.setMemorySize(128 << 20);
  assert.equal(rd(0x15) | (rd(0x16) << 8), 640);
  assert.equal(rd(0x17) | (rd(0x18) << 8), 0xffff, "127 MiB over 1 MiB is clamped to 64 MiB - 1 KiB");
  assert.equal(rd(0x30) | (rd(0x31) << 8), 0xffff);
  assert.equal(rd(0x34) | (rd(0x35) << 8), (112 << 20) / 65536);
  cmos.setMemorySize(32 << 20);
  assert.equal(rd(0x17) | (rd(0x18) << 8), 31 * 1024);
  wr(0x0d, 0);
  assert.equal(rd(0x0d), 0x80, "register D is read-only");
});
