import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { ByteRing } from "../../../devices/host/byte-ring.ts";

test("bytes come out in order and the ring refuses what does not fit", () => {
  const r = new ByteRing(8);
  assert.equal(r.write(new Uint8Array([1, 2, 3, 4, 5])), 5);
  assert.deepEqual([...r.read(2)], [1, 2]);
  assert.equal(r.write(new Uint8Array([6, 7, 8, 9, 10, 11])), 5); // 3 left + 5 free = 8
  assert.equal(r.available(), 8);
  assert.equal(r.push(99), false);
  assert.deepEqual([...r.read()], [3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(r.shift(), -1);
});

test("counters wrap past 2^31 without losing bytes", () => {
  const r = new ByteRing(4);
  const idx = new Int32Array(r.sab, 0, 2);
  idx[0] = idx[1] = 0x7ffffffe;
  r.write(new Uint8Array([1, 2, 3]));
  assert.equal(r.available(), 3);
  assert.deepEqual([...r.read()], [1, 2, 3]);
});

test("a consumer in another thread sees every byte a producer writes", async () => {
  const r = new ByteRing(16);
  const src = `
    const { workerData, parentPort } = require("node:worker_threads");
    const idx = new Int32Array(workerData, 0, 2), data = new Uint8Array(workerData, 8);
    let head = 0, sum = 0, count = 0;
    while (count < 10000) {
      const tail = Atomics.load(idx, 1);
      if (tail === head) { Atomics.wait(idx, 1, tail, 1000); continue; }
      for (; head !== tail; head = (head + 1) | 0, count++) sum = (sum + data[head & 15] * (count + 1)) % 1000003;
      Atomics.store(idx, 0, head);
    }
    parentPort.postMessage(sum);`;
  const w = new Worker(src, { eval: true, workerData: r.sab });
  const got = new Promise<number>((res) => w.once("message", res));
  let expect = 0;
  for (let i = 0; i < 10000; ) {
    if (r.push(i & 0xff)) {
      expect = (expect + (i & 0xff) * (i + 1)) % 1000003;
      i++;
    } else await new Promise((res) => setImmediate(res));
  }
  assert.equal(await got, expect);
  await w.terminate();
});
