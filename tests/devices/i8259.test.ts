// Expectations from the Intel 8259A datasheet and Linux 6.1 arch/x86/kernel/i8259.c.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PicPair } from "../../devices/i8259.ts";
import { busWith } from "./helpers.ts";

/** A PIC pair initialised exactly as Linux's init_8259A(auto_eoi = 0) does, all unmasked. */
function linuxPic(opts: { autoEoi?: boolean } = {}) {
  const intr: boolean[] = [];
  const pic = new PicPair({ onIntr: (l) => intr.push(l) });
  const io = busWith(pic.ports);
  io.outb(0x21, 0xff); io.outb(0xa1, 0xff); // mask all
  io.outb(0x20, 0x11); io.outb(0x21, 0x30); io.outb(0x21, 0x04); io.outb(0x21, opts.autoEoi ? 0x03 : 0x01);
  io.outb(0xa0, 0x11); io.outb(0xa1, 0x38); io.outb(0xa1, 0x02); io.outb(0xa1, 0x01);
  io.outb(0x21, 0x00); io.outb(0xa1, 0x00);
  return { pic, io, intr };
}
const eoiMaster = (io: ReturnType<typeof linuxPic>["io"]) => io.outb(0x20, 0x20);

test("ICW1-4 program the vector bases; IMR reads back through the data port", () => {
  const { pic, io } = linuxPic();
  io.outb(0x21, 0xfb); // Linux's probe_8259A writes a mask and reads it back
  assert.equal(io.inb(0x21), 0xfb);
  io.outb(0x21, 0x00);
  pic.setIrq(1, true);
  assert.equal(pic.intack(), 0x31);
  pic.setIrq(9, true);
  eoiMaster(io);
  assert.equal(pic.intack(), 0x39);
});

test("INTR follows pending requests and onIntr reports each change once", () => {
  const { pic, io, intr } = linuxPic();
  intr.length = 0;
  pic.setIrq(4, true);
  assert.equal(pic.intrLevel, true);
  assert.deepEqual(intr, [true]);
  assert.equal(pic.intack(), 0x34);
  assert.deepEqual(intr, [true, false]); // in service, nothing else pending
  pic.setIrq(4, false);
  eoiMaster(io);
  assert.deepEqual(intr, [true, false]);
});

test("fixed priority: IRQ0 before IRQ1 before IRQ3; a higher request preempts a lower in service", () => {
  const { pic, io } = linuxPic();
  pic.setIrq(3, true); pic.setIrq(1, true); pic.setIrq(0, true);
  assert.equal(pic.intack(), 0x30);
  // IRQ0 in service blocks the others (fully nested mode)
  assert.equal(pic.intrLevel, false);
  eoiMaster(io);
  assert.equal(pic.intack(), 0x31);
  pic.setIrq(0, false); pic.setIrq(0, true); // new edge on IRQ0 while IRQ1 in service
  assert.equal(pic.intrLevel, true);
  assert.equal(pic.intack(), 0x30);
  io.outb(0x20, 0x0b); // OCW3: read ISR
  assert.equal(io.inb(0x20), 0b11);
  eoiMaster(io); // non-specific EOI clears the highest in-service: IRQ0
  assert.equal(io.inb(0x20), 0b10);
  io.outb(0x20, 0x0a); // back to IRR
  assert.equal(io.inb(0x20), 0b1000); // IRQ3 still requested
  eoiMaster(io);
  assert.equal(pic.intack(), 0x33);
});

test("masking holds a request in IRR until unmasked", () => {
  const { pic, io } = linuxPic();
  io.outb(0x21, 0x20);
  pic.setIrq(5, true);
  assert.equal(pic.intrLevel, false);
  assert.equal(io.inb(0x20) & 0x20, 0x20);
  io.outb(0x21, 0x00);
  assert.equal(pic.intrLevel, true);
  assert.equal(pic.intack(), 0x35);
});

test("specific EOI (0x60 + irq) clears exactly that in-service bit", () => {
  const { pic, io } = linuxPic();
  pic.setIrq(3, true);
  assert.equal(pic.intack(), 0x33);
  pic.setIrq(1, true);
  assert.equal(pic.intack(), 0x31); // preempts IRQ3
  io.outb(0x20, 0x63); // specific EOI for IRQ3 (not the highest)
  io.outb(0x20, 0x0b);
  assert.equal(io.inb(0x20), 0b10);
  io.outb(0x20, 0x61);
  assert.equal(io.inb(0x20), 0);
});

test("cascade: slave IRQs arrive through master IR2, Linux's EOI order (slave 0x60+n, master 0x62)", () => {
  const { pic, io } = linuxPic();
  pic.setIrq(12, true);
  assert.equal(pic.intrLevel, true);
  assert.equal(pic.intack(), 0x3c);
  io.outb(0x20, 0x0b); io.outb(0xa0, 0x0b);
  assert.equal(io.inb(0x20), 0b100); // master IR2 in service
  assert.equal(io.inb(0xa0), 0b10000); // slave IR4 in service
  // A second slave request while the first is in service waits for both EOIs.
  pic.setIrq(10, true);
  assert.equal(pic.intrLevel, false);
  io.outb(0xa0, 0x64);
  assert.equal(pic.intrLevel, false); // master IR2 still in service
  io.outb(0x20, 0x62);
  assert.equal(pic.intrLevel, true);
  assert.equal(pic.intack(), 0x3a);
  // Master IRQ0/1 outrank every slave IRQ; IRQ3 does not.
  pic.setIrq(3, true);
  io.outb(0xa0, 0x62); io.outb(0x20, 0x62);
  assert.equal(pic.intack(), 0x33);
});

