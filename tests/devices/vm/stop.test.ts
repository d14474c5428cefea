// Stop always stops (issue #15): the host's CMD_STOP ends the VM within 100 ms whatever the
// guest does, and a worker that does not answer is terminated after STOP_GRACE_MS
// (devices/vm/session.ts stopVm, used by the CLI's --timeout / Ctrl-A x and the page's Power off).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { ByteRing } from "../../../devices/host/byte-ring.ts";
import { CMD_NONE, CMD_RESET, CTL_CMD, CTL_WORDS, STOP_GRACE_MS, resetVm, stopVm, type VmChannels, type VmEvent } from "../../../devices/vm/session.ts";
import { DEFAULT_CMDLINE, READY_LINE, type VmConfig } from "../../../devices/vm/config.ts";

const images = new URL("../../../guest-images/", import.meta.url);
type Exit = Extract<VmEvent, { type: "exit" }>;

/**
 * Boot the default guest in a worker, type `cmd`, wait until `seen` is on the console, then
 * stop draining the console (`drainUntilStop` false) or keep draining, and stop the VM.
 * Returns the milliseconds from the stop request to the worker's exit event.
 */
async function stopDuring(cmd: string, seen: string, drainUntilStop: boolean): Promise<{ ms: number; exit: Exit | null }> {
  const config: VmConfig = {
    kernel: new Uint8Array(readFileSync(new URL("bzImage", images))),
    initrd: new Uint8Array(readFileSync(new URL("initramfs.cpio.gz", images))),
    cmdline: DEFAULT_CMDLINE,
    memMiB: 64,
    clock: "realtime",
    devices: [],
    script: { ready: READY_LINE, cmds: [cmd] },
  };
  const out = new ByteRing(1 << 12);
  const control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const channels: VmChannels = { consoleOut: out.sab, consoleIn: new ByteRing(1 << 12).sab, control: control.buffer as SharedArrayBuffer };
  const worker = new Worker(new URL("./ts-worker.mjs", import.meta.url), {
    workerData: { entry: new URL("./plain-worker.ts", import.meta.url).href, config, channels },
  });
  let exitAt = 0;
  const exited = new Promise<Exit>((resolve, reject) => {
    worker.on("message", (e: VmEvent) => {
      if (e.type === "exit") { exitAt = performance.now(); resolve(e); }
    });
    worker.on("error", reject);
  });
  try {
    let transcript = "";
    const deadline = performance.now() + 90_000;
    while (!transcript.includes(seen)) {
      assert.ok(performance.now() < deadline, `never saw '${seen}':\n${transcript.slice(-2000)}`);
      transcript = (transcript + Buffer.from(out.read()).toString("latin1")).slice(-100_000);
      await new Promise((r) => setTimeout(r, 10));
    }
    if (!drainUntilStop) {
      // The host is no longer reading (stuck, or shutting down): let the ring fill up.
      while (out.available() < out.capacity - 64) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50)); // the worker now waits for ring space
    }
    const drain = drainUntilStop ? setInterval(() => out.read(), 5) : undefined;
    const t0 = performance.now();
    // A grace longer than the bound, so this measures the worker's own answer.
    const e = await stopVm(control, exited, () => worker.terminate(), 3000);
    clearInterval(drain);
    process.stderr.write(`stop: exit event after ${exitAt ? (exitAt - t0).toFixed(1) + " ms" : "none (terminated)"}\n`);
    return { ms: exitAt ? exitAt - t0 : Infinity, exit: e };
  } finally {
    await worker.terminate();
  }
}

test("a guest that never halts, flooding the console while the host no longer drains it: stop within 100 ms", async () => {
  // Before: the worker waited for ring space byte by byte and never read the stop command.
  const { ms, exit } = await stopDuring("x=FL; while :; do echo ${x}OOD-0123456789abcdef; done", "FLOOD-0123", false);
  assert.equal(exit?.reason, "stopped");
  assert.doesNotMatch(exit?.message ?? "", /terminated/);
  assert.ok(ms < 100, `${ms.toFixed(1)} ms`);
});

test("a worker that never answers is terminated after the grace period", async () => {
  // A stand-in for a hung worker: it never looks at the control word.
  const worker = new Worker("for (;;) {}", { eval: true });
  const control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const exited = new Promise<Exit>(() => {});
  let gone = false;
  worker.on("exit", () => void (gone = true));
  const t0 = performance.now();
  const e = await stopVm(control, exited, () => worker.terminate(), 300);
  const ms = performance.now() - t0;
  assert.equal(e.reason, "stopped");
  assert.match(e.message!, /did not stop within 300 ms; terminated/);
  assert.ok(ms >= 300 && ms < 2000, `${ms} ms`);
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(gone, "the worker thread is gone");
  assert.equal(STOP_GRACE_MS, 2000);
});

test("reset: a worker that takes the request is left running; one that never does is reported stuck", async () => {
  const control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  // A stand-in for the run loop: it takes whatever command arrives (as runVm does each slice).
  const taker = new Worker(`
    const { workerData, parentPort } = require("node:worker_threads");
    const c = new Int32Array(workerData);
    setInterval(() => Atomics.exchange(c, ${CTL_CMD}, ${CMD_NONE}), 5);
    parentPort.postMessage("running");
  `, { eval: true, workerData: control.buffer });
  try {
    await new Promise((r) => taker.once("message", r)); // a loaded machine starts threads slowly
    assert.equal(await resetVm(control, 1000), true, "taken");
  } finally {
    await taker.terminate();
  }
  const hung = new Worker("for (;;) {}", { eval: true });
  try {
    const t0 = performance.now();
    assert.equal(await resetVm(control, 300), false, "never taken: stuck");
    assert.ok(performance.now() - t0 >= 290, "waited the grace period"); // timers may fire a little early
    assert.equal(Atomics.load(control, CTL_CMD), CMD_RESET);
  } finally {
    await hung.terminate();
  }
});
