// The host's run/pause/step control as a small state machine (the inspector's buttons; the word
// CTL_RUN of the control protocol). Running: guest code runs. Paused: no guest code and guest
// time stands still (clock.pause), so nothing jumps on resume; the loop sleeps on the control
// word. Stepping: the guest runs until the next virtqueue event — the driver's notify, held so
// the request sits in the available ring, not yet taken; then the device's interrupt once it
// has completed the request: the two halves of a request, one per step — and then pauses there.
// A step asked for while paused is "stepping" and still "paused" until the loop resumes the
// clock and releases the held notify (which may itself complete the step).
import type { PcBoard } from "../board/pc.ts";
import type { BoardInspector } from "../inspect/board-inspector.ts";
import { RUN_PAUSE, RUN_STEP, type ControlPort } from "./control.ts";

export type RunMode = "running" | "paused" | "stepping";

/** What the loop does after a look at the run word. */
export type RunDecision = "run" | "wait" | "again";

export interface RunModeHost {
  /** The current board (a reset builds a new one). */
  board(): PcBoard;
  inspector(): BoardInspector;
  /** Post a snapshot; `stepped` when a step just ended. */
  snapshot(stepped: boolean): void;
}

export class RunModeMachine {
  private paused = false;
  private stepping = false;
  /** The step's event happened; the loop pauses at its next look. */
  private hit = false;

  constructor(private readonly host: RunModeHost, private readonly port: ControlPort) {}

  get mode(): RunMode {
    return this.stepping ? "stepping" : this.paused ? "paused" : "running";
  }

  /** Guest time is stopped (for the snapshot's "paused" flag). */
  get isPaused(): boolean {
    return this.paused;
  }

  /** A virtqueue event ended the step: the loop must look at the run word before running more. */
  get stepEnded(): boolean {
    return this.hit;
  }

  /** The inspector's event hook while stepping: stop the vCPU after this trap; hold a notify. */
  private readonly onStepEvent = (notify: boolean): boolean => {
    this.hit = true;
    this.host.board().requestStop(); // the core returns after this trap: the guest sees nothing more
    return notify;
  };

  /** A reset built a new board: it inherits watching for the step and the stopped clock. */
  adoptBoard(): void {
    if (this.stepping) this.host.inspector().watchEvents(this.onStepEvent);
    if (this.paused) this.host.board().clock.pause();
  }

  /** One look at the host's run word (RUN_*); `inspectAsked`: a CMD_INSPECT came with it. */
  next(runState: number, inspectAsked: boolean): RunDecision {
    if (this.stepping && this.hit) {
      // The step's event happened: pause there and show it (unless the host changed its mind).
      this.stepping = this.hit = false;
      this.host.inspector().watchEvents(null);
      this.port.stepDone();
      this.pause();
      this.host.snapshot(true);
      return "again";
    }
    if (runState === RUN_STEP && !this.stepping) {
      this.stepping = true;
      this.hit = false;
      this.host.inspector().watchEvents(this.onStepEvent);
    } else if (runState !== RUN_STEP && this.stepping) {
      this.stepping = false;
      this.host.inspector().watchEvents(null);
    }
    if (runState === RUN_PAUSE) {
      if (!this.paused) { this.pause(); this.host.snapshot(false); }
      else if (inspectAsked) this.host.snapshot(false);
      return "wait";
    }
    if (this.paused) {
      this.paused = false;
      this.host.board().clock.resume();
      this.host.inspector().releaseHeldKicks();
      if (this.hit) return "again"; // the held request completed and interrupted: that was the step
    }
    return "run";
  }

  private pause(): void {
    this.paused = true;
    this.host.board().clock.pause();
  }
}