test("edge vs level (ELCR): a level input re-requests after EOI while high; an edge input needs a new edge", () => {
  const { pic, io } = linuxPic();
  io.outb(0x4d1, 0x0c); // IRQ10, IRQ11 level (what firmware does for PCI)
  assert.equal(io.inb(0x4d1), 0x0c);
  io.outb(0x4d0, 0xff); // IRQ0-2 cannot be level: reserved bits read 0
  assert.equal(io.inb(0x4d0), 0xf8);
  io.outb(0x4d0, 0x00);
  pic.setIrq(11, true);
  assert.equal(pic.intack(), 0x3b);
  io.outb(0xa0, 0x63); io.outb(0x20, 0x62);
  assert.equal(pic.intack(), 0x3b, "line still high: delivered again");
  pic.setIrq(11, false);
  io.outb(0xa0, 0x63); io.outb(0x20, 0x62);
  assert.equal(pic.intrLevel, false);
  // A level line that drops before it is acknowledged withdraws its request.
  pic.setIrq(10, true); pic.setIrq(10, false);
  assert.equal(pic.intrLevel, false);
  // Edge: held high across EOI -> only one interrupt; a pulse is latched.
  pic.setIrq(4, true);
  assert.equal(pic.intack(), 0x34);
  eoiMaster(io);
  assert.equal(pic.intrLevel, false);
  pic.setIrq(4, false);
  pic.setIrq(6, true); pic.setIrq(6, false); // PIT-style pulse
  assert.equal(pic.intack(), 0x36);
});

test("spurious IRQ7: an acknowledge with nothing pending returns IR7's vector and sets no ISR bit", () => {
  const { pic, io } = linuxPic();
  assert.equal(pic.intack(), 0x37);
  io.outb(0x20, 0x0b);
  assert.equal(io.inb(0x20), 0);
  // A level request that is withdrawn between INTR and INTA leaves nothing to deliver: the
  // acknowledge is spurious (IR7's vector), which Linux counts and ignores.
  io.outb(0x4d1, 0x04); // IRQ10 level
  pic.setIrq(10, true);
  assert.equal(pic.intrLevel, true);
  pic.setIrq(10, false);
  assert.equal(pic.intrLevel, false);
  assert.equal(pic.intack(), 0x37);
});

test("auto-EOI: no ISR bit is set, so the next request is delivered without an EOI", () => {
  const { pic, io } = linuxPic({ autoEoi: true });
  pic.setIrq(5, true);
  assert.equal(pic.intack(), 0x35);
  io.outb(0x20, 0x0b);
  assert.equal(io.inb(0x20), 0);
  pic.setIrq(3, true);
  assert.equal(pic.intack(), 0x33);
});

test("rotation: rotate on non-specific EOI makes the served IRQ lowest priority; set priority", () => {
  const { pic, io } = linuxPic();
  pic.setIrq(1, true); pic.setIrq(3, true);
  assert.equal(pic.intack(), 0x31);
  io.outb(0x20, 0xa0); // rotate on non-specific EOI: IR1 now lowest, IR2 highest
  pic.setIrq(1, false); pic.setIrq(1, true);
  assert.equal(pic.intack(), 0x33); // IR3 outranks IR1 now
  io.outb(0x20, 0x20);
  io.outb(0x20, 0xc7); // set priority: IR7 lowest (back to IR0 highest)
  pic.setIrq(0, true);
  assert.equal(pic.intack(), 0x30);
});

test("poll mode (OCW3 P): the command-port read acknowledges and returns 0x80 | level", () => {
  const { pic, io } = linuxPic();
  pic.setIrq(6, true);
  io.outb(0x20, 0x0c);
  assert.equal(io.inb(0x20), 0x86);
  io.outb(0x20, 0x0b);
  assert.equal(io.inb(0x20), 0x40);
  io.outb(0x20, 0x0c);
  assert.equal(io.inb(0x20), 0x00); // nothing pending
});

test("special mask mode lets lower-priority requests through while a higher one is in service", () => {
  const { pic, io } = linuxPic();
  pic.setIrq(2 + 1, true);
  assert.equal(pic.intack(), 0x33);
  io.outb(0x21, 0x08); // mask the in-service IR3
  io.outb(0x20, 0x68); // OCW3: ESMM + SMM
  pic.setIrq(5, true);
  assert.equal(pic.intack(), 0x35);
  io.outb(0x20, 0x48); // leave special mask mode
  pic.setIrq(6, true);
  assert.equal(pic.intrLevel, false); // IR3/IR5 in service block IR6 again
});

test("ICW1 re-initialisation clears IMR and ISR; edge inputs need a fresh edge", () => {
  const { pic, io } = linuxPic();
  pic.setIrq(4, true);
  pic.intack();
  io.outb(0x21, 0x55);
  io.outb(0x20, 0x11); io.outb(0x21, 0x30); io.outb(0x21, 0x04); io.outb(0x21, 0x01);
  assert.equal(io.inb(0x21), 0);
  io.outb(0x20, 0x0b);
  assert.equal(io.inb(0x20), 0);
  assert.equal(pic.intrLevel, false);
});
