import { test } from "node:test";
import assert from "node:assert/strict";
import { simHost } from "./helpers.ts";
import { VirtualClock, DETERMINISTIC_EPOCH_MS, NS_PER_INSTRUCTION, TSC_HZ, earliestDeadline, advanceAll, type Timed } from "../../devices/clock.ts";

test("deterministic mode: time is instructions retired × 1 ns, TSC ticks at 1 GHz from the same base", () => {
  let instret = 0;
  const c = new VirtualClock({ mode: "deterministic", instret: () => instret });
  assert.equal(NS_PER_INSTRUCTION, 1);
  assert.equal(TSC_HZ, 1e9);
  assert.equal(c.nowNs(), 0);
  instret = 123_456_789;
  assert.equal(c.nowNs(), 123_456_789);
  assert.equal(c.tsc(), 123_456_789n);
  assert.equal(c.epochMs, DETERMINISTIC_EPOCH_MS);
  assert.equal(new Date(c.epochMs).toISOString(), "2026-01-01T00:00:00.000Z");
});

test("deterministic mode: identical instruction streams give identical times; halts skip ahead", () => {
  const trace = () => {
    let instret = 0;
    const c = new VirtualClock({ mode: "deterministic", instret: () => instret });
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      instret += 1000 + i;
      seen.push(c.nowNs());
      c.idleUntil(c.nowNs() + 10_000); // a HLT until the next timer deadline
      seen.push(c.nowNs());
    }
    c.idleUntil(Infinity); // no deadline: time must not jump to infinity
    seen.push(c.nowNs());
    return seen;
  };
  const a = trace(), b = trace();
  assert.deepEqual(a, b);
  assert.deepEqual(a.slice(0, 4), [1000, 11000, 12001, 22001]);
});

test("deterministic mode never reads host time", () => {
  const c = new VirtualClock({ mode: "deterministic", instret: () => 5, hostNowMs: () => { throw new Error("host time read"); }, hostWallMs: () => { throw new Error("wall read"); } });
  assert.equal(c.nowNs(), 5);
  assert.equal(c.wallMs(), DETERMINISTIC_EPOCH_MS + 5e-6);
});

test("realtime mode without instret: raw host time since power-on, monotonic, pausable", () => {
  let host = 1000;
  const c = new VirtualClock({ mode: "realtime", hostNowMs: () => host, hostWallMs: () => 1_700_000_000_000 });
  assert.equal(c.nowNs(), 0);
  host += 2.5;
  assert.equal(c.nowNs(), 2_500_000);
  host -= 0.001; // a host clock that steps back a little must not make guest time go back
  assert.equal(c.nowNs(), 2_500_000);
  c.pause();
  const frozen = c.nowNs();
  host += 1000;
  assert.equal(c.nowNs(), frozen);
  c.resume();
  host += 1.001;
  assert.equal(c.nowNs(), 3_500_000);
  assert.equal(c.epochMs, 1_700_000_000_000);
  c.idleUntil(1e12); // realtime: the loop sleeps instead
  assert.ok(c.nowNs() < 1e9);
});

test("realtime mode with instret: guest time tracks host time while busy, and flows with it while halted", () => {
  const { sim, clock } = simHost();
  for (let k = 0; k < 100_000; k++) { sim.exec(1000, 0.001); clock.nowNs(); } // ~2 s of busy guest
  const lag = sim.hostNs - clock.nowNs();
  assert.ok(Math.abs(lag) < 20e6, `lag ${lag / 1e6} ms after 2 s busy`);
  // 20 ns per instruction plus 3 ms stalls every 1M instructions on average: ~23 ns.
  assert.ok(clock.nsPerInstruction() > 18 && clock.nsPerInstruction() < 28, `rate ${clock.nsPerInstruction()}`);
  // HLT (the run loop calls idleUntil): no instruction retires; the loop sleeps 5 ms, then reads
  // the clock: guest time moved with the host, and the lag accumulated while busy is gone.
  const before = clock.nowNs();
  clock.idleUntil(Infinity);
  sim.sleep(5_000_000);
  const after = clock.nowNs();
  assert.ok(after - before >= 5_000_000);
  assert.ok(Math.abs(after - sim.hostNs) < 1);
  // idleUntil marks the halt even if the HLT itself counted as a retired instruction; the
  // catch-up stops at the deadline halted for.
  for (let k = 0; k < 100; k++) { sim.exec(1000); clock.nowNs(); }
  const deadline = clock.nowNs() + 1e6;
  clock.idleUntil(deadline);
  sim.exec(1);
  sim.sleep(1_000_000);
  assert.ok(Math.abs(clock.nowNs() - Math.min(sim.hostNs, deadline)) < 1);
  // The emulator slows down 3x (a background tab): the rate follows, guest time keeps up.
  sim.nsPerInsn = 60;
  for (let k = 0; k < 50_000; k++) { sim.exec(1000); clock.nowNs(); }
  assert.ok(Math.abs(sim.hostNs - clock.nowNs()) < 60e6);
});

