// The worker's console sink (devices/vm/console-sink.ts): the script sees any amount of output
// in bounded slices — the run loop used to decode a whole slice with
// String.fromCharCode(...bytes), a RangeError (stack) past ~150 KB, which a virtio-console chain
// gets to in one notify — and a full ring holds the worker only until the host asks to stop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteRing } from "../../../devices/host/byte-ring.ts";
import { ConsoleScriptRunner } from "../../../devices/vm/console-script.ts";
import { ConsoleSink } from "../../../devices/vm/console-sink.ts";

const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

test("512 KiB of output in one slice: no throw, and --expect finds its text in the middle of it", () => {
  assert.throws(() => String.fromCharCode(...new Uint8Array(512 << 10)), RangeError, "what the old code did");
  const out = new ByteRing(1 << 12);
  const script = new ConsoleScriptRunner({ ready: "ready", cmds: [], expect: "NEEDLE-42" });
  const sink = new ConsoleSink(out, script, () => void out.read(), () => false); // the "host" drains on every wait
  const feed = (b: Uint8Array) => { for (const x of b) sink.byte(x); };
  feed(new Uint8Array(256 << 10).fill(0x61));
  feed(bytesOf("NEEDLE-42"));
  feed(new Uint8Array(256 << 10).fill(0x62));
  assert.deepEqual(sink.take(), [{ kind: "done", reason: "expect" }]);
});

test("a full ring waits for the host, until the host asks to stop: then output is dropped, counted", () => {
  const out = new ByteRing(1 << 4);
  let waits = 0;
  let stop = false;
  const sink = new ConsoleSink(out, new ConsoleScriptRunner({ ready: "x", cmds: [] }), () => void (++waits === 3 && (stop = true)), () => stop);
  for (let i = 0; i < 100; i++) sink.byte(0x41);
  assert.equal(out.available(), 16);
  assert.equal(waits, 3, "it waited for the host while no stop was asked");
  assert.equal(sink.dropped, 100 - 16);
});
