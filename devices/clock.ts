// One virtual clock for the whole machine. The PIT, RTC, UART timeouts, TSC (and later the
// APIC timer) all read `nowNs()`, so they can never disagree: Linux calibrates the TSC against
// PIT channel 2 and marks it unstable if the two drift (guest/NOTES.md, "Timers").
//
// Two modes (docs/ARCHITECTURE.md "Time"):
//  - 'deterministic': guest time is instructions retired × NS_PER_INSTRUCTION (1 ns: a guest
//    that runs at 1 GHz, 1 IPC), plus time skipped while the guest is halted (idleUntil). No
//    host time is read anywhere, so the same image and inputs give the same timing.
//  - 'realtime': guest time follows host time (performance.now) since power-on, minus time
//    spent paused — but not by reading the host clock on every access. Host timing is jittery
//    (JIT, GC, the OS), and Linux's TSC calibration rejects a run in which one loop iteration
//    took 10× longer than another (pit_calibrate_tsc's SMI check) or the PIT's MSB was not
//    seen for 6 reads (quick_pit_calibrate). So while the guest runs, time advances with
//    retired instructions at an adaptive rate (guest ns per instruction), which a slow
//    controller re-fits every REALTIME_WINDOW_NS of host time so guest time tracks host time;
//    while the guest is halted (idleUntil), guest time flows with host time, and a lag is caught
//    up there, up to the deadline the guest halted for — a jump while the guest busy-waits would
//    corrupt a calibration (it could land between the TSC read and the PIT read that ends
//    Linux's loop), but a halted guest cannot observe one; and a jump past its next timer
//    deadline would fire a periodic timer once for many periods.
//    Without an `instret` function, realtime mode falls back to raw host time.
//
// TSC: TSC_HZ ticks per second of the same time base — 1 GHz, so one TSC tick per guest
// nanosecond (and, in deterministic mode, per instruction).
//
// Timers: a device with time-driven behaviour implements `Timed`. The run loop asks the board
// for the earliest `nextDeadlineNs()` to size its instruction budget (deadline − now, divided
// by nsPerInstruction()) or its Atomics.wait timeout when the guest halts, then calls
// `advance(nowNs)` on each device once time passes.

import type { StateTable, Stateful } from "./state/fields.ts";

export const NS_PER_SECOND = 1_000_000_000;
/** Deterministic mode: guest nanoseconds per retired instruction. */
export const NS_PER_INSTRUCTION = 1;
/** TSC frequency: 1 GHz, i.e. the TSC counts guest nanoseconds. */
export const TSC_HZ = 1_000_000_000;
/** Deterministic mode's wall-clock epoch (what the RTC shows at power-on). */
export const DETERMINISTIC_EPOCH_MS = Date.UTC(2026, 0, 1, 0, 0, 0);

/** Realtime mode: how often the instruction rate is re-fitted to host time. */
export const REALTIME_WINDOW_NS = 2_000_000;
/** Realtime mode: the lag is worked off over about this much time (rate correction gain). */
const LAG_HORIZON_NS = 50_000_000;
/** Realtime mode: the rate changes by at most this factor per window. */
const MAX_RATE_STEP = 1.25;

export type ClockMode = "realtime" | "deterministic";

// performance.now exists in Node, browser windows and workers alike; typed here so devices/
// needs neither the DOM library nor @types/node (devices/ compiles without either; docs/ARCHITECTURE.md "The layers").
const perf = (globalThis as unknown as { performance: { now(): number } }).performance;
const hostMonotonicMs = (): number => perf.now();

export interface Timed {
  /** Guest time (ns) at which this device next needs `advance`; Infinity if none. */
  nextDeadlineNs(): number;
  /** Let the device catch up to `nowNs` (raise interrupts, set status bits). */
  advance(nowNs: number): void;
}

export interface ClockOptions {
  mode: ClockMode;
  /** Instructions retired since power-on. Required in deterministic mode; in realtime mode
   * it makes guest time instruction-smooth (see above). */
  instret?: () => number;
  /** Realtime mode: host monotonic milliseconds (default performance.now). For tests. */
  hostNowMs?: () => number;
  /** Realtime mode: host wall clock in ms since the Unix epoch (default Date.now). */
  hostWallMs?: () => number;
  /** Realtime mode: the first guess of guest ns per instruction, before the first re-fit. */
  initialNsPerInstruction?: number;
}

