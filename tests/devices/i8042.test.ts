// The keyboard controller paths that matter without a keyboard driver: Linux's reboot
// (arch/x86/kernel/reboot.c: wait for status bit 1 clear, then 0x64 <- 0xFE), A20 and the
// controller self-test. Port 0x92 and the POST port: system-control.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { I8042 } from "../../devices/i8042.ts";
import { busWith } from "./helpers.ts";

test("reboot through the keyboard controller: input buffer empty, then 0xFE pulses reset", () => {
  let resets = 0;
  const kbc = new I8042({ requestReset: () => resets++ });
  const io = busWith(kbc.ports);
  assert.equal(io.inb(0x64) & 0x02, 0, "input buffer empty: kb_wait returns at once");
  io.outb(0x64, 0xfe);
  assert.equal(resets, 1);
  io.outb(0x64, 0xff); // pulse nothing (bit 0 set) -> no reset
  assert.equal(resets, 1);
});

test("self-test 0xAA answers 0x55 on port 0x60 with the output buffer full flag; system flag set", () => {
  const kbc = new I8042({ requestReset: () => {} });
  const io = busWith(kbc.ports);
  assert.equal(io.inb(0x64) & 0x04, 0x04);
  io.outb(0x64, 0xaa);
  assert.equal(io.inb(0x64) & 0x01, 0x01);
  assert.equal(io.inb(0x60), 0x55);
  assert.equal(io.inb(0x64) & 0x01, 0x00);
});

test("command byte read/write, output port A20 (0xD1, 0xDD/0xDF), reset via output port bit 0", () => {
  const a20: boolean[] = [];
  let resets = 0;
  const kbc = new I8042({ requestReset: () => resets++, onA20: (e) => a20.push(e) });
  const io = busWith(kbc.ports);
  io.outb(0x64, 0x60); io.outb(0x60, 0x44);
  io.outb(0x64, 0x20);
  assert.equal(io.inb(0x60), 0x44);
  io.outb(0x64, 0xd1); io.outb(0x60, 0x01); // A20 off, reset line high
  assert.deepEqual(a20, [false]);
  io.outb(0x64, 0xdf);
  assert.deepEqual(a20, [false, true]);
  io.outb(0x64, 0xd0);
  assert.equal(io.inb(0x60) & 0x03, 0x03);
  assert.equal(resets, 0);
  io.outb(0x64, 0xd1); io.outb(0x60, 0x02); // bit 0 low: reset
  assert.equal(resets, 1);
});

test("IRQ1 follows the output buffer when the command byte enables it", () => {
  const irq: boolean[] = [];
  const kbc = new I8042({ requestReset: () => {}, setIrq: (l) => irq.push(l) });
  const io = busWith(kbc.ports);
  io.outb(0x60, 0xf4); // a keyboard command: ACK
  assert.deepEqual(irq, [true]);
  assert.equal(io.inb(0x60), 0xfa);
  assert.deepEqual(irq, [true, false]);
});
