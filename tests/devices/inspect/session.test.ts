// The run loop's inspector commands with a real guest (devices/vm/session.ts): CMD_INSPECT
// answers with a snapshot; RUN_PAUSE stops the guest without burning CPU and without a jump in
// guest time on resume (realtime clock); RUN_STEP runs to the next virtqueue notify or
// interrupt and pauses there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { ByteRing } from "../../../devices/host/byte-ring.ts";
import {
  CMD_STOP, CTL_RUN, CTL_WORDS, RUN_GO, RUN_PAUSE, RUN_STEP, instretSlot, kick, requestInspect, setRunState,
  type VmChannels, type VmEvent,
} from "../../../devices/vm/session.ts";
import { DEFAULT_CMDLINE, PROMPT_RE, READY_LINE, type VmConfig } from "../../../devices/vm/config.ts";
import type { InspectSnapshot } from "../../../devices/inspect/snapshot.ts";

const images = new URL("../../../guest-images/", import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("inspect, pause, resume and step in the run loop", { timeout: 120_000 }, async () => {
  const config: VmConfig = {
    kernel: new Uint8Array(readFileSync(new URL("bzImage", images))),
    initrd: new Uint8Array(readFileSync(new URL("initramfs.cpio.gz", images))),
    cmdline: DEFAULT_CMDLINE,
    memMiB: 64,
    clock: "realtime",
    devices: [{ type: "blk", transport: "pci-modern", image: "mem" }],
    script: { ready: READY_LINE, cmds: [] },
  };
  const out = new ByteRing(1 << 20);
  const input = new ByteRing(1 << 12);
  const control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const channels: VmChannels = { consoleOut: out.sab, consoleIn: input.sab, control: control.buffer as SharedArrayBuffer };
  const worker = new Worker(new URL("../vm/ts-worker.mjs", import.meta.url), {
    workerData: { entry: new URL("./session-worker.ts", import.meta.url).href, config, channels },
  });
  let transcript = "";
  const snapshots: { s: InspectSnapshot; stepped: boolean }[] = [];
  worker.on("message", (e: VmEvent) => {
    if (e.type === "inspect") snapshots.push({ s: e.snapshot, stepped: e.stepped === true });
  });
  const drain = setInterval(() => (transcript += Buffer.from(out.read()).toString("latin1")), 10);
  const until = async (what: string, ok: () => boolean, ms = 60_000) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${transcript.slice(-1500)}`);
      await sleep(10);
    }
  };
  const prompt = (from: number) => until("a prompt", () => PROMPT_RE.test(transcript.slice(from).replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")));
  const next = async (pred: (x: { s: InspectSnapshot; stepped: boolean }) => boolean = () => true) => {
    const from = snapshots.length;
    await until("a snapshot", () => snapshots.slice(from).some(pred));
    return snapshots.slice(from).find(pred)!;
  };
  const instret = instretSlot(control.buffer as SharedArrayBuffer);
  const type = (text: string) => { input.write(new TextEncoder().encode(text)); kick(control); };
  try {
    await prompt(0);

    // CMD_INSPECT: the blk device as the guest's driver left it.
    let got = next();
    assert.ok(requestInspect(control));
    const first = (await got).s;
    const blk = first.devices[0]!;
    assert.equal(blk.transport, "pci-modern");
    assert.equal(blk.status.name, "ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK");
    assert.ok(blk.pci!.capabilities.some((c) => c.virtio?.type === "NOTIFY"));
    assert.ok(blk.queues[0]!.popped > 0, "the driver read the partition table");
    assert.equal(first.paused, false);

    // Pause: a snapshot says so; no instruction retires and the worker sleeps.
    got = next((x) => x.s.paused);
    setRunState(control, RUN_PAUSE);
    const atPause = (await got).s;
    const n0 = Atomics.load(instret, 0);
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    await sleep(1000);
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - wall0;
    assert.equal(Atomics.load(instret, 0), n0, "no instruction ran while paused");
    assert.ok((cpu.user + cpu.system) / 1000 < 0.3 * wall, `paused VM used ${(cpu.user + cpu.system) / 1000} ms CPU in ${wall} ms`);
    got = next();
    requestInspect(control);
    assert.equal((await got).s.guestNs, atPause.guestNs, "guest time stands still while paused");

    // Resume: guest time goes on from where it stopped, not from host time.
    setRunState(control, RUN_GO);
    await sleep(50);
    got = next((x) => !x.s.paused);
    requestInspect(control);
    const resumed = (await got).s;
    const guestMs = (resumed.guestNs - atPause.guestNs) / 1e6;
    assert.ok(guestMs < 600, `guest time moved ${guestMs} ms across a 1000 ms pause`);

    // Step: pause, queue a disk read, step: the VM stops at its notify and pauses.
    got = next((x) => x.s.paused);
    setRunState(control, RUN_PAUSE);
    const before = (await got).s;
    const from = transcript.length;
    type("echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda of=/dev/null bs=4k count=1\n");
    got = next((x) => x.stepped);
    setRunState(control, RUN_STEP);
    const stepped = (await got).s;
    assert.equal(Atomics.load(control, CTL_RUN), RUN_PAUSE, "the worker moved STEP to PAUSE");
    const b = before.devices[0]!, a = stepped.devices[0]!;
    // First step: stopped on the notify, held — the device has not taken the request.
    assert.equal(a.stats.notifications, b.stats.notifications + 1);
    assert.equal(a.stats.interrupts, b.stats.interrupts);
    assert.equal(a.queues[0]!.popped, b.queues[0]!.popped);
    assert.ok(a.queues[0]!.ring!.chains.length > 0, "the request is in flight in the ring");
    const n1 = Atomics.load(instret, 0);
    await sleep(200);
    assert.equal(Atomics.load(instret, 0), n1, "paused after the step");
    // Second step: the device takes it, completes it and interrupts, before the guest runs on.
    got = next((x) => x.stepped);
    setRunState(control, RUN_STEP);
    const done = (await got).s.devices[0]!;
    assert.equal(Atomics.load(instret, 0), n1, "no guest instruction between the two halves");
    assert.equal(done.queues[0]!.popped, a.queues[0]!.popped + 1);
    assert.equal(done.stats.interrupts, a.stats.interrupts + 1);
    assert.equal(done.queues[0]!.ring!.chains.length, 0);
    setRunState(control, RUN_GO);
    await prompt(from + 10);
  } finally {
    kick(control, CMD_STOP);
    await sleep(100);
    clearInterval(drain);
    await worker.terminate();
  }
});
