// `npm run boot`: boot a guest headless. The VM runs in a worker thread (the same code the
// page runs in its Worker); this thread only moves console bytes and enforces the timeout.
import { deviceTypeWithRole } from "../devices/registry.ts";
import { Worker } from "node:worker_threads";
import { VM_WORKER_URL } from "./vm-worker-url.ts";
import { closeSync, existsSync, fsyncSync, openSync, renameSync, writeFileSync } from "node:fs";
import { ByteRing } from "../devices/host/byte-ring.ts";
import { CTL_WORDS, kick, stopVm, type VmChannels, type VmEvent } from "../devices/vm/session.ts";
import { parseOptions, UsageError, helpText } from "./options.ts";
import { drainConsole } from "./console-drain.ts";
import { parseBzImage, BootError } from "../devices/board/linux-boot.ts";
import { EXIT } from "./exit-codes.ts";
import { restoredConfig } from "./restore.ts";
import { StateError } from "../devices/state/wire.ts";
import { NatError, startNats, type NatHost } from "./nat.ts";

const CTRL_A = 0x01;

function fail(message: string, code: number = EXIT.internal.code): never {
  process.stderr.write(`vireo: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
    if (opts === "help") {
      console.log(helpText());
      return 0;
    }
    parseBzImage(opts.vm.kernel); // a bad kernel file is reported here, before any VM starts
  } catch (e) {
    if (e instanceof UsageError || e instanceof BootError) fail(e.message, EXIT.usage.code);
    throw e;
  }
  if (opts.restore !== undefined) {
    try {
      opts.vm = restoredConfig(opts.restore, opts.vm);
    } catch (e) {
      if (e instanceof StateError) fail(e.message, EXIT.state.code);
      throw e;
    }
  }
  if (!existsSync(new URL("../core-wasm/build/core.wasm", import.meta.url))) fail("core-wasm/build/core.wasm is missing: run npm install (or npm run build:core)");

  const out = new ByteRing(1 << 20);
  const input = new ByteRing(1 << 16);
  const control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const channels: VmChannels = { consoleOut: out.sab, consoleIn: input.sab, control: control.buffer as SharedArrayBuffer };
  // A NIC with backend=nat: its NAT runs on this thread (cli/nat.ts); a forwarded port in use is a usage error.
  let nats: NatHost;
  try {
    nats = await startNats(opts.vm.devices ?? [], () => kick(control), (m) => process.stderr.write(`vireo: ${m}\n`));
  } catch (e) {
    if (e instanceof NatError) fail(e.message, EXIT.usage.code);
    throw e;
  }
  const worker = new Worker(VM_WORKER_URL, { workerData: { config: { ...opts.vm, devices: nats.devices }, channels } });
  type Exit = Extract<VmEvent, { type: "exit" }>;
  let saved: string | null = null; // why the state could not be written, or "" once it was
  let terminated = false;
  const exited = new Promise<Exit>((resolve, reject) => {
    worker.on("message", (e: VmEvent) => {
      if (e.type === "exit") resolve(e);
      else if (e.type === "state") saved = writeState(opts.saveState!, e.bytes);
      else if (e.type === "log") process.stderr.write(`vireo: ${e.message}\n`);
    });
    worker.on("error", reject);
    worker.on("exit", (code) => void (terminated || reject(new Error(`VM worker exited unexpectedly (code ${code})`))));
  });
  // --timeout and Ctrl-A x: the worker stops at its next run slice; one that does not answer
  // within STOP_GRACE_MS is terminated (stopVm).
  let stopping: Promise<Exit> | null = null;
  let onStopping: (p: Promise<Exit>) => void = () => {};
  const requestStop = () => {
    if (stopping) return;
    stopping = stopVm(control, exited, () => ((terminated = true), worker.terminate()));
    onStopping(stopping);
  };

  // Console: guest output to stdout as it comes (cli/console-drain.ts).
  const drain = drainConsole(out, control, (bytes) => process.stdout.write(bytes));

  // Interactive: stdin goes to the guest; Ctrl-A x leaves (as in QEMU), Ctrl-C goes to the guest.
  const interactive = opts.vm.script.cmds.length === 0 && opts.vm.script.expect === undefined;
  if (interactive) {
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stderr.write("vireo: serial console; Ctrl-A x to quit\n");
    }
    let escape = false;
    process.stdin.on("data", (chunk: Buffer) => {
      for (const b of chunk) {
        if (process.stdin.isTTY && escape) {
          escape = false;
          if (b === 0x78) return requestStop();
          if (b !== CTRL_A) input.push(CTRL_A);
        } else if (process.stdin.isTTY && b === CTRL_A) {
          escape = true;
          continue;
        }
        input.push(b);
      }
      kick(control);
    });
  }

  let timedOut = false;
  const timer = Number.isFinite(opts.timeoutS)
    ? setTimeout(() => {
        timedOut = true;
        requestStop();
      }, opts.timeoutS * 1000)
    : undefined;

  const exit = await new Promise<Exit>((resolve, reject) => {
    exited.then(resolve, reject);
    onStopping = (p) => void p.then(resolve, reject);
  });
  clearTimeout(timer);
  if (terminated) {
    process.stderr.write(`vireo: ${exit.message}\n`);
    syncImages(opts.vm.devices ?? []);
  }
  await drain.stop();
  const rest = out.read();
  if (rest.length) process.stdout.write(rest);
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  process.stdin.pause();
  await worker.terminate();
  const natStats = nats.stats();
  nats.close();

  if (opts.stats) process.stdout.write("\n" + JSON.stringify({ reason: exit.reason, ...(exit.panicVia ? { panicVia: exit.panicVia } : {}), ...exit.stats, ...(Object.keys(natStats).length ? { nat: natStats } : {}) }) + "\n");
  switch (exit.reason) {
    case "poweroff":
    case "expect":
      return EXIT.ok.code;
    case "stopped":
      if (timedOut) fail(`timeout: ${opts.timeoutS} s passed${opts.vm.script.expect ? ` without '${opts.vm.script.expect}'` : ""}`, EXIT.timeout.code);
      return EXIT.ok.code;
    case "panic":
      fail(`guest kernel panicked (${exit.panicVia === "pvpanic" ? "reported by pvpanic" : "seen on the console"}): ${exit.message}`, EXIT.panic.code);
    case "reboot":
      fail(`the guest rebooted (${exit.message}) and --no-reboot is in effect`, EXIT.reboot.code);
    case "image":
      fail(exit.message ?? "image refused", EXIT.usage.code);
    case "saved":
      if (saved) fail(saved);
      return EXIT.ok.code;
    case "state":
      fail(exit.message ?? "state refused", EXIT.state.code);
    case "error":
      fail(exit.message ?? "the VM failed");
  }
}

/** Write the saved machine to `file` whole or not at all (a temporary file, then renamed); returns "" or why not. */
function writeState(file: string, bytes: Uint8Array): string {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
    return "";
  } catch (e) {
    return `cannot write the state to '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/**
 * After a terminated worker: every write request the guest saw complete went to the image file
 * with a synchronous write (node-file-block.ts), so it is in the OS already; fsync makes it
 * durable, as the worker's own power off would have (an fsync on any descriptor of a file
 * flushes the file).
 */
const DISK = deviceTypeWithRole("disk")!.name;
function syncImages(devices: readonly { type: string; image?: string; readonly?: boolean }[]): void {
  for (const d of devices) {
    if (d.type !== DISK || d.readonly || !d.image) continue;
    try {
      const fd = openSync(d.image, "r+");
      try { fsyncSync(fd); } finally { closeSync(fd); }
    } catch (e) {
      process.stderr.write(`vireo: ${d.image}: fsync after termination failed: ${(e as Error).message}\n`);
    }
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => fail(e instanceof Error ? e.message : String(e)),
);
