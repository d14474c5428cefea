// The frame ring: whole frames in order, wrap-around at the end of the data area, a full ring
// refusing a frame without writing any of it, and another thread seeing the frames.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { FrameRing } from "../../../devices/host/frame-ring.ts";

const f = (n: number, v: number) => new Uint8Array(n).fill(v);

test("frames come out whole and in order, across the wrap", () => {
  const r = new FrameRing(64);
  for (let round = 0; round < 20; round++) {
    assert.ok(r.push(f(20, round)));
    assert.ok(r.push(f(9, round + 100)));
    assert.deepEqual(r.pop(), f(20, round));
    assert.deepEqual(r.pop(), f(9, round + 100));
    assert.equal(r.pop(), null);
  }
});

test("popInto: frames copied whole into the caller's buffer, across the wrap; -1 when empty; one too big for it is skipped as length 0", () => {
  const r = new FrameRing(64);
  const dst = new Uint8Array(32);
  for (let round = 0; round < 20; round++) {
    assert.ok(r.push(f(20, round), false));
    assert.ok(r.push(f(9, round + 100)));
    assert.equal(r.popInto(dst), 20);
    assert.deepEqual(dst.subarray(0, 20), f(20, round));
    assert.equal(r.popInto(dst), 9);
    assert.deepEqual(dst.subarray(0, 9), f(9, round + 100));
    assert.equal(r.popInto(dst), -1);
  }
  assert.ok(r.push(f(40, 7)));
  assert.ok(r.push(f(3, 8)));
  assert.equal(r.popInto(dst), 0);
  assert.equal(r.popInto(dst), 3);
  assert.deepEqual(dst.subarray(0, 3), f(3, 8));
});

test("a frame that does not fit is refused whole; the ring is unchanged", () => {
  const r = new FrameRing(64);
  assert.ok(r.push(f(40, 1)));
  assert.equal(r.push(f(30, 2)), false); // 40+2 used, 22 free < 32
  assert.ok(r.push(f(20, 3))); // exactly fills: 42 + 22 = 64
  assert.equal(r.push(f(0, 4)), false);
  assert.deepEqual(r.pop(), f(40, 1));
  assert.deepEqual(r.pop(), f(20, 3));
  assert.equal(r.available(), 0);
});

test("a ring attached to the same buffer in another thread reads what this one wrote", async () => {
  const r = new FrameRing(1 << 12);
  const src = `const { workerData, parentPort } = require("node:worker_threads");
    const idx = new Int32Array(workerData, 0, 2), data = new Uint8Array(workerData, 8);
    Atomics.wait(idx, 1, 0, 5000);
    const h = Atomics.load(idx, 0), n = data[h] | (data[h + 1] << 8);
    parentPort.postMessage(Array.from(data.subarray(h + 2, h + 2 + n)));`;
  const w = new Worker(src, { eval: true, workerData: r.sab });
  const got = new Promise((res) => w.once("message", res));
  r.push(Uint8Array.of(1, 2, 3));
  assert.deepEqual(await got, [1, 2, 3]);
  await w.terminate();
});

test("buffers without a power-of-two data area are refused", () => {
  assert.throws(() => new FrameRing(100), RangeError);
  assert.throws(() => new FrameRing(new SharedArrayBuffer(8 + 100)), RangeError);
});
