// The platform chips wired the way a board wires them, driven by a toy run loop that uses the
// timer scheme (earliestDeadline → instruction budget, advanceAll, idleUntil on HLT): checks
// that PIT, RTC and UART interrupts reach the CPU through the PIC pair as the right vectors at
// the right guest times, and that the whole thing is deterministic.
import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock, earliestDeadline, advanceAll, type Timed } from "../../devices/clock.ts";
import { PortBus } from "../../devices/bus/ports.ts";
import { PicPair } from "../../devices/i8259.ts";
import { Pit, PIT_HZ } from "../../devices/i8254.ts";
import { Uart16550 } from "../../devices/uart16550.ts";
import { Cmos } from "../../devices/cmos.ts";

function machine() {
  let instret = 0;
  const clock = new VirtualClock({ mode: "deterministic", instret: () => instret });
  let intr = false;
  const pic = new PicPair({ onIntr: (l) => { intr = l; } });
  const pit = new Pit({ clock, irq0: (l) => pic.setIrq(0, l) });
  const tx: number[] = [];
  const uart = new Uart16550({ base: 0x3f8, irq: 4, clock, setIrq: (l) => pic.setIrq(4, l), onTransmit: (b) => tx.push(b) });
  const cmos = new Cmos({ clock, setIrq: (l) => pic.setIrq(8, l) });
  const io = new PortBus();
  for (const d of [pic, pit, uart, cmos]) io.registerAll(d.ports);
  const timed: Timed[] = [pit, uart, cmos];
  const outb = (p: number, v: number) => { instret += 10; io.write(p, 1, v); };
  const inb = (p: number) => { instret += 10; return io.read(p, 1); };
  return {
    clock, pic, pit, uart, cmos, io, tx, outb, inb,
    get intr() { return intr; },
    /** Execute `n` instructions of busy guest code (no port accesses). */
    run(n: number) { instret += n; },
    /** The run loop between interrupts: run up to the next deadline, or halt until it. */
    step(halted: boolean) {
      const d = earliestDeadline(timed);
      const now = clock.nowNs();
      if (halted) clock.idleUntil(d);
      else instret += Math.max(1, Math.min(1_000_000, Math.ceil(d - now)));
      advanceAll(timed, clock.nowNs());
    },
  };
}

/** Linux-like init of PIC (vectors 0x30/0x38), PIT at HZ=100, COM1 with RX interrupts, RTC 2 Hz periodic. */
function boot(m: ReturnType<typeof machine>) {
  const { outb, inb } = m;
  outb(0x20, 0x11); outb(0x21, 0x30); outb(0x21, 0x04); outb(0x21, 0x01);
  outb(0xa0, 0x11); outb(0xa1, 0x38); outb(0xa1, 0x02); outb(0xa1, 0x01);
  outb(0x21, 0x00); outb(0xa1, 0x00);
  const LATCH = Math.floor((PIT_HZ + 50) / 100);
  outb(0x43, 0x34); outb(0x40, LATCH & 0xff); outb(0x40, LATCH >> 8);
  outb(0x3fb, 0x83); outb(0x3f8, 1); outb(0x3f9, 0); outb(0x3fb, 0x03); outb(0x3fa, 0x87); outb(0x3fc, 0x0b);
  outb(0x3f9, 0x01);
  outb(0x70, 0x0a); outb(0x71, 0x2f); // 2 Hz
  outb(0x70, 0x0b); outb(0x71, 0x42); // PIE, 24h BCD
  void inb;
}

/** One guest second: halt when idle, take interrupts, EOI as Linux does. Returns [ns, vector]. */
function runSecond(m: ReturnType<typeof machine>, onVector?: (v: number) => void) {
  const seen: [number, number][] = [];
  const end = m.clock.nowNs() + 1e9;
  while (m.clock.nowNs() < end) {
    if (!m.intr) { m.step(true); continue; }
    const v = m.pic.intack();
    seen.push([m.clock.nowNs(), v]);
    onVector?.(v);
    if (v === 0x38) { m.outb(0x70, 0x0c); m.inb(0x71); } // rtc_interrupt reads register C
    if (v === 0x34) { while (m.inb(0x3fd) & 1) m.tx.push(m.inb(0x3f8)); m.inb(0x3fa); }
    if (v >= 0x38) { m.outb(0xa0, 0x60 + (v & 7)); m.outb(0x20, 0x62); } else m.outb(0x20, 0x60 + (v & 7));
    m.run(2000); // the handler's own instructions
  }
  return seen;
}

test("IRQ0 at 100 Hz, RTC IRQ8 at 2 Hz through the cascade, UART IRQ4 on input", () => {
  const m = machine();
  boot(m);
  m.uart.receive(new TextEncoder().encode("root\n"));
  const seen = runSecond(m);
  const count = (v: number) => seen.filter(([, x]) => x === v).length;
  assert.ok(count(0x30) >= 99 && count(0x30) <= 100, `${count(0x30)} timer ticks`);
  assert.equal(count(0x38), 2);
  assert.equal(count(0x34), 1, "5 bytes below the trigger: one character-timeout interrupt");
  assert.equal(new TextDecoder().decode(Uint8Array.from(m.tx)), "root\n");
  // Timer ticks are 11932 PIT clocks (10.000235 ms) apart.
  const ticks = seen.filter(([, v]) => v === 0x30).map(([t]) => t);
  const jitter = ticks.slice(1).map((t, i) => Math.abs(t - ticks[i]! - 10_000_235));
  assert.ok(Math.max(...jitter) <= 4000, `ack jitter ${Math.max(...jitter)} ns`); // an RTC or UART handler may go first
  assert.equal(count(0x37) + count(0x3f), 0, "no spurious interrupts");
});

test("the same inputs give the same interrupt timeline (deterministic mode)", () => {
  const once = () => { const m = machine(); boot(m); m.uart.receive(new Uint8Array([65, 66, 67])); return runSecond(m); };
  assert.deepEqual(once(), once());
});

test("a busy guest (no HLT) sees its timer ticks at the same guest times as an idle one", () => {
  const m = machine();
  boot(m);
  const ticks: number[] = [];
  const end = m.clock.nowNs() + 2e8;
  while (m.clock.nowNs() < end) {
    if (m.intr) {
      const v = m.pic.intack();
      if (v === 0x30) ticks.push(m.clock.nowNs());
      if (v === 0x38) { m.outb(0x70, 0x0c); m.inb(0x71); m.outb(0xa0, 0x60); m.outb(0x20, 0x62); } else m.outb(0x20, 0x60 + (v & 7));
    } else m.step(false);
  }
  assert.ok(ticks.length >= 19 && ticks.length <= 20);
  const jitter = ticks.slice(1).map((t, i) => Math.abs(t - ticks[i]! - 10_000_235));
  assert.ok(Math.max(...jitter) <= 100, `ack jitter ${Math.max(...jitter)} ns`);
});
