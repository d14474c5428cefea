// PS/2-style system control port A (0x92) and the POST / I/O-delay sinks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SystemControl, PostPorts } from "../../devices/system-control.ts";
import { busWith } from "./helpers.ts";

test("port 0x92: bit 0 fast reset, bit 1 A20, bit 0 reads back 0", () => {
  let resets = 0;
  const a20: boolean[] = [];
  const sc = new SystemControl({ requestReset: () => resets++, onA20: (e) => a20.push(e) });
  const io = busWith(sc.ports);
  assert.equal(io.inb(0x92), 0x02);
  io.outb(0x92, 0x00);
  assert.deepEqual(a20, [false]);
  assert.equal(sc.a20, false);
  io.outb(0x92, 0x03);
  assert.equal(resets, 1);
  assert.deepEqual(a20, [false, true]);
  assert.equal(io.inb(0x92), 0x02, "bit 0 reads 0 after the pulse");
});

test("POST code 0x80 remembered, reads like an empty bus; 0xED is a claimed sink", () => {
  const post = new PostPorts();
  const io = busWith(post.ports);
  io.outb(0x80, 0x42);
  assert.equal(post.lastPostCode, 0x42);
  assert.equal(io.inb(0x80), 0xff);
  io.outb(0xed, 0);
  assert.equal(io.stats().unknown.length, 0);
});
