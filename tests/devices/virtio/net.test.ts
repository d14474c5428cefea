// virtio-net against virtio 1.2 §5.1 and Linux 6.1 drivers/net/virtio_net.c: queue 0 receiveq,
// queue 1 transmitq; config { u8 mac[6] @0; le16 status @6; le16 max_virtqueue_pairs @8;
// le16 mtu @10 }; feature bits CSUM 0, MTU 3, MAC 5, MRG_RXBUF 15, STATUS 16; struct
// virtio_net_hdr { u8 flags; u8 gso_type; le16 hdr_len, gso_size, csum_start, csum_offset;
// le16 num_buffers } — 12 bytes with VERSION_1 or MRG_RXBUF, 10 without (legacy); queue 2 the
// controlq (CTRL_VQ 17, CTRL_RX 18): { u8 class; u8 command; data; u8 ack }, RX class 0 with
// PROMISC 0 / ALLMULTI 1 (one byte), MAC class 1 with TABLE_SET 0 (two { le32 n; u8 mac[n][6] }).
import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtioNet } from "../../../devices/virtio/net.ts";
import type { NetBackend } from "../../../devices/net/backend.ts";
import { Harness } from "./device-harness.ts";

const RX = 0, TX = 1;
const F_CSUM = 1n << 0n, F_MTU = 1n << 3n, F_MAC = 1n << 5n, F_MRG = 1n << 15n, F_STATUS = 1n << 16n, F_V1 = 1n << 32n;
const F_CTRL_VQ = 1n << 17n, F_CTRL_RX = 1n << 18n;
const CTRL = 2;

class Loop implements NetBackend {
  sent: Uint8Array[] = [];
  onReceive: ((f: Uint8Array) => void) | null = null;
  send(f: Uint8Array): void { this.sent.push(f.slice()); }
}

function setup(features?: bigint) {
  const be = new Loop();
  const dev = new VirtioNet({ backend: be, mac: Uint8Array.of(0x02, 0, 0, 0, 0, 0x42), queueSize: 16 });
  const h = new Harness(dev, features ?? dev.features | F_V1);
  return { be, dev, h, rx: h.drivers[RX]!, tx: h.drivers[TX]! };
}

/** A 60-byte Ethernet frame: broadcast destination, source 02:..:01, ethertype 0x88b5 (local experimental). */
function frame(len = 60, fill = 0x5a): Uint8Array {
  const f = new Uint8Array(len).fill(fill);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5]);
  return f;
}

function hdr(len: number, fields: { flags?: number; gso?: number; csumStart?: number; csumOffset?: number } = {}): Uint8Array {
  const h = new Uint8Array(len);
  const dv = new DataView(h.buffer);
  h[0] = fields.flags ?? 0;
  h[1] = fields.gso ?? 0;
  dv.setUint16(6, fields.csumStart ?? 0, true);
  dv.setUint16(8, fields.csumOffset ?? 0, true);
  return h;
}

test("device id 1, rx/tx/control queues, MAC/STATUS/MTU/CSUM/MRG_RXBUF/CTRL_VQ/CTRL_RX offered and no GSO", () => {
  const { dev } = setup();
  assert.equal(dev.deviceId, 1);
  assert.equal(dev.queueSizes.length, 3);
  assert.equal(dev.features, F_CSUM | F_MTU | F_MAC | F_MRG | F_STATUS | F_CTRL_VQ | F_CTRL_RX);
});

test("config: mac bytes at 0..5, status LINK_UP at 6, mtu 1500 at 10", () => {
  const { h } = setup();
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => h.cfg(i, 1)), [0x02, 0, 0, 0, 0, 0x42]);
  assert.equal(h.cfg(6, 2), 1);
  assert.equal(h.cfg(10, 2), 1500);
  assert.equal(h.device.configSize, 12);
});

test("transmit: the 12-byte header is stripped wherever the descriptors split it", () => {
  const { be, h, tx } = setup();
  h.activate();
  const f = frame();
  const a = tx.post(hdr(12).subarray(0, 5), Uint8Array.of(...hdr(12).subarray(5), ...f.subarray(0, 20)), f.subarray(20));
  tx.kick();
  assert.equal(be.sent.length, 1);
  assert.deepEqual(be.sent[0], f);
  assert.deepEqual(tx.takeUsed(), [{ id: a.id, len: 0 }]);
  assert.equal(h.interrupts[TX], 1);
});