export class VirtualClock implements Stateful {
  readonly mode: ClockMode;
  /** Wall-clock time (ms since the Unix epoch) that corresponds to nowNs() === 0. */
  readonly epochMs: number;
  private readonly instret: (() => number) | null;
  private readonly hostNowMs: () => number;
  private hostStartMs: number;
  private idleNs = 0; // deterministic: time skipped while halted
  // realtime
  private paused = false;
  private pausedTotalMs = 0;
  private pauseStartMs = 0;
  private rate: number; // guest ns per instruction
  private guestNs = 0; // guest time at (lastHostNs, lastInstret)
  private lastHostNs = 0;
  private lastInstret = 0;
  private winHostNs = 0; // current rate-fitting window
  private winInstret = 0;
  private winBusyNs = 0; // host time in the window during which instructions retired
  private lastReturned = 0;
  private halted = false; // realtime: idleUntil was called; the next step is idle time
  private haltUntilNs = Infinity; // realtime: the deadline the guest halted for

  constructor(opts: ClockOptions) {
    this.mode = opts.mode;
    this.instret = opts.instret ?? null;
    if (opts.mode === "deterministic") {
      if (!opts.instret) throw new Error("deterministic clock needs instret()");
      this.hostNowMs = () => 0;
      this.hostStartMs = 0;
      this.epochMs = DETERMINISTIC_EPOCH_MS;
      this.rate = NS_PER_INSTRUCTION;
    } else {
      this.hostNowMs = opts.hostNowMs ?? hostMonotonicMs;
      this.hostStartMs = this.hostNowMs();
      this.epochMs = (opts.hostWallMs ?? Date.now)();
      this.rate = opts.initialNsPerInstruction ?? 10;
      const i = this.instret ? this.instret() : 0;
      this.lastInstret = this.winInstret = i;
    }
  }

  /**
   * Snapshot fields (devices/state/): guest time at the save, and the deterministic mode's idle
   * time (its "now" is then the restored instruction count plus it). Loaded after the vCPU.
   */
  readonly stateTable: StateTable = { idleNs: "f64", timeNs: "f64" };

  /** Guest time now, as a snapshot saves it; setting it resumes guest time from there. */
  get timeNs(): number {
    return this.nowNs();
  }

  set timeNs(ns: number) {
    if (this.mode === "deterministic") return; // instructions and idleNs say it already
    // Realtime: guest time continues from `ns` at this host instant, as if it had been paused.
    const host = this.hostNowMs();
    this.pausedTotalMs = 0;
    this.paused = false;
    this.halted = false;
    this.hostStartMs = host - ns / 1e6;
    this.guestNs = this.lastHostNs = this.winHostNs = this.lastReturned = ns;
    this.lastInstret = this.winInstret = this.instret ? this.instret() : 0;
    this.winBusyNs = 0;
  }

  /** Guest nanoseconds since power-on. Monotonic. */
  nowNs(): number {
    if (this.mode === "deterministic") return this.instret!() * NS_PER_INSTRUCTION + this.idleNs;
    if (this.paused) return this.lastReturned;
    const host = (this.hostNowMs() - this.hostStartMs - this.pausedTotalMs) * 1e6;
    let ns: number;
    if (this.instret === null) {
      ns = Math.floor(host);
    } else {
      this.step(host, this.instret());
      ns = Math.floor(this.guestNs);
    }
    if (ns < this.lastReturned) ns = this.lastReturned;
    this.lastReturned = ns;
    return ns;
  }

