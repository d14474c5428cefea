// Expectations from the Intel 8254 datasheet (mode definitions, latch and read-back commands)
// and from the code paths of Linux 6.1 arch/x86/kernel/tsc.c (pit_calibrate_tsc,
// quick_pit_calibrate) and drivers/clocksource/i8253.c.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Pit, PIT_HZ, pitTicksAt, nsAtPitTick } from "../../devices/i8254.ts";
import { busWith, manualClock, simHost } from "./helpers.ts";

function setup() {
  const t = manualClock();
  const irq: boolean[] = [];
  const pit = new Pit({ clock: t.clock, irq0: (l) => irq.push(l) });
  const io = busWith(pit.ports);
  return { t, pit, io, irq };
}
/** Guest time (ns) of PIT input edge number k. */
const edge = (k: number) => nsAtPitTick(k);
const latch0 = (io: ReturnType<typeof setup>["io"]) => { io.outb(0x43, 0x00); return io.inb(0x40) | (io.inb(0x40) << 8); };

test("tick arithmetic: 1.193182 MHz, exact at second boundaries and inverse of each other", () => {
  assert.equal(PIT_HZ, 1_193_182);
  assert.equal(pitTicksAt(1e9), 1_193_182);
  assert.equal(pitTicksAt(1e9 - 1), 1_193_181);
  assert.equal(pitTicksAt(838), 0); // one PIT period is 838.095 ns
  assert.equal(pitTicksAt(839), 1);
  for (const k of [1, 2, 255, 65536, 1_193_182, 123_456_789, 9e12]) {
    assert.equal(pitTicksAt(nsAtPitTick(k)), k);
    assert.equal(pitTicksAt(nsAtPitTick(k) - 1), k - 1);
  }
});

test("mode 0: counter loads N on the first edge, decrements per edge, OUT rises at terminal count", () => {
  const { t, io } = setup();
  io.outb(0x43, 0x30); // ch0, lo/hi, mode 0, binary
  io.outb(0x40, 100); io.outb(0x40, 0);
  io.outb(0x43, 0xe2); // read-back status ch0: OUT low, null count (not loaded yet)
  assert.equal(io.inb(0x40), 0x40 | 0x30);
  t.set(edge(1));
  assert.equal(latch0(io), 100);
  t.set(edge(51));
  assert.equal(latch0(io), 50);
  t.set(edge(100));
  assert.equal(latch0(io), 1);
  io.outb(0x43, 0xe2);
  assert.equal(io.inb(0x40) & 0x80, 0, "OUT still low at count 1");
  t.set(edge(101));
  assert.equal(latch0(io), 0);
  io.outb(0x43, 0xe2);
  assert.equal(io.inb(0x40), 0x80 | 0x30, "OUT high at terminal count, count loaded");
  t.set(edge(102));
  assert.equal(latch0(io), 0xffff, "mode 0 keeps counting through zero");
});

test("mode 0 raises IRQ0 once at terminal count; the deadline is that edge's time", () => {
  const { t, pit, io, irq } = setup();
  t.set(5000);
  const t0 = pitTicksAt(5000);
  io.outb(0x43, 0x30); io.outb(0x40, 0x10); io.outb(0x40, 0x00);
  assert.equal(pit.nextDeadlineNs(), edge(t0 + 17));
  t.set(edge(t0 + 17) - 1);
  pit.advance(t.ns);
  assert.deepEqual(irq, []);
  t.set(edge(t0 + 17));
  pit.advance(t.ns);
  assert.deepEqual(irq, [true, false]);
  assert.equal(pit.nextDeadlineNs(), Infinity);
});

test("mode 2 (Linux periodic tick, HZ=100): IRQ0 every 11932 PIT clocks, counter N..1", () => {
  const { t, pit, io, irq } = setup();
  const LATCH = Math.floor((PIT_HZ + 50) / 100);
  assert.equal(LATCH, 11932);
  io.outb(0x43, 0x34); io.outb(0x40, LATCH & 0xff); io.outb(0x40, LATCH >> 8);
  t.set(edge(1));
  assert.equal(latch0(io), LATCH);
  t.set(edge(LATCH));
  assert.equal(latch0(io), 1);
  t.set(edge(LATCH + 1));
  assert.equal(latch0(io), LATCH, "reloads after 1");
  // Run one guest second with the run loop's pattern: jump to each deadline, advance.
  t.set(0);
  io.outb(0x43, 0x34); io.outb(0x40, LATCH & 0xff); io.outb(0x40, LATCH >> 8);
  irq.length = 0;
  const times: number[] = [];
  while (pit.nextDeadlineNs() <= 1e9) {
    t.set(pit.nextDeadlineNs());
    times.push(t.ns);
    pit.advance(t.ns);
  }
  assert.equal(times.length, 99); // 1 s / 10.000235 ms
  assert.equal(irq.length, 2 * 99);
  for (let k = 1; k < times.length; k++) {
    assert.equal(times[k], edge(LATCH * (k + 1) + 1));
    const period = times[k]! - times[k - 1]!;
    assert.ok(Math.abs(period - (LATCH * 1e9) / PIT_HZ) < 1, `period ${period}`);
  }
});

