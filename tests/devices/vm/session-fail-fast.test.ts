// The run loop ends at once on what makes a boot test fail (devices/vm/session.ts): a guest
// kernel panic — reported by the pvpanic device, or, with the device off (a kernel without the
// driver looks the same), recognized by the kernel's own console line — a guest reboot with
// noReboot, and a damaged initrd, refused before any guest instruction. The default guest's
// shell is PID 1 (its /init execs it), so `exit` kills init: "Attempted to kill init!".
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { ByteRing } from "../../../devices/host/byte-ring.ts";
import { CTL_WORDS, type VmChannels, type VmEvent } from "../../../devices/vm/session.ts";
import { DEFAULT_CMDLINE, READY_LINE, type VmConfig } from "../../../devices/vm/config.ts";

const images = new URL("../../../guest-images/", import.meta.url);
const kernel = new Uint8Array(readFileSync(new URL("bzImage", images)));
const initrd = new Uint8Array(readFileSync(new URL("initramfs.cpio.gz", images)));

type Exit = Extract<VmEvent, { type: "exit" }>;

async function run(over: Partial<VmConfig>): Promise<{ exit: Exit; transcript: string }> {
  const config: VmConfig = {
    kernel, initrd, cmdline: DEFAULT_CMDLINE, memMiB: 64, clock: "deterministic",
    script: { ready: READY_LINE, cmds: [] }, ...over,
  };
  const out = new ByteRing(1 << 20);
  const control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const channels: VmChannels = { consoleOut: out.sab, consoleIn: new ByteRing(1 << 12).sab, control: control.buffer as SharedArrayBuffer };
  const worker = new Worker(new URL("./ts-worker.mjs", import.meta.url), {
    workerData: { entry: new URL("./plain-worker.ts", import.meta.url).href, config, channels },
  });
  let transcript = "";
  const drain = setInterval(() => (transcript += Buffer.from(out.read()).toString("latin1")), 20);
  try {
    const exit = await new Promise<Exit>((resolve, reject) => {
      worker.on("message", (e: VmEvent) => void (e.type === "exit" && resolve(e)));
      worker.on("error", reject);
    });
    transcript += Buffer.from(out.read()).toString("latin1");
    return { exit, transcript };
  } finally {
    clearInterval(drain);
    await worker.terminate();
  }
}

test("a panic is reported by pvpanic (a kernel with its driver) and ends the VM with the panic line", { timeout: 120_000 }, async () => {
  const { exit, transcript } = await run({ script: { ready: READY_LINE, cmds: ["exit"] } });
  assert.equal(exit.reason, "panic", transcript.slice(-2000));
  assert.equal(exit.panicVia, "pvpanic");
  assert.match(exit.message!, /^Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000$/);
  // The device reports from the panic notifier, before the end marker is printed.
  assert.ok(!transcript.includes("---[ end Kernel panic"), "stopped at the report");
});

test("without pvpanic the console line is the fallback", { timeout: 120_000 }, async () => {
  const { exit, transcript } = await run({ pvpanic: false, script: { ready: READY_LINE, cmds: ["exit"] } });
  assert.equal(exit.reason, "panic", transcript.slice(-2000));
  assert.equal(exit.panicVia, "console");
  assert.match(exit.message!, /^Kernel panic - not syncing: Attempted to kill init!/);
});

test("noReboot: a guest reboot ends the VM instead of resetting it", { timeout: 120_000 }, async () => {
  const { exit, transcript } = await run({ noReboot: true, script: { ready: READY_LINE, cmds: ["reboot -f"] } });
  assert.equal(exit.reason, "reboot", transcript.slice(-2000));
  assert.equal(exit.stats.resets, 0);
  assert.equal(transcript.split(READY_LINE).length - 1, 1, "booted once");
});

test("a truncated initrd is refused before any guest instruction", { timeout: 60_000 }, async () => {
  const { exit } = await run({ initrd: initrd.subarray(0, 1000) });
  assert.equal(exit.reason, "image");
  assert.equal(exit.message, "initrd (gzip at byte 0): the gzip stream ends early (the file is truncated)");
  assert.equal(exit.stats.instructions, 0);
  assert.ok(exit.stats.wallSeconds < 1, `${exit.stats.wallSeconds} s`);
});
