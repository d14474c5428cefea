// Expectations from the Intel SDM Vol. 3A ch. 10: §10.5.4 (timer, Figure 10-10 divide values),
// §10.8.3.1 (TPR/PPR), §10.8.4–10.8.5 (IRR/ISR, EOI, broadcast of level-triggered EOIs),
// §10.9 (spurious vector), §10.5.3 (ESR), §10.6.1 (ICR self-IPI), and the way Linux 6.1's
// calibrate_APIC_clock uses the timer (masked periodic, initial 0xFFFFFFFF, divide 16).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  LocalApic, timerDivisor, LVT_MASKED, LVT_TIMER_PERIODIC, LAPIC_TIMER_HZ, DM_EXTINT, DM_FIXED,
  APIC_TPR, APIC_PPR, APIC_EOI, APIC_SVR, APIC_ISR, APIC_IRR, APIC_TMR, APIC_LVTT, APIC_TMICT, APIC_TMCCT,
  APIC_TDCR, APIC_LVR, APIC_ESR, APIC_ICR_LO, APIC_LVT_LINT0, APIC_ID, LAPIC_VERSION,
  ESR_RECEIVE_ILLEGAL_VECTOR, ESR_SEND_ILLEGAL_VECTOR,
} from "../../devices/lapic.ts";
import { manualClock } from "./helpers.ts";

function setup() {
  const t = manualClock();
  const intr: boolean[] = [];
  const eois: number[] = [];
  let nmis = 0;
  let picVector = 0x20;
  const a = new LocalApic({
    clock: t.clock, setIntr: (l) => intr.push(l), nmi: () => nmis++,
    extIntAck: () => picVector, eoiBroadcast: (v) => eois.push(v),
  });
  a.write(APIC_SVR, 0x1ff); // software-enabled, spurious vector 0xFF
  return { t, a, intr, eois, nmis: () => nmis, setPicVector: (v: number) => (picVector = v) };
}
const fixed = (vector: number, level = false) => ({ vector, mode: DM_FIXED, level, dest: 0, logical: false });
/** Run the timer up to `ns`: advance() at each deadline on the way, as the run loop does. */
function runTo(t: ReturnType<typeof manualClock>, a: LocalApic, ns: number): void {
  while (a.nextDeadlineNs() <= ns) { t.set(a.nextDeadlineNs()); a.advance(t.ns); }
  t.set(ns);
}

test("divide configuration: Figure 10-10 (bits 3,1:0), all eight values", () => {
  const expect: [number, number][] = [[0b0000, 2], [0b0001, 4], [0b0010, 8], [0b0011, 16], [0b1000, 32], [0b1001, 64], [0b1010, 128], [0b1011, 1]];
  for (const [v, d] of expect) assert.equal(timerDivisor(v), d, `TDCR ${v.toString(2)}`);
  // Bit 2 is reserved and does not change the divisor.
  assert.equal(timerDivisor(0b0111), 16);
});

test("timer one-shot: counts down at bus/divisor, interrupts once, stays at zero", () => {
  const { t, a } = setup();
  const nsPerTick = 1e9 / LAPIC_TIMER_HZ;
  for (const [tdcr, div] of [[0b1011, 1], [0b0000, 2], [0b0011, 16], [0b1010, 128]] as const) {
    t.set(1_000_000);
    a.write(APIC_TDCR, tdcr);
    a.write(APIC_LVTT, 0x40); // one-shot, vector 0x40, unmasked
    a.write(APIC_TMICT, 1000);
    assert.equal(a.read(APIC_TMCCT), 1000);
    t.add(div * nsPerTick * 250);
    assert.equal(a.read(APIC_TMCCT), 750, `divide ${div}`);
    assert.equal(a.nextDeadlineNs(), 1_000_000 + 1000 * div * nsPerTick);
    runTo(t, a, 1_000_000 + 5000 * div * nsPerTick);
    assert.equal(a.read(APIC_TMCCT), 0);
    assert.equal(a.nextDeadlineNs(), Infinity);
    assert.equal(a.intack(), 0x40);
    a.write(APIC_EOI, 0);
    assert.equal(a.intrLevel, false, "one interrupt only");
  }
});

