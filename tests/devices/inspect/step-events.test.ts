// What step mode relies on in the transport: every notify and queue interrupt reported, a
// notify held until released (so a paused VM shows the request before the device takes it);
// and a snapshot of a queue whose ring memory the guest scribbled over after starting it
// reports errors instead of throwing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { VirtioMmio } from "../../../devices/virtio/mmio.ts";
import { ISR_QUEUE } from "../../../devices/virtio/transport.ts";
import { inspectVirtio } from "../../../devices/inspect/snapshot.ts";
import { observeTransport } from "../../../devices/inspect/observer.ts";
import { DummyDevice } from "../virtio/dummy-device.ts";

function setup() {
  const mem = new RamMemory(new Uint8Array(1 << 16));
  const dev = new DummyDevice();
  const m = new VirtioMmio(dev, { name: "virtio-dummy0", version: 2, base: 0xd0000000, irq: 5, mem, setIrq: () => {}, log: () => {} });
  const w = (o: number, v: number) => m.regions[0].write(o, 4, v);
  // Driver bring-up (§3.1.1) with queue 0 at 0x1000 / 0x2000 / 0x3000, size 16.
  w(0x70, 1); w(0x70, 3); w(0x24, 1); w(0x20, 1); w(0x70, 11);
  w(0x30, 0); w(0x38, 16); w(0x80, 0x1000); w(0x90, 0x2000); w(0xa0, 0x3000); w(0x44, 1);
  w(0x70, 15);
  const snap = () => inspectVirtio({ spec: { type: "rng", transport: "mmio-v2" }, device: dev, transport: m.t, info: () => m.info(), mmio: m }, mem);
  return { mem, dev, m, w, snap };
}

test("a held notify reaches the device only when released; interrupts are reported", () => {
  const { dev, m, w } = setup();
  const events: boolean[] = [];
  observeTransport(m.t).onEvent = (notify) => { events.push(notify); return notify; };
  w(0x50, 0);
  assert.deepEqual(dev.notified, [], "held");
  assert.equal(m.t.queues[0]!.kicks, 1, "but counted at the trap");
  m.t.raise(ISR_QUEUE);
  assert.deepEqual(events, [true, false]);
  observeTransport(m.t).onEvent = null;
  m.t.releaseHeld();
  assert.deepEqual(dev.notified, [0]);
  m.t.releaseHeld();
  assert.deepEqual(dev.notified, [0], "delivered once");
});

test("a reset drops held notifications", () => {
  const { dev, m, w } = setup();
  observeTransport(m.t).onEvent = () => true;
  w(0x50, 0);
  w(0x70, 0);
  m.t.releaseHeld();
  assert.deepEqual(dev.notified, []);
});

test("ring memory scribbled after start: errors in the snapshot, no exception", () => {
  const { mem, snap } = setup();
  mem.setU16(0x2002, 9000); // avail.idx far ahead
  mem.setU16(0x2004, 77); // head out of range
  let s = snap();
  const ring = s.queues[0]!.ring!;
  assert.equal(s.queues[0]!.format, "split");
  assert.match(ring.errors.join(), /avail.idx 9000 is 9000 ahead/);
  mem.setU16(0x2002, 1);
  s = snap();
  assert.match(s.queues[0]!.ring!.chains[0]!.error!, /head 77 ≥ queue size 16/);
  assert.doesNotThrow(() => JSON.stringify(s));
});
