// The host side of one VM in Node: the worker thread that runs it (cli/vm-worker.ts, the same
// run loop the page's Worker runs), the shared console rings and control words, the console
// drained as it comes, and a stop that terminates a worker that does not answer. The CLI and
// the library's Vm both start VMs through this; it is not part of the package's public API.
import type { Worker } from "node:worker_threads";
import { closeSync, fsyncSync, openSync } from "node:fs";
import { ByteRing } from "../../devices/host/byte-ring.ts";
import { deviceTypeWithRole } from "../../devices/registry.ts";
import { CTL_WORDS, instretSlot, kick, requestSave, stopVm, type VmChannels, type VmEvent } from "../../devices/vm/session.ts";
import type { VmConfig } from "../../devices/vm/config.ts";
import { drainConsole } from "../../cli/console-drain.ts";
import { startVmWorker } from "../../cli/vm-worker-start.ts";

export type ExitEvent = Extract<VmEvent, { type: "exit" }>;

export interface VmThreadHandlers {
  /** Guest console output, in order, as the worker puts it in the ring. */
  console(bytes: Uint8Array): void;
  log(message: string): void;
  /** A saved machine (VmConfig.saveState at the end of the script, or a CMD_SAVE). */
  state(bytes: Uint8Array): void;
  /** A CMD_SAVE that could not be made. */
  saveFailed(message: string): void;
}

const OUT_RING = 1 << 20;
const IN_RING = 1 << 16;

export class VmThread {
  /** The exit event, once every byte of console output before it has been handed over. */
  readonly exited: Promise<ExitEvent>;
  /** The worker did not stop when asked and was terminated (its disks then fsynced here). */
  terminated = false;
  private readonly out = new ByteRing(OUT_RING);
  private readonly input = new ByteRing(IN_RING);
  private readonly control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  private readonly worker: Worker;
  private readonly workerExit: Promise<ExitEvent>;
  private stopping: Promise<ExitEvent> | null = null;
  private onStopping: (p: Promise<ExitEvent>) => void = () => {};

  /**
   * `transfer`: buffers of `config`'s files to move to the worker rather than copy (the
   * caller's views of them become empty: only for files it read for this VM alone).
   */
  constructor(private readonly config: VmConfig, handlers: VmThreadHandlers, transfer: readonly ArrayBuffer[] = []) {
    const channels: VmChannels = { consoleOut: this.out.sab, consoleIn: this.input.sab, control: this.control.buffer as SharedArrayBuffer };
    this.worker = startVmWorker({ config, channels }, transfer);
    this.workerExit = new Promise<ExitEvent>((resolve, reject) => {
      this.worker.on("message", (e: VmEvent) => {
        if (e.type === "exit") resolve(e);
        else if (e.type === "state") handlers.state(e.bytes);
        else if (e.type === "save-failed") handlers.saveFailed(e.message);
        else if (e.type === "log") handlers.log(e.message);
      });
      this.worker.on("error", reject);
      this.worker.on("exit", (code) => void (this.terminated || reject(new Error(`VM worker exited unexpectedly (code ${code})`))));
    });
    const drain = drainConsole(this.out, this.control, (bytes) => handlers.console(bytes));
    this.exited = (async () => {
      // The worker's own exit, or the stop's (which may have terminated it).
      const exit = await new Promise<ExitEvent>((resolve, reject) => {
        this.workerExit.then(resolve, reject);
        this.onStopping = (p) => void p.then(resolve, reject);
      }).finally(async () => {
        await drain.stop();
        const rest = this.out.read();
        if (rest.length) handlers.console(rest);
        await this.worker.terminate();
      });
      if (this.terminated) syncImages(this.config.devices ?? []);
      return exit;
    })();
    this.exited.catch(() => {}); // an owner that never awaits it must not crash the process
  }

  /** Bytes for the guest's console; resolves when all are in the ring (it waits for room). */
  async write(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) {
      const n = this.input.write(bytes.subarray(at));
      at += n;
      kick(this.control);
      if (at < bytes.length) await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Wake the worker: host-side data for the guest arrived (a NAT's, cli/nat.ts). */
  wake(): void {
    kick(this.control);
  }

  /** Ask for a whole state (a "state" or "save-failed" event); false if another command is pending. */
  requestSave(): boolean {
    return requestSave(this.control, true);
  }

  /** Instructions the guest has executed so far (published by the worker each slice). */
  instructions(): number {
    return Number(Atomics.load(instretSlot(this.control.buffer as SharedArrayBuffer), 0));
  }

  /** Stop the VM now (no guest shutdown); a worker that does not answer is terminated. */
  stop(): Promise<ExitEvent> {
    if (!this.stopping) {
      this.stopping = stopVm(this.control, this.workerExit, () => ((this.terminated = true), this.worker.terminate()));
      this.onStopping(this.stopping);
    }
    return this.exited;
  }
}

/**
 * After a terminated worker: every write request the guest saw complete went to the image file
 * with a synchronous write (node-file-block.ts), so it is in the OS already; fsync makes it
 * durable, as the worker's own power off would have (an fsync on any descriptor of a file
 * flushes the file).
 */
const DISK = deviceTypeWithRole("disk")!.name;
function syncImages(devices: readonly { type: string; image?: unknown; readonly?: unknown }[]): void {
  for (const d of devices) {
    if (d.type !== DISK || d.readonly || typeof d.image !== "string") continue;
    try {
      const fd = openSync(d.image, "r+");
      try { fsyncSync(fd); } finally { closeSync(fd); }
    } catch (e) {
      process.stderr.write(`vireo: ${d.image}: fsync after termination failed: ${(e as Error).message}\n`);
    }
  }
}
