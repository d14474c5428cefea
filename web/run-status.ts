// The status line while the VM runs: live MIPS and uptime. The worker publishes its instruction
// count in shared memory (VmSession.instructions()); this samples it once a second, so no
// message crosses from the worker per slice, and not at all while the page is hidden (the
// first sample after shows the MIPS over the hidden stretch). When the VM stops, exitStatus says why.
//
// The uptime counts whole minutes: a figure that changed every second made the line a new
// frame every second — main thread, compositor, raster and GPU process, about half a percent
// of a core for a guest doing nothing. An idle guest's MIPS reads 0.0 throughout, so at rest
// the line changes once a minute.
import type { ExitReason } from "../devices/vm/session.ts";

export const SAMPLE_MS = 1000;

export class RunStatus {
  private timer: ReturnType<typeof setInterval> | undefined;
  private sample: (() => void) | undefined;
  private hidden = false;

  /** Call `show` every SAMPLE_MS with "12.3 MIPS · up 42 min" until stop(). */
  start(instructions: () => number, show: (text: string) => void): void {
    this.stop();
    const started = performance.now();
    let last = { t: started, n: 0 };
    this.sample = () => {
      const now = { t: performance.now(), n: instructions() };
      const mips = (now.n - last.n) / ((now.t - last.t) * 1000);
      last = now;
      show(`${mips.toFixed(1)} MIPS · up ${uptime((now.t - started) / 1000)}`);
    };
    this.run();
  }

  /** The page is hidden: no samples until it shows again, then one at once. */
  setHidden(hidden: boolean): void {
    if (hidden === this.hidden) return;
    this.hidden = hidden;
    if (!hidden) this.sample?.();
    this.run();
  }

  stop(): void {
    this.sample = undefined;
    this.run();
  }

  private run(): void {
    clearInterval(this.timer);
    this.timer = this.sample && !this.hidden ? setInterval(this.sample, SAMPLE_MS) : undefined;
  }
}

/** "<1 min", "12 min", "1 h 02 min": whole minutes. */
export function uptime(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const h = Math.floor(minutes / 60), m = minutes % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  return minutes === 0 ? "<1 min" : `${m} min`;
}

/** What the page says when the VM has stopped: the status line's state and text, and a terminal note. */
export interface ExitStatus {
  state: "off" | "halted";
  text: string;
  note: string;
}

/** The status line and terminal note for each way a VM ends (devices/vm/session.ts ExitReason). */
export function exitStatus(e: { reason: ExitReason; message?: string }, mips: string): ExitStatus {
  const why = e.message ?? "";
  switch (e.reason) {
    case "poweroff":
      return { state: "off", text: mips, note: "the guest powered off" };
    case "expect":
    case "stopped":
      return { state: "off", text: mips, note: "powered off" };
    case "panic":
      return { state: "halted", text: `guest kernel panicked: ${why}`, note: `guest kernel panicked: ${why}` };
    case "reboot":
      return { state: "halted", text: `the guest rebooted (${why})`, note: `the guest rebooted: ${why}` };
    case "image":
      return { state: "halted", text: why, note: `image refused: ${why}` };
    case "saved":
      return { state: "off", text: mips, note: "the machine was saved" };
    case "state":
      return { state: "halted", text: why, note: `state refused: ${why}` };
    case "error":
      return { state: "halted", text: `${why || "error"} (${mips})`, note: `VM error: ${why || "unknown"}` };
  }
}