test("transmit with NEEDS_CSUM: the ones' complement sum from csum_start lands at csum_start+csum_offset", () => {
  const { be, h, tx } = setup();
  h.activate();
  // Ethernet + IPv4 (20) + UDP (8) + 4 data bytes; the driver leaves a seed in the field.
  const f = frame(14 + 20 + 8 + 4, 0);
  f.set([0x08, 0x00], 12);
  f.set([0x12, 0x34, 0x56, 0x78], 42);
  f.set([0xab, 0xcd], 14 + 20 + 6); // pseudo-header seed
  tx.post(Uint8Array.of(...hdr(12, { flags: 1, csumStart: 34, csumOffset: 6 }), ...f));
  tx.kick();
  const out = be.sent[0]!;
  // Independent check: the stored value is ~(seed + data), so seed + data + stored ≡ 0xffff.
  let t = 0;
  for (let i = 34; i < f.length; i += 2) t += (f[i]! << 8) | (f[i + 1] ?? 0);
  const stored = (out[40]! << 8) | out[41]!;
  let total = t + stored;
  while (total > 0xffff) total = (total & 0xffff) + (total >>> 16);
  assert.equal(total, 0xffff);
  assert.deepEqual(out.subarray(0, 40), f.subarray(0, 40)); // nothing else changed
});

test("malformed transmit frames are dropped and logged, the chain still returns", () => {
  const { be, dev, h, tx } = setup();
  h.activate();
  const short = tx.post(Uint8Array.of(...hdr(12), 1, 2, 3));
  const gso = tx.post(Uint8Array.of(...hdr(12, { gso: 1 }), ...frame()));
  const csum = tx.post(Uint8Array.of(...hdr(12, { flags: 1, csumStart: 50, csumOffset: 9 }), ...frame()));
  const huge = tx.post(Uint8Array.of(...hdr(12), ...frame(3000)));
  tx.kick();
  assert.equal(be.sent.length, 0);
  assert.deepEqual(tx.takeUsed().map((u) => u.id), [short.id, gso.id, csum.id, huge.id]);
  assert.equal(dev.stats().txDropped, 4);
  assert.equal(h.logs.length, 4);
  assert.deepEqual(h.resetReasons, []);
});

test("a transmit chain with a writable buffer is a broken driver: DEVICE_NEEDS_RESET", () => {
  const { be, h, tx } = setup();
  h.activate();
  tx.post(Uint8Array.of(...hdr(12), ...frame()), 64);
  tx.kick();
  assert.equal(be.sent.length, 0);
  assert.equal(h.resetReasons.length, 1);
});