test("a late run loop gets one IRQ0 per advance, and the next deadline is in the future", () => {
  const { t, pit, io, irq } = setup();
  io.outb(0x43, 0x34); io.outb(0x40, 100); io.outb(0x40, 0);
  t.set(edge(1000)); // ten periods late
  pit.advance(t.ns);
  assert.deepEqual(irq, [true, false]);
  assert.ok(pit.nextDeadlineNs() > t.ns);
  assert.equal(pit.nextDeadlineNs(), edge(1001));
});

test("mode 3 square wave: OUT high for ceil(N/2), low for floor(N/2) clocks", () => {
  const { t, pit, io } = setup();
  io.outb(0x43, 0xb6); // ch2, lo/hi, mode 3
  io.outb(0x42, 5); io.outb(0x42, 0);
  io.outb(0x61, 0x01); // gate 2 on: starts counting now (edge 0)
  const out2 = () => (io.inb(0x61) & 0x20) !== 0;
  const seq: boolean[] = [];
  for (let k = 1; k <= 10; k++) { t.set(edge(k)); seq.push(out2()); }
  assert.deepEqual(seq, [true, true, true, false, false, true, true, true, false, false]);
  assert.equal(pit.speakerOn(), false, "speaker data bit 1 is off");
});

test("mode 4: OUT strobes low for one clock at terminal count", () => {
  const { t, io } = setup();
  io.outb(0x43, 0x38); io.outb(0x40, 3); io.outb(0x40, 0);
  const out = () => { io.outb(0x43, 0xe2); return (io.inb(0x40) & 0x80) !== 0; };
  const seq: boolean[] = [];
  for (let k = 0; k <= 6; k++) { t.set(edge(k)); seq.push(out()); }
  assert.deepEqual(seq, [true, true, true, true, false, true, true]);
});

test("latch command freezes the count until both bytes are read; a second latch is ignored", () => {
  const { t, io } = setup();
  io.outb(0x43, 0x34); io.outb(0x40, 0x00); io.outb(0x40, 0x10); // 0x1000
  t.set(edge(0x11));
  io.outb(0x43, 0x00);
  t.set(edge(0x200));
  io.outb(0x43, 0x00); // ignored: previous latch not read yet
  assert.equal(io.inb(0x40), 0xf0);
  assert.equal(io.inb(0x40), 0x0f);
  assert.equal(io.inb(0x40) | (io.inb(0x40) << 8), 0x1000 - 0x1ff, "live again after the latch is read");
});

test("LSB-only and MSB-only access modes", () => {
  const { t, io } = setup();
  io.outb(0x43, 0x10 | 0x04); // ch0 LSB only, mode 2
  io.outb(0x40, 0x80);
  t.set(edge(1));
  assert.equal(io.inb(0x40), 0x80);
  assert.equal(io.inb(0x40), 0x80);
  io.outb(0x43, 0x20 | 0x04); // MSB only: count 0x0200
  io.outb(0x40, 0x02);
  t.set(edge(1) + 0);
  const base = pitTicksAt(t.ns);
  t.set(edge(base + 1));
  assert.equal(io.inb(0x40), 0x02);
});

test("read-back: status then count for one channel; several channels at once", () => {
  const { t, io } = setup();
  io.outb(0x43, 0x34); io.outb(0x40, 0x34); io.outb(0x40, 0x12);
  io.outb(0x43, 0x70); io.outb(0x41, 0x10); io.outb(0x41, 0x00); // ch1 mode 0, count 16
  t.set(edge(5));
  io.outb(0x43, 0xc6); // read-back count+status for ch0 and ch1
  assert.equal(io.inb(0x40), 0x80 | 0x34, "ch0 status: OUT high, loaded, lohi mode 2 binary");
  assert.equal(io.inb(0x40) | (io.inb(0x40) << 8), 0x1234 - 4);
  assert.equal(io.inb(0x41), 0x30, "ch1 status: OUT low in mode 0");
  assert.equal(io.inb(0x41) | (io.inb(0x41) << 8), 16 - 4);
  io.outb(0x43, 0xd2); // count only (status bit set = don't latch status)
  t.set(edge(6));
  assert.equal(io.inb(0x40) | (io.inb(0x40) << 8), 0x1234 - 4);
});

