// The virtio-input keyboard end to end: key records written to VmChannels.keys reach the
// guest's evdev node. Linux's virtio_input binds the device (mmio-v2: it needs VERSION_1),
// /proc/bus/input/devices lists it with the EV_KEY/EV_LED/EV_REP bits, and `od` on
// /dev/input/event0 reads EV_KEY KEY_A value 1 followed by SYN_REPORT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { ByteRing } from "../../../devices/host/byte-ring.ts";
import { CMD_STOP, CTL_WORDS, KEY_RECORD_BYTES, keyRecord, kick, type VmChannels, type VmEvent } from "../../../devices/vm/session.ts";
import { DEFAULT_CMDLINE, READY_LINE, type VmConfig } from "../../../devices/vm/config.ts";
import { KEY_CODES } from "../../../devices/virtio/input-keys.ts";

const images = new URL("../../../guest-images/", import.meta.url);
const OD = "od -An -tx1 -w16 -N 32 /dev/input/event0";

test("key presses written to the keys ring arrive as evdev events in the guest", async () => {
  const config: VmConfig = {
    kernel: new Uint8Array(readFileSync(new URL("bzImage", images))),
    initrd: new Uint8Array(readFileSync(new URL("initramfs.cpio.gz", images))),
    cmdline: DEFAULT_CMDLINE,
    memMiB: 64,
    clock: "realtime",
    devices: [{ type: "input", transport: "mmio-v2" }],
    script: { ready: READY_LINE, cmds: ["cat /proc/bus/input/devices", OD] },
  };
  const out = new ByteRing(1 << 20);
  const keys = new ByteRing(1 << 10);
  const control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const channels: VmChannels = { consoleOut: out.sab, consoleIn: new ByteRing(1 << 12).sab, control: control.buffer as SharedArrayBuffer, keys: keys.sab };
  const worker = new Worker(new URL("./ts-worker.mjs", import.meta.url), {
    workerData: { entry: new URL("./plain-worker.ts", import.meta.url).href, config, channels },
  });
  let transcript = "";
  // Once od is running, press and release A every 100 ms; presses before it opened the node
  // reach no reader and are dropped by evdev, as on any machine.
  const press = () => {
    if (!transcript.includes(OD) || keys.available() + 2 * KEY_RECORD_BYTES > 1 << 10) return;
    keys.write(keyRecord(KEY_CODES.KeyA!, true));
    keys.write(keyRecord(KEY_CODES.KeyA!, false));
    kick(control);
  };
  const drain = setInterval(() => {
    transcript += Buffer.from(out.read()).toString("latin1");
    press();
  }, 100);
  const stop = setTimeout(() => kick(control, CMD_STOP), 120_000);
  try {
    const exit = await new Promise<Extract<VmEvent, { type: "exit" }>>((resolve, reject) => {
      worker.on("message", (m: VmEvent) => m.type === "exit" && resolve(m));
      worker.on("error", reject);
    });
    transcript += Buffer.from(out.read()).toString("latin1");
    assert.equal(exit.reason, "poweroff", transcript.slice(-2000));
    const text = transcript.replace(/\r/g, "");
    assert.match(text, /^N: Name="Vireo virtio keyboard"$/m);
    assert.match(text, /^B: EV=120003$/m, "EV_SYN, EV_KEY, EV_LED and EV_REP");
    // struct input_event on i386: 8 bytes of timeval, then le16 type, le16 code, le32 value.
    const lines = text.slice(text.indexOf(OD + "\n") + OD.length + 1).split("\n").slice(0, 2).map((l) => l.trim().split(" ").slice(8).join(" "));
    assert.deepEqual(lines, ["01 00 1e 00 01 00 00 00", "00 00 00 00 00 00 00 00"], text.slice(-1500));
    const input = (exit.stats.virtio as Record<string, Record<string, number>>)["virtio-input0"]!;
    assert.ok(input.events! >= 2);
  } finally {
    clearInterval(drain);
    clearTimeout(stop);
    await worker.terminate();
  }
});