test("receive with MRG_RXBUF: one frame spread over buffers, num_buffers in the first header", () => {
  const { be, h, rx } = setup();
  h.activate();
  const bufs = [rx.post(128), rx.post(128), rx.post(128), rx.post(128)];
  rx.kick();
  const f = frame(300, 0x77);
  be.onReceive!(f);
  const used = rx.takeUsed();
  assert.deepEqual(used, [{ id: bufs[0]!.id, len: 128 }, { id: bufs[1]!.id, len: 128 }, { id: bufs[2]!.id, len: 56 }]);
  const got = Uint8Array.of(...h.bytes(bufs[0]!.bufs[0]!), ...h.bytes(bufs[1]!.bufs[0]!), ...h.bytes(bufs[2]!.bufs[0]!).subarray(0, 56));
  assert.deepEqual([...got.subarray(0, 10)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // flags, GSO_NONE, no csum
  assert.equal(got[10]! | (got[11]! << 8), 3); // num_buffers
  assert.deepEqual(got.subarray(12), f);
  assert.equal(h.interrupts[RX], 1);
});

test("receive: frames wait for buffers, in order; a frame needing more buffers than posted holds them", () => {
  const { be, dev, h, rx } = setup();
  h.activate();
  be.onReceive!(frame(200, 1));
  be.onReceive!(frame(60, 2));
  assert.equal(dev.stats().rxBacklog, 2);
  const a = rx.post(128);
  rx.kick(); // not enough for 212 bytes: held, nothing used yet
  assert.deepEqual(rx.takeUsed(), []);
  const b = rx.post(128), c = rx.post(128);
  rx.kick();
  assert.deepEqual(rx.takeUsed(), [{ id: a.id, len: 128 }, { id: b.id, len: 84 }, { id: c.id, len: 72 }]);
  assert.equal(h.bytes(c.bufs[0]!)[12 + 20], 2);
  assert.equal(dev.stats().rxBacklog, 0);
});

test("legacy without MRG_RXBUF: a 10-byte header, one buffer per frame, a too-small buffer loses the frame", () => {
  const { be, dev, h, rx } = setup(F_MAC | F_STATUS);
  h.activate();
  const small = rx.post(40), big = rx.post(1526);
  be.onReceive!(frame(60, 3));
  be.onReceive!(frame(60, 4));
  assert.deepEqual(rx.takeUsed(), [{ id: small.id, len: 0 }, { id: big.id, len: 70 }]);
  assert.equal(h.bytes(big.bufs[0]!)[10 + 20], 4);
  assert.equal(dev.stats().rxDropped, 1);
});

test("a receive chain with no writable buffer is a broken driver: DEVICE_NEEDS_RESET, no exception", () => {
  const { be, h, rx } = setup();
  h.activate();
  rx.post(Uint8Array.of(1, 2, 3));
  be.onReceive!(frame());
  assert.equal(h.resetReasons.length, 1);
});

test("frames from the backend outside 14..1518 bytes are dropped, not queued", () => {
  const { be, dev, h } = setup();
  h.activate();
  be.onReceive!(new Uint8Array(5));
  be.onReceive!(new Uint8Array(9000));
  assert.equal(dev.stats().rxDropped, 2);
  assert.equal(dev.stats().rxBacklog, 0);
});

test("frames before DRIVER_OK are dropped, as by a NIC that is not enabled", () => {
  const { be, dev, h, rx } = setup();
  be.onReceive!(frame());
  h.activate();
  rx.post(1600);
  rx.kick();
  assert.deepEqual(rx.takeUsed(), []);
  assert.equal(dev.stats().rxDropped, 1);
});

test("reset drops backlog and held buffers", () => {
  const { be, dev, h, rx } = setup();
  h.activate();
  rx.post(64);
  rx.kick();
  be.onReceive!(frame(200));
  dev.reset();
  assert.equal(dev.stats().rxBacklog, 0);
});

test("checksum offload reproduces the TCP checksum Linux computed itself (captured SYN)", async () => {
  const { G_SYN, pseudoSum } = await import("../net/frames.ts");
  const { be, h, tx } = setup();
  h.activate();
  // What Linux's driver hands over with CHECKSUM_PARTIAL: the field holds the folded
  // pseudo-header sum, csum_start the TCP header, csum_offset 16 (tcphdr.check).
  const partial = G_SYN.slice();
  const seed = pseudoSum(G_SYN);
  partial[34 + 16] = seed >> 8;
  partial[34 + 17] = seed & 0xff;
  tx.post(Uint8Array.of(...hdr(12, { flags: 1, csumStart: 34, csumOffset: 16 }), ...partial));
  tx.kick();
  assert.deepEqual(be.sent[0], G_SYN);
});

/** One control command as Linux's virtnet_send_command posts it: header, data, ack byte. */
function command(h: Harness, bytes: number[]): number {
  const ctrl = h.drivers[CTRL]!;
  const c = ctrl.post(Uint8Array.from(bytes.slice(0, 2)), Uint8Array.from(bytes.slice(2)), 1);
  ctrl.kick();
  assert.deepEqual(ctrl.takeUsed(), [{ id: c.id, len: 1 }]);
  return h.bytes(c.bufs[2]!)[0]!;
}

const table = (...macs: number[][]) => [macs.length, 0, 0, 0, ...macs.flat()];
const OWN = [0x02, 0, 0, 0, 0, 0x42];
const to = (dst: number[]) => { const f = frame(); f.set(dst); return f; };

test("control queue: receive filtering after PROMISC off — own MAC, broadcast, listed multicast pass", () => {
  const { be, dev, h } = setup();
  h.activate();
  // Power-on state is promiscuous: a frame for someone else passes.
  be.onReceive!(to([0x02, 9, 9, 9, 9, 9]));
  assert.equal(dev.stats().rxBacklog, 1);
  assert.equal(command(h, [0, 0, 0]), 0); // PROMISC off
  assert.equal(command(h, [1, 0, ...table(), ...table([0x01, 0x00, 0x5e, 0, 0, 1])]), 0);
  be.onReceive!(to([0x02, 9, 9, 9, 9, 9])); // another NIC's unicast: filtered
  be.onReceive!(to([0x01, 0x00, 0x5e, 0, 0, 2])); // a multicast group not joined: filtered
  be.onReceive!(to(OWN));
  be.onReceive!(to([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  be.onReceive!(to([0x01, 0x00, 0x5e, 0, 0, 1]));
  assert.equal(dev.stats().rxFiltered, 2);
  assert.equal(dev.stats().rxBacklog, 4);
  assert.equal(command(h, [0, 1, 1]), 0); // ALLMULTI on
  be.onReceive!(to([0x01, 0x00, 0x5e, 0, 0, 2]));
  assert.equal(dev.stats().rxBacklog, 5);
});

test("control queue: malformed and unknown commands are acked VIRTIO_NET_ERR and change nothing", () => {
  const { be, dev, h } = setup();
  h.activate();
  assert.equal(command(h, [0, 0, 0, 0]), 1); // PROMISC with two data bytes
  assert.equal(command(h, [0, 5, 1]), 1); // CTRL_RX_EXTRA's NOBCAST: not offered
  assert.equal(command(h, [1, 1, ...OWN]), 1); // MAC_ADDR_SET: not offered
  assert.equal(command(h, [1, 0, 0xff, 0xff, 0xff, 0x7f]), 1); // a table count far past the data
  assert.equal(command(h, [1, 0, ...table(OWN)]), 1); // the multicast table missing
  assert.equal(command(h, [9, 9]), 1);
  assert.equal(dev.stats().ctrlErrors, 6);
  be.onReceive!(to([0x02, 9, 9, 9, 9, 9])); // still promiscuous
  assert.equal(dev.stats().rxBacklog, 1);
});

test("control queue: a command with no writable ack byte is DEVICE_NEEDS_RESET; reset restores promiscuous mode", () => {
  const { be, dev, h } = setup();
  h.activate();
  command(h, [0, 0, 0]);
  h.drivers[CTRL]!.post(Uint8Array.of(0, 0, 1));
  h.drivers[CTRL]!.kick();
  assert.equal(h.resetReasons.length, 1);
  dev.reset();
  assert.equal(dev.filter.promisc, true);
  void be;
});

test("hostile driver: random chains on every queue, random frames from the backend — never an exception", async () => {
  const { HostStack } = await import("../../../devices/net/host-stack.ts");
  let seed = 12345;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let round = 0; round < 20; round++) {
    const stack = new HostStack();
    const dev = new VirtioNet({ backend: stack, queueSize: 64 });
    const h = new Harness(dev, dev.features | (rnd(2) ? F_V1 : 0n));
    h.activate();
    for (let i = 0; i < 30; i++) {
      const q = rnd(3);
      const parts: (Uint8Array | number)[] = [];
      for (let k = rnd(3) + 1; k > 0; k--) {
        if (rnd(3) === 0) parts.push(rnd(2000) + 1);
        else parts.push(Uint8Array.from({ length: rnd(1600) + 1 }, () => rnd(256)));
      }
      // Readable before writable, as the ring walker requires; the rest is the device's problem.
      parts.sort((a, b) => Number(typeof a === "number") - Number(typeof b === "number"));
      try { h.drivers[q]!.post(...parts); } catch { break; } // harness ring full
      assert.doesNotThrow(() => h.drivers[q]!.kick());
      assert.doesNotThrow(() => stack.onReceive!(Uint8Array.from({ length: rnd(1600) }, () => rnd(256))));
      h.drivers[q]!.takeUsed();
    }
  }
});

test("the inspector names every feature bit virtio-net offers (Linux uapi virtio_net.h names)", async () => {
  const { featureName } = await import("../../../devices/inspect/features.ts");
  const { dev } = setup();
  for (let b = 0; b < 64; b++) if ((dev.features >> BigInt(b)) & 1n) assert.match(featureName(1, b), /^VIRTIO_NET_F_/);
  assert.equal(featureName(1, 15), "VIRTIO_NET_F_MRG_RXBUF");
});