test("realtime mode: a host stall while the guest runs does not jump guest time (a busy-wait would see it)", () => {
  const { sim, clock } = simHost(3);
  for (let k = 0; k < 20_000; k++) { sim.exec(1000); clock.nowNs(); }
  const rate = clock.nsPerInstruction();
  // Polling a port (Linux's PIT countdown): 10 instructions between reads, the thread
  // descheduled for 40 ms between two of them, no instruction retired across the stall.
  const before = clock.nowNs();
  sim.sleep(40_000_000);
  const atStall = clock.nowNs();
  sim.exec(10);
  const after = clock.nowNs();
  assert.ok(atStall - before < 1000, `a read after the stall moved ${atStall - before} ns`);
  assert.ok(after - atStall < 20 * rate, `ten instructions took ${after - atStall} ns`);
  // The lag is there, and the next halt catches it up.
  assert.ok(sim.hostNs - after > 39e6);
  clock.idleUntil(Infinity);
  sim.sleep(1000);
  assert.ok(Math.abs(clock.nowNs() - sim.hostNs) < 1);
});

test("realtime mode: the run loop's read before it sleeps does not end the halt (it reads the clock to size the sleep)", () => {
  const { sim, clock } = simHost(9);
  for (let k = 0; k < 20_000; k++) { sim.exec(1000); clock.nowNs(); }
  const rate = clock.nsPerInstruction();
  const deadline = clock.nowNs() + 5_000_000;
  clock.idleUntil(deadline);
  const sleepMs = (deadline - clock.nowNs()) / 1e6; // devices/vm/halt.ts does this
  sim.sleep(sleepMs * 1e6);
  // Slept until the deadline in guest time: there now, whether the guest lagged (capped) or not.
  assert.ok(Math.abs(clock.nowNs() - deadline) < 1, `time flowed through the halt: ${deadline - clock.nowNs()} ns short`);
  for (let k = 0; k < 2_000; k++) { sim.exec(1000); clock.nowNs(); }
  assert.ok(clock.nsPerInstruction() < 2 * rate, `the halt's host time was taken for instruction time: rate ${clock.nsPerInstruction()} (was ${rate})`);
});

test("realtime mode: a halt catches up a lag only to the deadline it halted for, one period at a time", () => {
  const { sim, clock } = simHost(5);
  for (let k = 0; k < 20_000; k++) { sim.exec(1000); clock.nowNs(); }
  sim.sleep(30_000_000); // a 30 ms host stall while busy: guest time now lags host time
  sim.exec(10);
  const lagging = clock.nowNs();
  assert.ok(sim.hostNs - lagging > 29e6);
  // A 4 ms periodic tick: each halt waits for the next one, wakes at most there, and the tick
  // handler runs (a few instructions) before the next halt — 30 ms take about 8 halts.
  const period = 4_000_000;
  let deadline = lagging + period, halts = 0;
  while (sim.hostNs - clock.nowNs() > period && halts < 100) {
    clock.idleUntil(deadline);
    sim.sleep(100_000);
    const t = clock.nowNs();
    assert.ok(t <= deadline, `woke at ${t}, past the deadline ${deadline}`);
    if (t === deadline) deadline += period; // the tick fired; the guest programs nothing new (periodic)
    sim.exec(50);
    clock.nowNs();
    halts++;
  }
  assert.ok(halts >= 7 && halts <= 10, `${halts} halts to catch up 30 ms in 4 ms periods`);
  // A deadline already past at the halt (a device that did not act on it) caps nothing.
  sim.sleep(10_000_000);
  sim.exec(10);
  clock.idleUntil(clock.nowNs() - 1);
  sim.sleep(1000);
  assert.ok(Math.abs(clock.nowNs() - sim.hostNs) < 1, "time must not freeze at a past deadline");
});

test("realtime mode: consecutive reads one instruction apart differ by about one instruction time", () => {
  const { sim, clock } = simHost(7);
  for (let k = 0; k < 20_000; k++) { sim.exec(1000); clock.nowNs(); }
  const deltas: number[] = [];
  let prev = clock.nowNs();
  for (let k = 0; k < 10_000; k++) {
    sim.exec(15, 0.0005); // a 15-instruction polling loop, with rare 3 ms host stalls
    const t = clock.nowNs();
    deltas.push(t - prev);
    prev = t;
  }
  // Linux's pit_calibrate_tsc gives up if the longest iteration is 10x the shortest.
  assert.ok(Math.max(...deltas) <= 10 * Math.min(...deltas), `min ${Math.min(...deltas)} max ${Math.max(...deltas)}`);
});

test("earliestDeadline / advanceAll", () => {
  const advanced: number[] = [];
  const dev = (d: number): Timed => ({ nextDeadlineNs: () => d, advance: (n) => advanced.push(d * 1000 + n) });
  const devs = [dev(50), dev(Infinity), dev(20)];
  assert.equal(earliestDeadline(devs), 20);
  assert.equal(earliestDeadline([]), Infinity);
  advanceAll(devs, 30);
  assert.deepEqual(advanced, [20 * 1000 + 30]);
});
