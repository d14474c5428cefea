// The process the benchmarks run a VM in: cli/boot.ts's headless host, reduced to what a
// script needs, plus measurements the CLI cannot give. It takes `npm run boot` options and
//   --idle S   no commands: once the shell prompt is up, sample two back-to-back windows of S
//              seconds of idle (the first still has V8's after-boot compilation and GC in it, the
//              second is the steady state), then power off.
// Console bytes go to stdout as in the CLI. On fd 3 it writes one JSON line per event:
//   {ev:"mark", tag, ...Sample}  at the ready line (tag "ready") and at each "BENCH <tag> <uptime>"
//                                 line a guest script prints;
//   {ev:"idle", a, b, c}         the samples that bracket the two idle windows;
//   {ev:"exit", reason, stats, maxRssKiB, ...Sample}.
// A Sample is read the moment the line reaches this thread: the guest instruction count the worker
// publishes after each slice (so at most one slice, 200 k instructions, late), this process's CPU
// time (every thread: the VM worker and this one) and its wall time since the process started.
import "../cli/vm-worker-prestart.ts"; // first: the worker starts while this process loads (as in the CLI)
import { fileBuffers, startVmWorker } from "../cli/vm-worker-start.ts";
import { drainConsole } from "../cli/console-drain.ts";
import { writeSync } from "node:fs";
import { ByteRing } from "../devices/host/byte-ring.ts";
import { CTL_WORDS, CMD_STOP, instretSlot, kick, type VmChannels, type VmEvent } from "../devices/vm/session.ts";
import { POWEROFF_CMD, PROMPT_RE } from "../devices/vm/config.ts";
import { parseOptions } from "../cli/options.ts";
import { startNats } from "../cli/nat.ts";

export interface Sample {
  instret: number;
  cpuS: number; // user + sys of this process
  wallS: number; // since this process started (performance.now's origin)
  rssKiB: number;
  guestS?: number; // the guest's /proc/uptime printed with a BENCH mark
}

const argv = process.argv.slice(2);
let idleS: number | null = null;
const i = argv.indexOf("--idle");
if (i >= 0) {
  idleS = Number(argv[i + 1]);
  argv.splice(i, 2);
}
const opts = parseOptions(argv);
if (opts === "help") process.exit(2);

// The guest's own ready line and prompt (--guest), as the console script knows them.
const { ready: READY_LINE, prompt, poweroff } = opts.vm.script;
const promptRe = prompt === undefined ? PROMPT_RE : new RegExp(prompt);

const out = new ByteRing(1 << 20);
const input = new ByteRing(1 << 16);
const control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
const instret = instretSlot(control.buffer as SharedArrayBuffer);
const channels: VmChannels = { consoleOut: out.sab, consoleIn: input.sab, control: control.buffer as SharedArrayBuffer };

const emit = (e: object) => writeSync(3, JSON.stringify(e) + "\n");
function sample(): Sample {
  const c = process.cpuUsage();
  return { instret: Number(instret[0]), cpuS: (c.user + c.system) / 1e6, wallS: performance.now() / 1000, rssKiB: Math.round(process.memoryUsage.rss() / 1024) };
}

// A NIC with backend=nat: its NAT runs on this thread, as in the CLI (cli/nat.ts).
const nats = await startNats(opts.vm.devices ?? [], () => kick(control), (m) => process.stderr.write(`vireo: ${m}\n`));
const worker = startVmWorker({ config: { ...opts.vm, devices: nats.devices }, channels }, fileBuffers(opts.vm));

// Marks are found line by line; a partial line waits for the rest.
let line = "";
let tail = ""; // for the prompt, in --idle mode
let ready = false;
let idleStarted = false;
const CSI_RE = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;
function scan(bytes: Uint8Array): void {
  const text = Buffer.from(bytes).toString("latin1");
  let s: Sample | null = null; // one sample for every mark in this chunk: they arrived together
  line += text;
  let nl: number;
  while ((nl = line.indexOf("\n")) >= 0) {
    const l = line.slice(0, nl);
    line = line.slice(nl + 1);
    if (!ready && l.includes(READY_LINE)) {
      ready = true;
      emit({ ev: "mark", tag: "ready", ...(s ??= sample()) });
    }
    const m = /BENCH (\S+) ([0-9]+\.[0-9]+)/.exec(l);
    if (m) emit({ ev: "mark", tag: m[1], ...(s ??= sample()), guestS: Number(m[2]) });
  }
  if (line.length > 4096) line = line.slice(-4096);
  if (idleS !== null && ready && !idleStarted) {
    tail = (tail + text).slice(-256);
    if (promptRe.test(tail.replace(CSI_RE, ""))) {
      idleStarted = true;
      // Two seconds for the shell and the kernel's after-boot work to settle, then the window;
      // then power off through the console.
      setTimeout(() => {
        const a = sample();
        setTimeout(() => {
          const b = sample();
          setTimeout(() => {
            emit({ ev: "idle", a, b, c: sample() });
            input.write(new TextEncoder().encode((poweroff ?? POWEROFF_CMD) + "\n"));
            kick(control);
          }, idleS! * 1000);
        }, idleS! * 1000);
      }, 2000);
    }
  }
}

const drain = drainConsole(out, control, (bytes) => {
  scan(bytes);
  process.stdout.write(bytes);
});

const timer = Number.isFinite(opts.timeoutS) ? setTimeout(() => kick(control, CMD_STOP), opts.timeoutS * 1000) : undefined;
const exit = await new Promise<Extract<VmEvent, { type: "exit" }>>((resolve, reject) => {
  worker.on("message", (e: VmEvent) => {
    if (e.type === "exit") resolve(e);
    else if (e.type === "log") process.stderr.write(`vireo: ${e.message}\n`);
  });
  worker.on("error", reject);
  worker.on("exit", (code) => reject(new Error(`VM worker exited (code ${code})`)));
});
clearTimeout(timer);
const end = sample();
await drain.stop();
const rest = out.read();
if (rest.length) {
  scan(rest);
  process.stdout.write(rest);
}
const { instructions, wallSeconds, mips, resets, traps, interrupts, exceptions, tlbMisses } = exit.stats;
emit({ ev: "exit", reason: exit.reason, message: exit.message, stats: { instructions, wallSeconds, mips, resets, traps, interrupts, exceptions, tlbMisses },
  maxRssKiB: process.resourceUsage().maxRSS, ...end });
await worker.terminate();
nats.close();
process.exit(exit.reason === "poweroff" || exit.reason === "expect" ? 0 : 1);
