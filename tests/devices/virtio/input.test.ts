// virtio-input against virtio 1.2 §5.8 and what Linux 6.1 virtio_input.c reads at probe:
// device id 18, eventq + statusq, the select/subsel config window (name, serial, ids, EV_BITS
// per type, size 0 for what it lacks), one 8-byte event per eventq buffer, LEDs on statusq.
import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtioInput, VIRTIO_INPUT_CFG, EV_KEY, EV_LED, EV_REP, EV_SYN } from "../../../devices/virtio/input.ts";
import { KEY_CODES, LINUX_KEYS, keyForChar } from "../../../devices/virtio/input-keys.ts";
import { Harness } from "./device-harness.ts";

/** What the driver does: write select and subsel, read size, then `size` bytes of the union. */
function query(dev: VirtioInput, select: number, subsel = 0): Uint8Array {
  dev.writeConfig(0, 1, select);
  dev.writeConfig(1, 1, subsel);
  const size = dev.readConfig(2, 1);
  return Uint8Array.from({ length: size }, (_, i) => dev.readConfig(8 + i, 1));
}
const ev = (type: number, code: number, value: number) => {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint16(0, type, true);
  v.setUint16(2, code, true);
  v.setInt32(4, value, true);
  return b;
};

test("device id 18, two queues, 136 bytes of config, no feature bits", () => {
  const dev = new VirtioInput();
  assert.equal(dev.deviceId, 18);
  assert.equal(dev.queueSizes.length, 2);
  assert.equal(dev.configSize, 136);
  assert.equal(dev.features, 0n);
});

test("the config window: name, serial, ids, key/LED/REP bitmaps, and size 0 for the rest", () => {
  const dev = new VirtioInput();
  assert.equal(new TextDecoder().decode(query(dev, VIRTIO_INPUT_CFG.ID_NAME)), "Vireo virtio keyboard");
  assert.equal(new TextDecoder().decode(query(dev, VIRTIO_INPUT_CFG.ID_SERIAL)), "vireo-0");
  assert.deepEqual([...query(dev, VIRTIO_INPUT_CFG.ID_DEVIDS)], [6, 0, 0x27, 6, 1, 0, 1, 0]); // BUS_VIRTUAL
  const keys = query(dev, VIRTIO_INPUT_CFG.EV_BITS, EV_KEY);
  for (const code of [1, 28, 30, 57, 103, 127]) assert.ok(keys[code >> 3]! & (1 << (code & 7)), `key ${code}`);
  assert.equal(keys.length, (Math.max(...LINUX_KEYS) >> 3) + 1);
  assert.deepEqual([...query(dev, VIRTIO_INPUT_CFG.EV_BITS, EV_LED)], [0b111]);
  assert.equal(query(dev, VIRTIO_INPUT_CFG.EV_BITS, EV_REP).length, 1, "EV_REP present: the guest repeats");
  for (const [sel, sub] of [[VIRTIO_INPUT_CFG.EV_BITS, 2], [VIRTIO_INPUT_CFG.EV_BITS, 3], [VIRTIO_INPUT_CFG.ABS_INFO, 0], [VIRTIO_INPUT_CFG.PROP_BITS, 0], [VIRTIO_INPUT_CFG.UNSET, 0], [0x99, 0]]) {
    assert.equal(query(dev, sel!, sub).length, 0, `select ${sel} subsel ${sub}`);
  }
  dev.writeConfig(2, 1, 77); // size is read-only
  assert.equal(dev.readConfig(0, 1), 0x99);
  assert.equal(dev.readConfig(2, 1), 0);
});

test("key events wait for buffers, then go one per buffer with SYN_REPORT after each key", () => {
  const dev = new VirtioInput({ queueSize: 16 });
  const h = new Harness(dev).activate();
  dev.key(KEY_CODES.KeyA!, true);
  dev.key(KEY_CODES.KeyA!, false);
  assert.equal(dev.stats().pending, 4);
  const eventq = h.drivers[0]!;
  const bufs = Array.from({ length: 3 }, () => eventq.post(8));
  eventq.kick();
  assert.deepEqual(eventq.takeUsed(), bufs.map((b) => ({ id: b.id, len: 8 })));
  assert.deepEqual(bufs.map((b) => [...h.bytes(b.bufs[0]!)]), [[...ev(EV_KEY, 30, 1)], [...ev(EV_SYN, 0, 0)], [...ev(EV_KEY, 30, 0)]]);
  assert.equal(dev.stats().pending, 1);
  const last = eventq.post(8);
  eventq.kick();
  assert.deepEqual(eventq.takeUsed(), [{ id: last.id, len: 8 }]);
  assert.equal(h.interrupts[0], 2);
});

test("a too-small event buffer is a broken driver: DEVICE_NEEDS_RESET", () => {
  const dev = new VirtioInput({ queueSize: 16 });
  const h = new Harness(dev).activate();
  h.drivers[0]!.post(4);
  dev.key(1, true);
  assert.match(h.resetReasons[0]!, /event buffer of 4 bytes/);
});

test("statusq: EV_LED updates set the LED state; other events are consumed and ignored", () => {
  const dev = new VirtioInput({ queueSize: 16 });
  const h = new Harness(dev).activate();
  const statusq = h.drivers[1]!;
  statusq.post(ev(EV_LED, 1, 1));
  statusq.post(ev(EV_LED, 0, 1));
  statusq.post(ev(EV_KEY, 30, 1));
  statusq.kick();
  assert.equal(statusq.takeUsed().length, 3);
  assert.equal(dev.leds(), 0b11);
  statusq.post(ev(EV_LED, 1, 0));
  statusq.kick();
  assert.equal(dev.leds(), 0b01);
});

test("US layout: letters, shifted symbols, Enter", () => {
  assert.deepEqual(keyForChar("a"), { code: 30, shift: false });
  assert.deepEqual(keyForChar("A"), { code: 30, shift: true });
  assert.deepEqual(keyForChar("!"), { code: 2, shift: true });
  assert.deepEqual(keyForChar("\n"), { code: 28, shift: false });
  assert.equal(keyForChar("é"), undefined);
});