test("timer periodic: reloads from the initial count, one interrupt per period", () => {
  const { t, a } = setup();
  a.write(APIC_TDCR, 0b0011); // divide 16
  a.write(APIC_LVTT, LVT_TIMER_PERIODIC | 0x41);
  t.set(0);
  a.write(APIC_TMICT, 100); // period 1600 ns
  let taken = 0;
  for (let p = 1; p <= 5; p++) {
    runTo(t, a, p * 1600 - 16);
    assert.equal(a.read(APIC_TMCCT), 1, `just before expiry ${p}`);
    runTo(t, a, p * 1600);
    assert.equal(a.read(APIC_TMCCT), 100, "reloaded");
    assert.equal(a.intack(), 0x41);
    a.write(APIC_EOI, 0);
    taken++;
  }
  assert.equal(taken, 5);
  runTo(t, a, 5 * 1600 + 16 * 30);
  assert.equal(a.read(APIC_TMCCT), 70);
  // Writing the initial count restarts; writing 0 stops.
  a.write(APIC_TMICT, 0);
  assert.equal(a.read(APIC_TMCCT), 0);
  assert.equal(a.nextDeadlineNs(), Infinity);
});

test("timer as Linux calibrates it: masked periodic, 0xFFFFFFFF, divide 16 — no interrupt, exact count", () => {
  const { t, a, intr } = setup();
  a.write(APIC_TDCR, 0b0011);
  a.write(APIC_LVTT, LVT_MASKED | LVT_TIMER_PERIODIC | 0xef);
  t.set(5_000);
  a.write(APIC_TMICT, 0xffff_ffff);
  t.add(100_000_000); // 100 ms
  assert.equal(a.read(APIC_TMCCT), 0xffff_ffff - 100_000_000 / 16);
  runTo(t, a, 200_000_000);
  assert.equal(intr.includes(true), false);
});

test("a divide change keeps counting from the current value", () => {
  const { t, a } = setup();
  a.write(APIC_TDCR, 0b1011); // 1
  a.write(APIC_LVTT, 0x42);
  t.set(0);
  a.write(APIC_TMICT, 1000);
  t.set(400);
  a.write(APIC_TDCR, 0b0000); // 2
  assert.equal(a.read(APIC_TMCCT), 600);
  t.set(600);
  assert.equal(a.read(APIC_TMCCT), 500);
  assert.equal(a.nextDeadlineNs(), 400 + 600 * 2);
});

test("priority: PPR from TPR and ISR, only a higher class interrupts, nested EOI order", () => {
  const { a } = setup();
  a.accept(fixed(0x51));
  a.accept(fixed(0x35));
  assert.equal(a.intrLevel, true);
  a.write(APIC_TPR, 0x50); // class 5 blocks 0x51 and 0x35
  assert.equal(a.read(APIC_PPR), 0x50);
  assert.equal(a.intrLevel, false);
  a.write(APIC_TPR, 0x40);
  assert.equal(a.intrLevel, true);
  assert.equal(a.intack(), 0x51);
  assert.equal(a.read(APIC_PPR), 0x50, "ISR class 5 > TPR class 4");
  assert.equal(a.intrLevel, false, "0x35 is below the in-service class");
  a.accept(fixed(0x62));
  assert.equal(a.intack(), 0x62, "a higher class nests");
  assert.equal(a.read(APIC_ISR + 0x30), (1 << (0x62 & 31)) >>> 0);
  a.write(APIC_EOI, 0); // retires 0x62 (the highest in service)
  assert.equal(a.read(APIC_ISR + 0x30), 0);
  assert.equal(a.read(APIC_ISR + 0x20), 1 << (0x51 & 31));
  a.write(APIC_EOI, 0); // retires 0x51
  a.write(APIC_TPR, 0);
  assert.equal(a.read(APIC_PPR), 0);
  assert.equal(a.intack(), 0x35);
  assert.equal(a.read(APIC_IRR + 0x10), 0);
});