  /** Realtime: advance guest time to host time `host` with `i` instructions retired. */
  private step(host: number, i: number): void {
    const di = i - this.lastInstret;
    const dh = host - this.lastHostNs;
    if (this.halted) {
      // The run loop slept since idleUntil(): whatever retired (the HLT itself) took host time.
      // Time flows with the host and a lag is caught up — but no further than the deadline
      // the guest halted for: its timer then fires once per period, as on hardware, instead of
      // once for many periods skipped at a stroke (a periodic tick's count, jiffies, would
      // fall behind the TSC, and the kernel's clocksource watchdog mark the TSC unstable). The
      // rest of a lag is caught up at the following halts, one deadline at a time.
      // (A deadline already past when the guest halted caps nothing: a device that did not act
      // on it must not freeze time.) The halt lasts until an instruction retires: the run loop
      // reads the clock again before it sleeps (to size the sleep), and that read must not end it.
      if (di > 0) this.halted = false;
      const caughtUp = Math.max(this.guestNs + Math.max(0, dh), host);
      this.guestNs = Math.min(caughtUp, Math.max(this.guestNs, this.haltUntilNs));
      this.lastHostNs = host;
      this.lastInstret = i;
    } else {
      // Running (or stalled on the host between two reads: descheduled, or in a slow trap).
      // Time moves with instructions only: a jump here would land inside a busy-wait — a
      // calibration loop, the PIT countdown Linux measures the PM timer against — and the
      // guest would see one iteration take a whole host stall. The lag shrinks through the
      // rate and at the next halt.
      this.guestNs += di * this.rate;
      this.winBusyNs += dh;
      this.lastHostNs = host;
      this.lastInstret = i;
    }
    if (host - this.winHostNs < REALTIME_WINDOW_NS) return;
    // Re-fit the rate: the host time instructions took in this window, corrected so that the
    // guest's lag behind host time shrinks over LAG_HORIZON_NS; limited per step so that a
    // host hiccup barely changes how long the guest sees one instruction take.
    const lag = host - this.guestNs;
    const diw = i - this.winInstret;
    if (diw > 0 && this.winBusyNs > 0) {
      const measured = this.winBusyNs / diw;
      const correction = Math.max(-0.5, Math.min(0.5, lag / LAG_HORIZON_NS));
      const target = measured * (1 + correction);
      this.rate = Math.max(this.rate / MAX_RATE_STEP, Math.min(this.rate * MAX_RATE_STEP, target));
      this.rate = Math.max(0.01, Math.min(1e6, this.rate));
    }
    this.winHostNs = host;
    this.winInstret = i;
    this.winBusyNs = 0;
  }

  /** Guest ns per instruction now: constant in deterministic mode, adaptive in realtime. */
  nsPerInstruction(): number {
    return this.mode === "deterministic" ? NS_PER_INSTRUCTION : this.rate;
  }

  /** The time-stamp counter: TSC_HZ ticks per guest second, from the same time base. */
  tsc(): bigint {
    return BigInt(this.tscNumber());
  }

  /** The TSC as a number (exact below 2^53 ticks ≈ 104 days at 1 GHz). */
  tscNumber(): number {
    const ns = this.nowNs();
    return TSC_HZ === NS_PER_SECOND ? ns : Math.floor((ns * TSC_HZ) / NS_PER_SECOND);
  }

  /**
   * The guest is halted until `targetNs` (its next timer deadline); call it on every HLT exit,
   * in both modes. Deterministic mode jumps time forward — no instructions retire while
   * halted, so nothing else would move it. Realtime mode notes the halt: the run loop then
   * sleeps, and the next nowNs() lets guest time flow with (and catch up to) host time.
   */
  idleUntil(targetNs: number): void {
    if (this.mode === "realtime") {
      const now = this.nowNs();
      this.halted = true;
      this.haltUntilNs = targetNs > now ? targetNs : Infinity;
      return;
    }
    if (!Number.isFinite(targetNs)) return;
    const now = this.nowNs();
    if (targetNs > now) this.idleNs += Math.ceil(targetNs - now);
  }

  /** Realtime mode: stop guest time (the VM is paused); deterministic time needs no pausing. */
  pause(): void {
    if (this.mode !== "realtime" || this.paused) return;
    this.nowNs();
    this.paused = true;
    this.pauseStartMs = this.hostNowMs();
  }

  resume(): void {
    if (!this.paused) return;
    this.pausedTotalMs += this.hostNowMs() - this.pauseStartMs;
    this.paused = false;
  }

  /** Wall-clock ms since the Unix epoch now, as the guest's RTC should see it. */
  wallMs(): number {
    return this.epochMs + this.nowNs() / 1e6;
  }
}

/** The earliest deadline of a set of timed devices (Infinity if none). */
export function earliestDeadline(devices: readonly Timed[]): number {
  let t = Infinity;
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i]!.nextDeadlineNs();
    if (d < t) t = d;
  }
  return t;
}

/** Advance every device whose deadline has passed. */
export function advanceAll(devices: readonly Timed[], nowNs: number): void {
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i]!;
    if (d.nextDeadlineNs() <= nowNs) d.advance(nowNs);
  }
}