test("BCD counting: count 0100 (BCD) counts decimal", () => {
  const { t, io } = setup();
  io.outb(0x43, 0x31); // ch0 lohi mode 0 BCD
  io.outb(0x40, 0x00); io.outb(0x40, 0x01); // 0100 decimal
  t.set(edge(1 + 11));
  assert.equal(latch0(io), 0x0089);
});

test("channel 2 through port 0x61: gate bit 0, OUT2 bit 5, mode 0 pauses while the gate is low", () => {
  const { t, io } = setup();
  io.outb(0x61, 0x00);
  io.outb(0x43, 0xb0); io.outb(0x42, 10); io.outb(0x42, 0);
  t.set(edge(5));
  assert.equal(io.inb(0x42) | (io.inb(0x42) << 8), 10, "gate low: loaded but not counting");
  io.outb(0x61, 0x01);
  const g = pitTicksAt(t.ns);
  t.set(edge(g + 4));
  assert.equal(io.inb(0x42) | (io.inb(0x42) << 8), 7);
  io.outb(0x61, 0x00); // pause
  t.set(edge(g + 100));
  assert.equal(io.inb(0x42) | (io.inb(0x42) << 8), 7);
  assert.equal(io.inb(0x61) & 0x21, 0x00);
  io.outb(0x61, 0x01);
  const g2 = pitTicksAt(t.ns);
  t.set(edge(g2 + 6)); // count 7 resumes: 6 more edges reach 1
  assert.equal(io.inb(0x61) & 0x20, 0x00);
  t.set(edge(g2 + 7)); // ... the 7th reaches 0: terminal count, OUT2 high
  assert.equal(io.inb(0x61) & 0x21, 0x21);
});

test("port 0x61 bit 4 (refresh) toggles over time; bits 2-3 read back", () => {
  const { t, io } = setup();
  io.outb(0x61, 0x0c);
  const seen = new Set<number>();
  for (let ns = 0; ns < 100_000; ns += 5_000) { t.set(ns); seen.add(io.inb(0x61) & 0x10); }
  assert.deepEqual([...seen].sort(), [0, 0x10]);
  assert.equal(io.inb(0x61) & 0x0f, 0x0c);
});

test("Linux pit_calibrate_tsc: OUT2 rises after CAL_LATCH clocks; the TSC it measures is 1 GHz", () => {
  const { t, pit, io } = setup();
  const CAL_MS = 10, CAL_LATCH = Math.floor(PIT_HZ / (1000 / CAL_MS));
  t.set(1_234_567);
  const tsc = () => pit && Number(t.clock.tsc());
  io.outb(0x61, (io.inb(0x61) & ~0x02) | 0x01);
  io.outb(0x43, 0xb0);
  io.outb(0x42, CAL_LATCH & 0xff);
  io.outb(0x42, CAL_LATCH >> 8);
  const t1 = tsc();
  let t2 = t1, pitcnt = 0, min = Infinity, max = 0, prev = t1;
  while ((io.inb(0x61) & 0x20) === 0) {
    t.add(137); // each loop iteration: the inb trap plus a few instructions
    t2 = tsc();
    min = Math.min(min, t2 - prev); max = Math.max(max, t2 - prev); prev = t2;
    pitcnt++;
  }
  assert.ok(pitcnt > 1000 && max <= 10 * min);
  const khz = Math.floor((t2 - t1) / CAL_MS);
  assert.ok(Math.abs(khz - 1_000_000) / 1e6 < 0.0002, `TSC ${khz} kHz`);
});

