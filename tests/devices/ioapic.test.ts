// Expectations from the Intel 82093AA I/O APIC datasheet (§3.1 IOREGSEL/IOWIN, §3.2.1–3.2.4
// ID, version, arbitration, redirection table: mask, trigger mode, Remote IRR, polarity), with
// the local APIC's EOI broadcast closing the level-triggered loop (SDM Vol. 3A §10.8.5).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  IoApic, IOREGSEL, IOWIN, IOAPICVER, IOAPICID, IOAPICARB, IOREDTBL, RTE_MASKED, RTE_LEVEL, RTE_REMOTE_IRR, RTE_ACTIVE_LOW,
} from "../../devices/ioapic.ts";
import { LocalApic, DM_FIXED, APIC_SVR, APIC_EOI, type ApicMessage } from "../../devices/lapic.ts";
import { manualClock } from "./helpers.ts";

function setup(activeLowPins: number[] = []) {
  const sent: ApicMessage[] = [];
  const io = new IoApic({ send: (m) => (sent.push(m), true), activeLowPins });
  const reg = (r: number, v?: number) => {
    io.region.write(IOREGSEL, 4, r);
    if (v === undefined) return io.region.read(IOWIN, 4) >>> 0;
    io.region.write(IOWIN, 4, v);
    return 0;
  };
  return { io, sent, reg };
}

test("ID, version (24 entries, 0x11), arbitration; all entries masked at reset", () => {
  const { reg } = setup();
  assert.equal(reg(IOAPICVER), 0x0017_0011);
  reg(IOAPICID, 0x0500_0000);
  assert.equal(reg(IOAPICID), 0x0500_0000);
  assert.equal(reg(IOAPICARB), 0x0500_0000);
  reg(IOAPICVER, 0); // read-only
  assert.equal(reg(IOAPICVER), 0x0017_0011);
  for (let pin = 0; pin < 24; pin++) assert.equal(reg(IOREDTBL + 2 * pin) & RTE_MASKED, RTE_MASKED);
  assert.equal(reg(IOREDTBL + 48), 0, "no entry 24");
});

test("edge: one message per rising edge while unmasked; a masked edge is lost", () => {
  const { io, sent, reg } = setup();
  reg(IOREDTBL + 4 + 1, 0x0000_0000); // pin 2 high dword: destination 0
  reg(IOREDTBL + 4, 0x30); // pin 2: vector 0x30, fixed, edge, high, unmasked
  io.setPin(2, true);
  io.setPin(2, true);
  io.setPin(2, false);
  io.setPin(2, true);
  assert.deepEqual(sent.map((m) => m.vector), [0x30, 0x30]);
  io.setPin(2, false);
  reg(IOREDTBL + 4, 0x30 | RTE_MASKED);
  io.setPin(2, true);
  reg(IOREDTBL + 4, 0x30);
  assert.equal(sent.length, 2, "masked edge not remembered");
  assert.equal(sent[0]!.level, false);
});

test("level: Remote IRR set on delivery, blocks until EOI; EOI with the line still up re-sends", () => {
  const { io, sent, reg } = setup();
  reg(IOREDTBL + 2 * 5, 0x41 | RTE_LEVEL);
  io.setPin(5, true);
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.level, true);
  assert.equal(reg(IOREDTBL + 2 * 5) & RTE_REMOTE_IRR, RTE_REMOTE_IRR);
  io.setPin(5, false);
  io.setPin(5, true);
  assert.equal(sent.length, 1, "Remote IRR blocks further messages");
  reg(IOREDTBL + 2 * 5, 0x41 | RTE_LEVEL | RTE_REMOTE_IRR); // read-only bit: writing it changes nothing
  io.eoi(0x99); // another vector: nothing
  assert.equal(sent.length, 1);
  io.eoi(0x41);
  assert.equal(sent.length, 2, "still asserted: sent again");
  io.setPin(5, false);
  io.eoi(0x41);
  assert.equal(reg(IOREDTBL + 2 * 5) & RTE_REMOTE_IRR, 0);
  assert.equal(sent.length, 2);
});

test("level: unmasking an asserted pin delivers at once", () => {
  const { io, sent, reg } = setup();
  reg(IOREDTBL + 2 * 9, 0x42 | RTE_LEVEL | RTE_MASKED);
  io.setPin(9, true);
  assert.equal(sent.length, 0);
  reg(IOREDTBL + 2 * 9, 0x42 | RTE_LEVEL);
  assert.equal(sent.length, 1);
});

test("polarity: an active-low PCI pin programmed active-low asserts when the device asserts", () => {
  const { io, sent, reg } = setup([16]);
  reg(IOREDTBL + 2 * 16, 0x50 | RTE_LEVEL | RTE_ACTIVE_LOW);
  assert.equal(sent.length, 0, "idle line (electrically high) is not a request");
  io.setPin(16, true);
  assert.equal(sent.length, 1);
});

test("with the local APIC: a level interrupt goes IRR → ISR, EOI broadcast clears Remote IRR", () => {
  const t = manualClock();
  let io!: IoApic;
  const lapic = new LocalApic({ clock: t.clock, setIntr: () => {}, nmi: () => {}, extIntAck: () => 0, eoiBroadcast: (v) => io.eoi(v) });
  lapic.write(APIC_SVR, 0x1ff);
  io = new IoApic({ send: (m) => lapic.accept(m) });
  io.region.write(IOREGSEL, 4, IOREDTBL + 2 * 11);
  io.region.write(IOWIN, 4, 0x61 | RTE_LEVEL);
  io.setPin(11, true);
  assert.equal(lapic.intrLevel, true);
  assert.equal(lapic.intack(), 0x61);
  io.setPin(11, false); // the driver quiets the device, then EOIs
  lapic.write(APIC_EOI, 0);
  io.region.write(IOREGSEL, 4, IOREDTBL + 2 * 11);
  assert.equal(io.region.read(IOWIN, 4) & RTE_REMOTE_IRR, 0);
  io.setPin(11, true);
  assert.equal(lapic.intack(), 0x61, "the next assertion is delivered");
  void DM_FIXED;
});

test("garbage register indices are ignored and logged, never thrown", () => {
  const logs: string[] = [];
  const io = new IoApic({ send: () => true, log: (m) => logs.push(m) });
  io.region.write(IOREGSEL, 4, 0xff);
  assert.doesNotThrow(() => { io.region.write(IOWIN, 4, 123); io.region.read(IOWIN, 4); io.region.write(0x4, 4, 1); });
  assert.ok(logs.length >= 2);
  io.setPin(99, true); // no such pin
});