test("same-class: a pending vector of the in-service class waits for the EOI", () => {
  const { a } = setup();
  a.accept(fixed(0x40));
  assert.equal(a.intack(), 0x40);
  a.accept(fixed(0x4f));
  assert.equal(a.intrLevel, false);
  a.write(APIC_EOI, 0);
  assert.equal(a.intack(), 0x4f);
});

test("EOI of a level-triggered vector is broadcast (TMR), an edge one is not", () => {
  const { a, eois } = setup();
  a.accept(fixed(0x60, true));
  assert.equal(a.read(APIC_TMR + 0x30), 1);
  assert.equal(a.intack(), 0x60);
  a.write(APIC_EOI, 0);
  a.accept(fixed(0x61));
  assert.equal(a.intack(), 0x61);
  a.write(APIC_EOI, 0);
  assert.deepEqual(eois, [0x60]);
});

test("spurious: an interrupt withdrawn by TPR after INTR was sampled returns the SVR vector, no ISR bit", () => {
  const { a } = setup();
  a.accept(fixed(0x30));
  a.write(APIC_TPR, 0xf0);
  assert.equal(a.intack(), 0xff);
  for (let i = 0; i < 8; i++) assert.equal(a.read(APIC_ISR + 0x10 * i), 0);
});

test("illegal vectors set ESR; ESR reads what the last ESR write latched", () => {
  const { a } = setup();
  assert.equal(a.accept(fixed(5)), false);
  a.write(APIC_ICR_LO, (1 << 18) | 3); // self-IPI, vector 3
  assert.equal(a.read(APIC_ESR), 0, "not latched yet");
  a.write(APIC_ESR, 0);
  assert.equal(a.read(APIC_ESR), ESR_RECEIVE_ILLEGAL_VECTOR | ESR_SEND_ILLEGAL_VECTOR);
  a.write(APIC_ESR, 0);
  assert.equal(a.read(APIC_ESR), 0);
});

test("ICR self-IPI and physical destination = own ID", () => {
  const { a } = setup();
  a.write(APIC_ICR_LO, (1 << 18) | 0x80); // shorthand self
  assert.equal(a.intack(), 0x80);
  a.write(APIC_EOI, 0);
  a.write(APIC_ID, 0x0300_0000);
  assert.equal(a.read(APIC_ID), 0x0300_0000);
  assert.equal(a.accept({ vector: 0x81, mode: DM_FIXED, level: false, dest: 2, logical: false }), false);
  assert.equal(a.accept({ vector: 0x81, mode: DM_FIXED, level: false, dest: 3, logical: false }), true);
});

test("version is read-only (Linux's verify_local_APIC writes it); software-disable masks the LVT", () => {
  const { a } = setup();
  a.write(APIC_LVR, LAPIC_VERSION ^ 0xff);
  assert.equal(a.read(APIC_LVR), LAPIC_VERSION);
  a.write(APIC_LVTT, 0x40);
  a.write(APIC_SVR, 0xff);
  assert.equal(a.read(APIC_LVTT) & LVT_MASKED, LVT_MASKED);
  a.write(APIC_LVTT, 0x40);
  assert.equal(a.read(APIC_LVTT) & LVT_MASKED, LVT_MASKED, "cannot unmask while disabled");
  assert.equal(a.accept(fixed(0x40)), false);
});

test("virtual wire: the 8259's INTR through LINT0 (ExtINT) gets its vector from the 8259", () => {
  const { a, setPicVector } = setup();
  a.virtualWire();
  setPicVector(0x30);
  a.setLint0(true);
  assert.equal(a.intrLevel, true);
  assert.equal(a.intack(), 0x30);
  a.setLint0(false);
  assert.equal(a.intrLevel, false);
  // Masking LINT0 cuts the 8259 off.
  a.write(APIC_LVT_LINT0, LVT_MASKED | (DM_EXTINT << 8));
  a.setLint0(true);
  assert.equal(a.intrLevel, false);
});

test("garbage: unaligned and unknown offsets are logged and ignored, never thrown", () => {
  const { a } = setup();
  assert.doesNotThrow(() => { a.write(0x24, 1); a.write(0x400, 1); a.write(0xffc, 0xffffffff); a.read(0x3f0); });
  assert.equal(a.read(APIC_ID), 0);
});
