// Where the guest's console bytes go inside the VM worker: into the shared ring the host drains,
// and past the --cmd/--expect script (console-script.ts), which reads them as text. Both are
// bounded whatever the guest sends: the script sees the bytes in slices of SCRIPT_SLICE (one
// String.fromCharCode over a whole run slice overflowed the stack past ~150 KB), and a full ring
// waits for the host only until the host asks the VM to stop — then output is dropped, so a host
// that no longer drains (it is shutting down) cannot hold the worker forever.
import type { ByteRing } from "../host/byte-ring.ts";
import type { ConsoleScriptRunner, ScriptEvent } from "./console-script.ts";

/** Bytes decoded for the script at a time. */
export const SCRIPT_SLICE = 8192;
/** Longest single wait for the host to drain a full ring, in ms, before looking at the stop flag again. */
const DRAIN_WAIT_MS = 5;

export class ConsoleSink {
  private readonly slice = new Uint8Array(SCRIPT_SLICE);
  private used = 0;
  private readonly events: ScriptEvent[] = [];
  /** Bytes dropped because the host stopped the VM while the ring was full. */
  dropped = 0;

  constructor(
    private readonly out: ByteRing,
    private readonly script: ConsoleScriptRunner,
    /** Sleep up to `ms` or until the host writes the control word. */
    private readonly wait: (ms: number) => void,
    /** The host has asked the VM to stop (its command word says CMD_STOP). */
    private readonly stopping: () => boolean,
    /** Sees all console text, script or not (the panic watch). */
    private readonly watch: (text: string) => void = () => {},
  ) {}

  /** One byte the guest transmitted (serial or virtio-console). */
  byte(b: number): void {
    this.slice[this.used++] = b;
    if (this.used === SCRIPT_SLICE) this.observe();
    // Never drop console output while the VM runs: wait for the host to drain a full ring.
    while (!this.out.push(b)) {
      if (this.stopping()) {
        this.dropped++;
        return;
      }
      this.wait(DRAIN_WAIT_MS);
    }
  }

  /** What the script wants done after this run slice (its commands to type, or "done"). */
  take(): ScriptEvent[] {
    this.observe();
    return this.events.splice(0);
  }

  private observe(): void {
    if (this.used === 0) return;
    // One code unit per byte (latin1), as the script's patterns expect.
    const text = String.fromCharCode.apply(null, this.slice.subarray(0, this.used) as unknown as number[]);
    this.used = 0;
    this.watch(text);
    if (this.script.idle) return;
    const ev = this.script.observe(text);
    if (ev) this.events.push(ev);
  }
}