test("Linux quick_pit_calibrate succeeds and measures 1 GHz within 500 ppm", () => {
  const { t, io } = setup();
  const inb = (p: number) => { t.add(150); return io.inb(p); };
  const cycles = () => { t.add(20); return Number(t.clock.tsc()); };
  const verifyMsb = (val: number) => { inb(0x42); return inb(0x42) === val; };
  const expectMsb = (val: number): { ok: boolean; tsc: number; d: number } => {
    let count = 0, tsc = 0, prevTsc = 0;
    for (; count < 50000; count++) {
      if (!verifyMsb(val)) break;
      prevTsc = tsc;
      tsc = cycles();
    }
    return { ok: count > 5, tsc, d: cycles() - prevTsc };
  };
  io.outb(0x61, (inb(0x61) & ~0x02) | 0x01);
  io.outb(0x43, 0xb0);
  io.outb(0x42, 0xff); io.outb(0x42, 0xff);
  verifyMsb(0);
  const MAX_ITER = Math.floor((50 * PIT_HZ) / 1000 / 256);
  const first = expectMsb(0xff);
  assert.ok(first.ok, "MSB 0xff seen");
  let khz = 0;
  for (let i = 1; i <= MAX_ITER; i++) {
    const e = expectMsb(0xff - i);
    assert.ok(e.ok, `MSB ${0xff - i} seen`);
    const delta = e.tsc - first.tsc;
    if (i === 1) assert.ok(first.d + e.d < (delta * MAX_ITER) / 2048, "error extrapolation passes");
    if (first.d + e.d >= delta / 2048) continue;
    assert.ok(verifyMsb(0xfe - i));
    khz = Math.floor((delta * PIT_HZ) / (i * 256 * 1000));
    break;
  }
  assert.ok(Math.abs(khz - 1_000_000) < 500, `quick calibration gave ${khz} kHz`);
});

test("a control word stops the channel until a new count is written (Linux pit_shutdown)", () => {
  const { t, pit, io } = setup();
  io.outb(0x43, 0x34); io.outb(0x40, 0x10); io.outb(0x40, 0);
  assert.ok(pit.nextDeadlineNs() < Infinity);
  io.outb(0x43, 0x30);
  assert.equal(pit.nextDeadlineNs(), Infinity);
  t.set(1e9);
  pit.advance(t.ns);
});

test("realtime mode on a jittery host: both Linux TSC calibrations still succeed", () => {
  const { sim, clock } = simHost(3);
  const pit = new Pit({ clock, irq0: () => {} });
  const io = busWith(pit.ports);
  for (let k = 0; k < 50_000; k++) { sim.exec(1000, 0.0005); clock.nowNs(); } // boot up to tsc_init
  const inb = (p: number) => { sim.exec(12, 0.0002); return io.inb(p); };
  const cycles = () => { sim.exec(3); return Number(clock.tsc()); };
  // quick_pit_calibrate
  const verifyMsb = (val: number) => { inb(0x42); return inb(0x42) === val; };
  const expectMsb = (val: number) => {
    let count = 0, tsc = 0, prevTsc = 0;
    for (; count < 50000; count++) { if (!verifyMsb(val)) break; prevTsc = tsc; tsc = cycles(); }
    return { ok: count > 5, tsc, d: cycles() - prevTsc };
  };
  io.outb(0x61, (inb(0x61) & ~0x02) | 0x01);
  io.outb(0x43, 0xb0); io.outb(0x42, 0xff); io.outb(0x42, 0xff);
  verifyMsb(0);
  const MAX_ITER = Math.floor((50 * PIT_HZ) / 1000 / 256);
  const first = expectMsb(0xff);
  assert.ok(first.ok);
  let khz = 0;
  for (let i = 1; i <= MAX_ITER; i++) {
    const e = expectMsb(0xff - i);
    assert.ok(e.ok, `MSB ${0xff - i}`);
    const delta = e.tsc - first.tsc;
    if (i === 1) assert.ok(first.d + e.d < (delta * MAX_ITER) / 2048);
    if (first.d + e.d >= delta / 2048) continue;
    assert.ok(verifyMsb(0xfe - i));
    khz = Math.floor((delta * PIT_HZ) / (i * 256 * 1000));
    break;
  }
  assert.ok(Math.abs(khz - 1_000_000) < 500, `quick: ${khz} kHz`);
  // pit_calibrate_tsc (the slow path), with its SMI check
  const CAL_LATCH = Math.floor(PIT_HZ / 100);
  io.outb(0x43, 0xb0); io.outb(0x42, CAL_LATCH & 0xff); io.outb(0x42, CAL_LATCH >> 8);
  const t1 = cycles();
  let t2 = t1, prev = t1, min = Infinity, max = 0, pitcnt = 0;
  while ((inb(0x61) & 0x20) === 0) {
    t2 = cycles();
    min = Math.min(min, t2 - prev); max = Math.max(max, t2 - prev); prev = t2;
    pitcnt++;
  }
  assert.ok(pitcnt >= 1000, `pitcnt ${pitcnt}`);
  assert.ok(max <= 10 * min, `SMI check: min ${min} max ${max}`);
  assert.ok(Math.abs((t2 - t1) / 10 - 1_000_000) < 1000);
});
