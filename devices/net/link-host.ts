// The host thread's end of a VM's frame-ring link (ring-backend.ts is the worker's end): a
// NetBackend that needs the host's event loop — the host stack with a NAT, whose outside is
// sockets or a relay — runs here, beside the event loop, while the VM worker runs guest code.
// Frames from the worker are drained as soon as it writes them (Atomics.waitAsync on the ring,
// a timer bounding a missed wake-up) into one reused buffer; frames for the guest go into the
// worker's ring, and its control word is kicked once per turn so a halted guest wakes.
import { FrameRing } from "../host/frame-ring.ts";
import type { NetBackend } from "./backend.ts";
import type { NetLinkEnd } from "./ring-backend.ts";

/** Bytes per direction: ~700 full frames, more than the device's receive backlog holds. */
export const HOST_LINK_RING_BYTES = 1 << 20;
/** How often the backend's timers run (NAT retransmission and expiry), and the longest sleep. */
export const TICK_MS = 100;
/** Where Atomics.waitAsync is missing: how often the worker's ring is looked at. */
const POLL_MS = 4;

/** A backend served from the host thread; `tick` runs its timers. */
export interface HostBackend extends NetBackend {
  tick?(): void;
}

export class LinkHost {
  /** The worker's end: hand it to the VM config as the net device's `link`. */
  readonly end: NetLinkEnd;
  private readonly toVm: FrameRing;
  private readonly fromVm: FrameRing;
  private readonly scratch = new Uint8Array(0x10000);
  private open = true;
  private wakeOwed = false;
  private lastTick = 0;
  readonly counters = { toGuest: 0, fromGuest: 0, toGuestDropped: 0 };

  constructor(
    private readonly backend: HostBackend,
    /** Kick the VM's control word (its halted guest wakes). */
    private readonly wake: () => void,
    bytes = HOST_LINK_RING_BYTES,
  ) {
    this.toVm = new FrameRing(bytes);
    this.fromVm = new FrameRing(bytes);
    this.end = { rx: this.toVm.sab, tx: this.fromVm.sab };
    backend.onReceive = (frame) => {
      // No notify on the ring: the worker sleeps on its control word, kicked once per turn.
      if (!this.toVm.push(frame, false)) {
        this.counters.toGuestDropped++; // a full wire drops; TCP resends
        return;
      }
      this.counters.toGuest++;
      if (!this.wakeOwed) {
        this.wakeOwed = true;
        queueMicrotask(this.flushWake);
      }
    };
    void this.pump();
  }

  close(): void {
    this.open = false;
  }

  private readonly flushWake = () => {
    this.wakeOwed = false;
    this.wake();
  };

  /** Worker → backend, then the backend's timers; woken by the ring's own notify. */
  private async pump(): Promise<void> {
    while (this.open) {
      for (let n = this.fromVm.popInto(this.scratch); n >= 0; n = this.fromVm.popInto(this.scratch)) {
        this.counters.fromGuest++;
        this.backend.send(this.scratch.subarray(0, n));
      }
      this.backend.flush?.();
      const t = performance.now();
      if (t - this.lastTick >= TICK_MS) {
        this.lastTick = t;
        this.backend.tick?.();
      }
      const cell = this.fromVm.waitCell;
      if (this.fromVm.available() > 0) continue;
      if (typeof Atomics.waitAsync !== "function") {
        // A browser without waitAsync (Firefox): the ring is looked at every few milliseconds.
        await new Promise((r) => setTimeout(r, POLL_MS));
        continue;
      }
      const w = Atomics.waitAsync(cell.array, cell.index, cell.value, TICK_MS);
      if (w.async) await w.value;
      else await new Promise((r) => setTimeout(r, 0));
    }
  }
}
