// The run loop with a block backend whose commits settle later, as IndexedDB's do
// (devices/vm/session.ts, devices/host/overlay-block.ts). A guest fsync sends FLUSH, and the
// loop must let the event loop run for the store — even while the guest halts — or the fsync
// never returns and the VM is stopped by the timeout below. A plain `sync` sends no FLUSH on
// ext2; the idle write-back must commit its blocks anyway, before the VM powers off, and with
// no write-back at all (the deterministic clock has none) the power off must commit them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { ByteRing } from "../../../devices/host/byte-ring.ts";
import { CMD_STOP, CTL_WORDS, kick, type VmChannels, type VmEvent } from "../../../devices/vm/session.ts";
import { DEFAULT_CMDLINE, READY_LINE, type ClockMode, type VmConfig } from "../../../devices/vm/config.ts";
import { mergeOverlay } from "../../../devices/host/overlay-block.ts";

const images = new URL("../../../guest-images/", import.meta.url);
const MARK = "vireo-overlay-flush-42";
// The guest builds the mark from two halves, so the typed command never contains it.
const WRITE = `m=${MARK.slice(0, 8)}; echo \${m}${MARK.slice(8)} > /mnt/f`;
type Exit = Extract<VmEvent, { type: "exit" }>;

async function run(clock: ClockMode, cmds: string[]) {
  const base = new Uint8Array(gunzipSync(readFileSync(new URL("data-ext2.img.gz", images))));
  const config: VmConfig = {
    kernel: new Uint8Array(readFileSync(new URL("bzImage", images))),
    initrd: new Uint8Array(readFileSync(new URL("initramfs.cpio.gz", images))),
    cmdline: DEFAULT_CMDLINE,
    memMiB: 64,
    clock,
    devices: [{ type: "blk", transport: "pci-modern", image: "overlay" }],
    script: { ready: READY_LINE, cmds },
  };
  const out = new ByteRing(1 << 20);
  const control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const channels: VmChannels = { consoleOut: out.sab, consoleIn: new ByteRing(1 << 12).sab, control: control.buffer as SharedArrayBuffer };
  const worker = new Worker(new URL("./ts-worker.mjs", import.meta.url), {
    workerData: { entry: new URL("./overlay-flush-worker.ts", import.meta.url).href, config, channels, base },
  });
  let transcript = "";
  const read = () => (transcript += Buffer.from(out.read()).toString("latin1"));
  /** The console output so far at each commit. */
  const atCommit: string[] = [];
  const drain = setInterval(read, 20);
  const stop = setTimeout(() => kick(control, CMD_STOP), 120_000);
  try {
    const { exit, saved } = await new Promise<{ exit: Exit; saved: [number, Uint8Array][] }>((resolve, reject) => {
      let exit: Exit | undefined;
      worker.on("message", (m: VmEvent | { type: "commit" } | { type: "saved"; blocks: [number, Uint8Array][] }) => {
        if (m.type === "commit") atCommit.push(read());
        else if (m.type === "exit") exit = m;
        else if (m.type === "saved") resolve({ exit: exit!, saved: m.blocks });
      });
      worker.on("error", reject);
      worker.on("exit", (code) => reject(new Error(`worker exited (${code}) before reporting`)));
    });
    read();
    assert.equal(exit.reason, "poweroff", `${exit.message ?? ""}\n${transcript.slice(-3000)}`);
    const blk = Object.values(exit.stats.virtio as Record<string, Record<string, number>>)[0]!;
    assert.equal(blk.ioErrors, 0);
    assert.equal(blk.flushesPending, 0);
    const disk = Buffer.from(mergeOverlay(base, new Map(saved)));
    assert.ok(disk.includes(`${MARK}\n`), `the file's bytes are in the committed blocks (${saved.length} blocks)\n${transcript.slice(-1500)}`);
    assert.ok(!Buffer.from(base).includes(MARK), "and were not in the base");
    return { blk, atCommit, transcript };
  } finally {
    clearInterval(drain);
    clearTimeout(stop);
    await worker.terminate();
  }
}

test("deterministic clock: fsync on an overlay disk sends FLUSH, which completes once the store commits", async () => {
  const { blk, atCommit } = await run("deterministic", ["mount -t ext2 /dev/vda /mnt", WRITE, "sync /mnt/f", "echo fsync-done"]);
  assert.ok(blk.flushes! >= 1, "the guest sent FLUSH");
  assert.ok(atCommit.length >= 1);
  assert.ok(!atCommit[0]!.includes("fsync-done"), "the first commit came before the fsync returned");
});

test("realtime clock: after a plain sync (no FLUSH on ext2) the idle write-back commits the blocks", async () => {
  const { blk, atCommit, transcript } = await run("realtime", ["mount -t ext2 /dev/vda /mnt", WRITE, "sync", "sleep 2", "echo slept"]);
  assert.equal(blk.flushes, 0, "ext2's sync sends no FLUSH (else this test proves nothing)");
  assert.ok(atCommit.length >= 1, `no commit at all:\n${transcript.slice(-2000)}`);
  assert.ok(!atCommit[0]!.includes("slept"), "the write-back committed while the guest idled, before power off");
});

test("deterministic clock: a plain sync sends no FLUSH and there is no write-back, so the power off commits", async () => {
  const { blk, atCommit } = await run("deterministic", ["mount -t ext2 /dev/vda /mnt", WRITE, "sync", "echo synced"]);
  assert.equal(blk.flushes, 0);
  assert.equal(atCommit.length, 1, "one commit, at power off");
  assert.ok(atCommit[0]!.includes("reboot: System halted"), "after the guest powered off");
});
