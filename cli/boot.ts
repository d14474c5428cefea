// `npm run boot`: boot a guest headless. The VM runs in a worker thread (the same code the
// page runs in its Worker), started and stopped by the library's VmThread
// (lib/node/vm-thread.ts); this thread moves the console between the terminal and the guest,
// enforces the timeout and turns the outcome into an exit code.
// First of all (imports run in order) the worker starts, while the rest of this module loads
// and reads the options and files (cli/vm-worker-start.ts).
import "./vm-worker-prestart.ts";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { VmThread } from "../lib/node/vm-thread.ts";
import { parseOptions, UsageError, helpText } from "./options.ts";
import { parseBzImage, BootError } from "../devices/board/linux-boot.ts";
import { EXIT } from "./exit-codes.ts";
import { restoredConfig } from "./restore.ts";
import { StateError } from "../devices/state/wire.ts";
import { NatError, startNats, type NatHost } from "./nat.ts";
import { fileBuffers } from "./vm-worker-start.ts";

const CTRL_A = 0x01;

/** Ends main() with an exit code (fail's way out of nested code). */
class Exit {
  constructor(readonly code: number) {}
}

function fail(message: string, code: number = EXIT.internal.code): never {
  process.stderr.write(`vireo: ${message}\n`);
  throw new Exit(code);
}

/**
 * Exit once stdout and stderr have taken everything written: when they are pipes a reader
 * slower than the guest leaves writes queued, and process.exit drops a queue (a loaded CI
 * machine lost the end of a transcript so). A write's callback runs after every earlier write.
 */
function exitAfterFlush(code: number): void {
  let waiting = 2;
  const done = () => void (--waiting === 0 && process.exit(code));
  process.stdout.write("", done);
  process.stderr.write("", done);
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

  // A NIC with backend=nat: its NAT runs on this thread (cli/nat.ts); a forwarded port in use is a usage error.
  let wake = () => {}; // the VM's, once it runs: the NAT's data for the guest arrived
  let nats: NatHost;
  try {
    nats = await startNats(opts.vm.devices ?? [], () => wake(), (m) => process.stderr.write(`vireo: ${m}\n`));
  } catch (e) {
    if (e instanceof NatError) fail(e.message, EXIT.usage.code);
    throw e;
  }
  let saved: string | null = null; // why the state could not be written, or "" once it was
  const vm = new VmThread({ ...opts.vm, devices: nats.devices }, {
    console: (bytes) => process.stdout.write(bytes),
    log: (message) => process.stderr.write(`vireo: ${message}\n`),
    state: (bytes) => void (saved = writeState(opts.saveState!, bytes)),
    saveFailed: () => {}, // the CLI never asks for a save while running
  }, fileBuffers(opts.vm)); // read for this VM alone: moved to the worker
  wake = () => vm.wake();

  // Interactive: stdin goes to the guest; Ctrl-A x leaves (as in QEMU), Ctrl-C goes to the guest.
  const interactive = opts.vm.script.cmds.length === 0 && opts.vm.script.expect === undefined;
  if (interactive) {
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stderr.write("vireo: serial console; Ctrl-A x to quit\n");
    }
    let escape = false;
    process.stdin.on("data", (chunk: Buffer) => {
      const bytes: number[] = [];
      for (const b of chunk) {
        if (process.stdin.isTTY && escape) {
          escape = false;
          if (b === 0x78) return void vm.stop();
          if (b !== CTRL_A) bytes.push(CTRL_A);
        } else if (process.stdin.isTTY && b === CTRL_A) {
          escape = true;
          continue;
        }
        bytes.push(b);
      }
      void vm.write(new Uint8Array(bytes));
    });
  }

  // --timeout and Ctrl-A x: the worker stops at its next run slice; one that does not answer
  // within STOP_GRACE_MS is terminated (VmThread.stop).
  let timedOut = false;
  const timer = Number.isFinite(opts.timeoutS)
    ? setTimeout(() => {
        timedOut = true;
        void vm.stop();
      }, opts.timeoutS * 1000)
    : undefined;

  const exit = await vm.exited;
  clearTimeout(timer);
  if (vm.terminated) process.stderr.write(`vireo: ${exit.message}\n`);
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  process.stdin.pause();
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

main().then(exitAfterFlush, (e: unknown) => {
  if (!(e instanceof Exit)) process.stderr.write(`vireo: ${e instanceof Error ? e.message : String(e)}\n`);
  exitAfterFlush(e instanceof Exit ? e.code : EXIT.internal.code);
});
