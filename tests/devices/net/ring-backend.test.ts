// The ring backend: two ends of one link pass frames both ways, the sender bumps and notifies
// the peer's wake word once per batch (flush), and a full wire drops (counted) instead of blocking.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RingNetBackend, makeLink } from "../../../devices/net/ring-backend.ts";

test("frames cross both ways; the peer's wake word is bumped once per batch, at flush(); pending() says so", () => {
  const [a, b] = makeLink(1 << 12);
  const wakeB = new Int32Array(new SharedArrayBuffer(8));
  const ea = new RingNetBackend({ ...a, wake: wakeB.buffer as SharedArrayBuffer, wakeIndex: 1 });
  const eb = new RingNetBackend(b);
  const got: number[][] = [];
  eb.onReceive = (fr) => got.push([...fr]);
  ea.send(Uint8Array.of(1, 2));
  ea.send(Uint8Array.of(3));
  assert.equal(Atomics.load(wakeB, 1), 0);
  ea.flush();
  assert.equal(Atomics.load(wakeB, 1), 1);
  ea.flush(); // nothing new: no wake-up
  assert.equal(Atomics.load(wakeB, 1), 1);
  assert.equal(eb.pending(), true);
  eb.poll();
  assert.deepEqual(got, [[1, 2], [3]]);
  assert.equal(eb.pending(), false);
  const back: number[][] = [];
  ea.onReceive = (fr) => back.push([...fr]);
  eb.send(Uint8Array.of(9));
  ea.poll();
  assert.deepEqual(back, [[9]]);
});

test("a full wire drops frames and counts them", () => {
  const [a] = makeLink(64);
  const ea = new RingNetBackend(a);
  for (let i = 0; i < 5; i++) ea.send(new Uint8Array(20));
  assert.deepEqual(ea.stats(), { linkTx: 2, linkRx: 0, linkTxDropped: 3 });
});
