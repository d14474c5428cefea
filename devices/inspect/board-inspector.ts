// The inspector's view of a whole board: it attaches an observer to every virtio transport
// (observer.ts), builds snapshots, turns access logging on and off, and runs step mode's hook.
// The board itself carries none of this; a VM with no inspector never builds one.
import type { PcBoard } from "../board/pc.ts";
import { inspectVirtio, type InspectSnapshot } from "./snapshot.ts";
import { observeTransport, type InspectorObserver } from "./observer.ts";

export class BoardInspector {
  private readonly observers: InspectorObserver[];
  private balloonStatsAt = -Infinity;

  constructor(private readonly board: PcBoard) {
    this.observers = board.virtio.map((d) => observeTransport(d.transport));
  }

  /**
   * The snapshot (JSON-able): counters, and per virtio device its identity, registers, features,
   * status path and rings decoded from guest memory.
   */
  snapshot(paused = false): InspectSnapshot {
    const b = this.board;
    // Figures a device only reports when asked (a balloon's statistics, virtio 1.2 §5.5.6.3):
    // ask while someone looks, at most once a second.
    if (!paused && performance.now() - this.balloonStatsAt > 1000) {
      this.balloonStatsAt = performance.now();
      for (const d of b.virtio) d.device.inspected?.();
    }
    const c = b.runCounters();
    return {
      takenMs: performance.now(),
      instructions: b.instret(),
      guestNs: b.clock.nowNs(),
      paused,
      traps: c.traps,
      interrupts: c.interrupts,
      devices: b.virtio.map((d) => inspectVirtio(d, b.mem)),
    };
  }

  /** Log register accesses per device while an inspector looks (AccessLog). */
  setAccessLogging(on: boolean): void {
    for (const o of this.observers) {
      if (on && !o.log.enabled) o.log.clear();
      o.log.enabled = on;
    }
  }

  /**
   * Step mode: call `hit` at every virtqueue notification (`notify` true; returning true holds
   * it until releaseHeldKicks) and queue interrupt of any device (null: stop watching). The
   * caller makes the vCPU stop there (PcBoard.requestStop).
   */
  watchEvents(hit: ((notify: boolean) => boolean) | null): void {
    for (const o of this.observers) o.onEvent = hit;
  }

  /** Let the devices see the notifications step mode held. */
  releaseHeldKicks(): void {
    for (const d of this.board.virtio) d.transport.releaseHeld();
  }
}
