// The page's side of one VM: the Worker, the console rings and the control word. It moves
// console bytes (never a postMessage per byte, docs/ARCHITECTURE.md "Threads") and reports the exit.
import { ByteRing } from "../devices/host/byte-ring.ts";
import {
  CTL_BALLOON, CTL_WORDS, STOP_GRACE_MS, resetVm, KEY_RECORD_BYTES, instretSlot, keyRecord, kick, requestInspect, requestSave, setRunState, setWinsize, stopVm,
  type VmChannels, type VmEvent, type VmStats,
} from "../devices/vm/session.ts";
import type { InspectSnapshot } from "../devices/inspect/snapshot.ts";
import type { VmConfig } from "../devices/vm/config.ts";
import type { StartMessage } from "./vm-worker.ts";
import type { StreamProgress } from "../devices/host/streamed-disk.ts";
import { startVmWorker } from "./vm-worker-start.ts";

export type VmExit = Extract<VmEvent, { type: "exit" }>;
/** A saved machine (devices/state/): whole (`base` null) or an increment over the state `base`. */
export type SavedState = Omit<Extract<VmEvent, { type: "state" }>, "type">;

export interface VmHostEvents {
  output(bytes: Uint8Array): void;
  log(message: string): void;
  exit(e: VmExit): void;
  /** An inspector snapshot (asked for with inspect(), or sent when a step or pause stopped the VM). */
  inspect?(snapshot: InspectSnapshot, stepped: boolean): void;
  /** A streamed disk's progress. */
  stream?(image: string, progress: StreamProgress): void;
}

export class VmSession {
  private readonly out = new ByteRing(1 << 20);
  private readonly input = new ByteRing(1 << 16);
  private readonly keys = new ByteRing(1 << 12);
  private readonly control = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  private readonly instret: BigInt64Array;
  private readonly worker: Worker;
  private running = true;
  readonly exited: Promise<VmExit>;
  private resolveExit: (e: VmExit) => void = () => {};
  /** The save asked for (save()), answered by the worker's next "state" or "save-failed". */
  private saving: { resolve(s: SavedState): void; reject(e: Error): void; promise: Promise<SavedState> } | null = null;

  /** `disks`: base image bytes per blk spec image (StartMessage), transferred to the worker. */
  constructor(config: VmConfig, private readonly on: VmHostEvents, disks: Record<string, Uint8Array> = {}) {
    this.instret = instretSlot(this.control.buffer as SharedArrayBuffer);
    const channels: VmChannels = { consoleOut: this.out.sab, consoleIn: this.input.sab, control: this.control.buffer as SharedArrayBuffer, keys: this.keys.sab };
    this.worker = startVmWorker();
    this.exited = new Promise<VmExit>((resolve) => {
      this.resolveExit = resolve;
      this.worker.onmessage = (ev: MessageEvent<VmEvent>) => {
        const e = ev.data;
        if (e.type === "log") return on.log(e.message);
        if (e.type === "inspect") return on.inspect?.(e.snapshot, e.stepped === true);
        if (e.type === "stream") return on.stream?.(e.image, e.progress);
        if (e.type === "state" || e.type === "save-failed") {
          const pending = this.saving;
          this.saving = null;
          if (e.type === "state") pending?.resolve({ bytes: e.bytes, id: e.id, base: e.base });
          else pending?.reject(new Error(e.message));
          return;
        }
        this.finish();
        this.saving?.reject(new Error(`the VM stopped (${e.reason}) before it was saved`));
        this.saving = null;
        resolve(e);
      };
      this.worker.onerror = (ev) => {
        ev.preventDefault();
        this.finish();
        resolve({ type: "exit", reason: "error", message: ev.message || "the VM worker failed to start", stats: emptyStats() });
      };
    }).then((e) => (on.exit(e), e));
    this.worker.postMessage({ config, channels, disks } satisfies StartMessage, Object.values(disks).map((d) => d.buffer));
    void this.drain();
  }

  get alive(): boolean {
    return this.running;
  }

  /** Keystrokes (or pasted text) to the guest console. */
  send(bytes: Uint8Array): void {
    if (!this.running) return;
    let at = 0;
    while (at < bytes.length) {
      const n = this.input.write(bytes.subarray(at));
      kick(this.control);
      if (n === 0) break; // ring full (64 KiB unread): drop the rest rather than block the page
      at += n;
    }
  }

