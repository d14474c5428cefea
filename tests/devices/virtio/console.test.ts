// virtio-console against virtio 1.2 §5.3 and Linux 6.1 drivers/char/virtio_console.c: without
// MULTIPORT, queue 0 is port 0's receiveq and queue 1 its transmitq; config
// { le16 cols @0; le16 rows @2; le32 max_nr_ports @4 }; VIRTIO_CONSOLE_F_SIZE = bit 0,
// MULTIPORT = bit 1, EMERG_WRITE = bit 2.
import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtioConsole } from "../../../devices/virtio/console.ts";
/** Bytes of one transmit chain the host gets at most (console.ts CONSOLE_TX_MAX). */
const CONSOLE_TX_MAX = 65536;
import { Harness } from "./device-harness.ts";

const RX = 0, TX = 1;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function setup(opts: { cols?: number; rows?: number } = {}) {
  const out: number[] = [];
  const dev = new VirtioConsole({ onOutput: (b) => out.push(...b), queueSize: 16, ...opts });
  const h = new Harness(dev);
  return { dev, h, out, rx: h.drivers[RX]!, tx: h.drivers[TX]! };
}

test("device id 3, two queues, only VIRTIO_CONSOLE_F_SIZE offered", () => {
  const { dev } = setup();
  assert.equal(dev.deviceId, 3);
  assert.equal(dev.queueSizes.length, 2); // receiveq0, transmitq0: no control queues
  assert.equal(dev.features, 1n << 0n);
});

test("config space holds cols at 0 and rows at 2, little-endian", () => {
  const { h } = setup({ cols: 132, rows: 43 });
  assert.equal(h.cfg(0, 2), 132);
  assert.equal(h.cfg(2, 2), 43);
  assert.equal(h.cfg(0, 4), 132 | (43 << 16));
  assert.ok(h.device.configSize >= 4);
});

test("transmitted bytes go to onOutput in order; the buffers return with nothing written", () => {
  const { h, out, tx } = setup();
  h.activate();
  const a = tx.post(enc("hel"), enc("lo "));
  const b = tx.post(enc("world\n"));
  tx.kick();
  assert.equal(dec(Uint8Array.from(out)), "hello world\n");
  assert.deepEqual(tx.takeUsed(), [{ id: a.id, len: 0 }, { id: b.id, len: 0 }]);
  assert.equal(h.interrupts[TX], 1); // one interrupt for the batch
});

test("input typed before the driver is up waits, then fills receive buffers as they are posted", () => {
  const { dev, h, rx } = setup();
  dev.receive(enc("ab"));
  dev.receive(enc("cde"));
  assert.equal(dev.pendingInput, 5);
  h.activate(); // no receive buffers yet: nothing to do, nothing lost
  assert.equal(dev.pendingInput, 5);
  const b1 = rx.post(2);
  rx.kick();
  assert.deepEqual(rx.takeUsed(), [{ id: b1.id, len: 2 }]);
  assert.equal(dec(h.bytes(b1.bufs[0]!)), "ab");
  assert.equal(dev.pendingInput, 3);
  const b2 = rx.post(16);
  rx.kick();
  assert.deepEqual(rx.takeUsed(), [{ id: b2.id, len: 3 }]); // used length = bytes written
  assert.equal(dec(h.bytes(b2.bufs[0]!).subarray(0, 3)), "cde");
  assert.equal(h.bytes(b2.bufs[0]!)[3], 0xcc); // nothing written past them
  assert.equal(dev.pendingInput, 0);
});

test("input with buffers already posted is delivered at once, one interrupt per delivery", () => {
  const { dev, h, rx } = setup();
  h.activate();
  const bufs = [rx.post(4), rx.post(4), rx.post(4)];
  rx.kick(); // buffers but no input: nothing is consumed
  assert.deepEqual(rx.takeUsed(), []);
  assert.equal(h.interrupts[RX], 0);
  dev.receive(enc("0123456789"));
  assert.deepEqual(rx.takeUsed(), [{ id: bufs[0]!.id, len: 4 }, { id: bufs[1]!.id, len: 4 }, { id: bufs[2]!.id, len: 2 }]);
  assert.equal(dec(h.bytes(bufs[2]!.bufs[0]!).subarray(0, 2)), "89");
  assert.equal(h.interrupts[RX], 1);
});

test("more input than buffers: the rest waits for the next buffers, in order", () => {
  const { dev, h, rx } = setup();
  h.activate();
  const first = rx.post(3);
  dev.receive(enc("abcdefgh"));
  assert.equal(dec(h.bytes(first.bufs[0]!)), "abc");
  assert.equal(dev.pendingInput, 5);
  const second = rx.post(8);
  dev.poll(); // the board's between-slices retry also delivers (no kick needed)
  assert.equal(dec(h.bytes(second.bufs[0]!).subarray(0, 5)), "defgh");
  assert.deepEqual(rx.takeUsed().map((u) => u.len), [3, 5]);
});

test("input survives a driver reset", () => {
  const { dev, h, rx } = setup();
  dev.receive(enc("xyz"));
  h.activate();
  dev.reset();
  assert.equal(dev.pendingInput, 3);
  h.activate();
  const b = rx.post(8);
  rx.kick();
  assert.equal(dec(h.bytes(b.bufs[0]!).subarray(0, 3)), "xyz");
});

test("a size change updates cols/rows and raises one config interrupt; the same size raises none", () => {
  const { dev, h } = setup();
  dev.resize(100, 30); // before the driver is up: stored, nobody to interrupt
  assert.equal(h.configChanges, 0);
  h.activate();
  // DRIVER_OK announces the current size once: Linux without MULTIPORT reads cols/rows only
  // on a configuration change (virtio_console.c config_work_handler).
  assert.equal(h.configChanges, 1);
  assert.equal(h.cfg(0, 2), 100);
  dev.resize(120, 40);
  assert.equal(h.configChanges, 2);
  assert.equal(h.cfg(0, 2), 120);
  assert.equal(h.cfg(2, 2), 40);
  dev.resize(120, 40);
  assert.equal(h.configChanges, 2);
});

test("no size announcement to a driver that did not accept VIRTIO_CONSOLE_F_SIZE", () => {
  const dev = new VirtioConsole({ onOutput: () => {}, queueSize: 16 });
  const h = new Harness(dev, 0n).activate();
  assert.equal(h.configChanges, 0);
});

test("driver writes to config space are ignored", () => {
  const { dev, h } = setup({ cols: 80, rows: 24 });
  dev.writeConfig(0, 2, 7);
  assert.equal(h.cfg(0, 2), 80);
});

test("a transmit chain of overlapping descriptors hands at most CONSOLE_TX_MAX bytes to the host", () => {
  // Issue #15: 16 descriptors over all of RAM claim 128 MiB; the host got every byte of it.
  let got = 0;
  const dev = new VirtioConsole({ onOutput: (b) => void (got += b.length), queueSize: 16 });
  const h = new Harness(dev).activate();
  const tx = h.drivers[TX]!;
  const id = tx.postRaw(Array.from({ length: 16 }, () => ({ addr: 0, len: h.ram.length, writable: false })));
  const t0 = performance.now();
  tx.kick();
  assert.ok(performance.now() - t0 < 200, "bounded time");
  assert.equal(got, CONSOLE_TX_MAX);
  assert.deepEqual(tx.takeUsed(), [{ id, len: 0 }]);
  assert.equal(dev.stats().txDropped, 16 * h.ram.length - CONSOLE_TX_MAX);
  assert.match(h.logs[0]!, /the first 65536 sent, the rest dropped/);
});
