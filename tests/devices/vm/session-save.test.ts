// The host's saves while the machine runs on (devices/vm/session.ts CMD_SAVE, CMD_SAVE_WHOLE:
// the page's suspend): one while paused (the run mode must not swallow it), then a command,
// then an increment over the first; the chain (VmConfig.restore + increments) resumes with the
// command's file in /tmp. About 20 s.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { ByteRing } from "../../../devices/host/byte-ring.ts";
import { CTL_WORDS, RUN_GO, RUN_PAUSE, kick, requestSave, setRunState, stopVm, type VmChannels, type VmEvent } from "../../../devices/vm/session.ts";
import { DEFAULT_CMDLINE, READY_LINE, type VmConfig } from "../../../devices/vm/config.ts";
import { stateId } from "../../../devices/state/snapshot.ts";

const images = new URL("../../../guest-images/", import.meta.url);
type Saved = Extract<VmEvent, { type: "state" }>;

function start(config: VmConfig) {
  const out = new ByteRing(1 << 16), input = new ByteRing(1 << 12);
  const control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const channels: VmChannels = { consoleOut: out.sab, consoleIn: input.sab, control: control.buffer as SharedArrayBuffer };
  const worker = new Worker(new URL("./ts-worker.mjs", import.meta.url), {
    workerData: { entry: new URL("./plain-worker.ts", import.meta.url).href, config, channels },
  });
  const events: VmEvent[] = [];
  const exited = new Promise<Extract<VmEvent, { type: "exit" }>>((resolve, reject) => {
    worker.on("message", (e: VmEvent) => (events.push(e), e.type === "exit" && resolve(e)));
    worker.on("error", reject);
  });
  let transcript = "";
  const until = async (what: (t: string) => boolean, label: string) => {
    const deadline = performance.now() + 120_000;
    while (!what((transcript += Buffer.from(out.read()).toString("latin1")))) {
      assert.ok(performance.now() < deadline, `never saw ${label}:\n${transcript.slice(-2000)}\nevents: ${JSON.stringify(events.map((e) => (e.type === "state" ? e.type : e)))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const saved = async (whole: boolean): Promise<Saved> => {
    const n = events.length;
    assert.ok(requestSave(control, whole));
    await until(() => events.slice(n).some((e) => e.type === "state" || e.type === "save-failed"), "a save");
    const e = events.slice(n).find((x) => x.type === "state" || x.type === "save-failed")!;
    assert.equal(e.type, "state", JSON.stringify(e));
    return e as Saved;
  };
  const type = (text: string) => (input.write(new TextEncoder().encode(text)), kick(control));
  const stop = () => stopVm(control, exited, () => worker.terminate(), 3000).finally(() => worker.terminate());
  return { control, until, saved, type, stop, text: () => transcript };
}

test("saves while running and paused; an increment over the first; the chain resumes", async () => {
  const config: VmConfig = {
    kernel: new Uint8Array(readFileSync(new URL("bzImage", images))),
    initrd: new Uint8Array(readFileSync(new URL("initramfs.cpio.gz", images))),
    cmdline: DEFAULT_CMDLINE, memMiB: 64, clock: "realtime", devices: [],
    script: { ready: READY_LINE, cmds: [] },
  };
  const vm = start(config);
  try {
    await vm.until((t) => t.includes("vireo:/# "), "the prompt");
    setRunState(vm.control, RUN_PAUSE);
    const first = await vm.saved(false); // no state yet on this board: whole
    assert.equal(first.base, null);
    assert.equal(first.id, await stateId(first.bytes));
    setRunState(vm.control, RUN_GO);
    vm.type("echo saved-$((6*7)) > /tmp/y; echo done-$((1+1))\n");
    await vm.until((t) => t.includes("done-2"), "the command");
    const second = await vm.saved(false);
    assert.equal(second.base, first.id, "an increment over the first");
    assert.ok(second.bytes.length < first.bytes.length / 4, `${second.bytes.length} bytes`);
    await vm.stop();

    const resumed = start({ ...config, restore: first.bytes, increments: [second.bytes] });
    try {
      resumed.type("cat /tmp/y\n");
      await resumed.until((t) => t.includes("saved-42\r\n"), "the file");
      assert.doesNotMatch(resumed.text(), /Linux version/);
    } finally {
      await resumed.stop();
    }
  } finally {
    await vm.stop();
  }
});