  /** Bytes for the guest console, all of them: resolves once they are in the ring (waiting for room). */
  async write(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length && this.running;) {
      const n = this.input.write(bytes.subarray(at));
      at += n;
      kick(this.control);
      if (at < bytes.length) await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** A key press or release for the virtio-input keyboard (Linux KEY_* code). */
  sendKey(code: number, down: boolean): void {
    if (!this.running || this.keys.capacity - this.keys.available() < KEY_RECORD_BYTES) return;
    this.keys.write(keyRecord(code, down));
    kick(this.control);
  }

  /** The virtio-balloon size asked for, in MiB (the worker applies it between slices). */
  setBalloon(mib: number): void {
    Atomics.store(this.control, CTL_BALLOON, mib);
    kick(this.control);
  }

  /** The terminal's size, for a virtio-console (the worker applies it between slices). */
  resize(cols: number, rows: number): void {
    setWinsize(this.control, cols, rows);
    kick(this.control);
  }

  /** Instructions executed since power-on, as the worker last published them. */
  instructions(): number {
    return Number(Atomics.load(this.instret, 0));
  }

  /** Wake a halted guest for host-side input other than the console (a network frame). */
  wake(): void {
    if (this.running) kick(this.control);
  }

  /**
   * Reset: the worker takes the request at its next run slice. One that has not taken it within
   * STOP_GRACE_MS never will (its run loop is stuck): it is terminated — `exited` says why —
   * and `stuck` is called, so the page can power on again.
   */
  reset(stuck: () => void = () => {}): void {
    if (!this.running) return;
    void resetVm(this.control).then((taken) => {
      if (taken || !this.running) return;
      this.finish();
      this.resolveExit({
        type: "exit", reason: "stopped", message: `the VM worker did not take the reset within ${STOP_GRACE_MS} ms; terminated`,
        stats: { ...emptyStats(), instructions: this.instructions() },
      });
      void this.exited.then(stuck); // after the page has seen the exit
    });
  }

  /** Ask the worker for an inspector snapshot (false: another command is pending; ask later). */
  inspect(): boolean {
    return this.running && requestInspect(this.control);
  }

  /**
   * Save the machine while it runs on: whole, or (`whole` false) an increment over the last
   * state saved or resumed in this session when there is one. The worker does it between run
   * slices; one save at a time (a second call gets the first's promise).
   */
  save(whole: boolean): Promise<SavedState> {
    if (this.saving) return this.saving.promise;
    if (!this.running) return Promise.reject(new Error("the VM is not running"));
    let resolve!: (s: SavedState) => void, reject!: (e: Error) => void;
    const promise = new Promise<SavedState>((res, rej) => ((resolve = res), (reject = rej)));
    this.saving = { resolve, reject, promise };
    const ask = () => {
      if (!this.running || this.saving?.promise !== promise) return;
      // Another command (an inspector snapshot) is pending: ask again once the worker took it.
      if (!requestSave(this.control, whole)) setTimeout(ask, 20);
    };
    ask();
    return promise;
  }

  /** RUN_GO / RUN_PAUSE / RUN_STEP (devices/vm/session.ts). */
  setRunState(state: number): void {
    if (this.running) setRunState(this.control, state);
  }

  /**
   * Power off: the worker exits with reason "stopped" at its next run slice; the Worker is
   * terminated after. One that has not answered within STOP_GRACE_MS is terminated at once.
   */
  stop(): Promise<VmExit> {
    // The worker's own exit resolves `exited` first; after a termination, ours does.
    if (this.running) void stopVm(this.control, this.exited, () => this.finish()).then((e) => this.resolveExit(e));
    return this.exited;
  }

  private finish(): void {
    if (!this.running) return;
    this.running = false;
    this.flush();
    this.worker.terminate();
  }

  private flush(): void {
    const bytes = this.out.read();
    if (bytes.length > 0) {
      this.on.output(bytes);
      kick(this.control); // the worker may be waiting for ring space
    }
  }

  // Drain consoleOut whenever the worker writes: Atomics.waitAsync, with a timer as a fallback
  // (browsers without waitAsync, and a bound on a missed notify), as cli/boot.ts does.
  private async drain(): Promise<void> {
    while (this.running) {
      this.flush();
      const cell = this.out.waitCell;
      if (this.out.available() > 0) continue;
      const hasWaitAsync = typeof Atomics.waitAsync === "function";
      // Output wakes waitAsync at once; the timer is only a safety net, so an idle guest costs
      // the page one wake-up a second (where there is no waitAsync, a poll per frame).
      const timer = new Promise((r) => setTimeout(r, hasWaitAsync ? 1000 : 16));
      if (hasWaitAsync) {
        const w = Atomics.waitAsync(cell.array, cell.index, cell.value, 1000);
        if (w.async) await Promise.race([w.value, timer]);
      } else {
        await timer;
      }
    }
  }
}

export function emptyStats(): VmStats {
  return { instructions: 0, wallSeconds: 0, mips: 0, resets: 0 };
}
