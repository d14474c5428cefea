// A NetBackend over two frame rings (devices/host/frame-ring.ts): the wire to whatever is on
// the other side — another VM worker (two VMs back to back in Node), or the page, which carries
// the frames on over a BroadcastChannel to other tabs. The device drains `rx` between run
// slices; after writing `tx` the backend bumps and notifies the peer's wake word, the control
// word a halted peer VM sleeps on (session.ts CTL_SEQ), so a frame wakes it.
import { FrameRing } from "../host/frame-ring.ts";
import type { NetBackend } from "./backend.ts";
import { EchoTimer } from "./echo-timer.ts";

/** The two rings of one end of a link, as a VmConfig carries them to the worker. */
export interface NetLinkEnd {
  rx: SharedArrayBuffer;
  tx: SharedArrayBuffer;
  /** An Int32Array buffer to bump and notify after sending (the peer's control word); none: the ring's own notify suffices. */
  wake?: SharedArrayBuffer;
  wakeIndex?: number;
}

/** Ring bytes per direction: 64 full-size frames. */
export const LINK_RING_BYTES = 1 << 17;

/** Two linked ends, a's tx being b's rx and the other way round. Wake words are set by the caller. */
export function makeLink(bytes = LINK_RING_BYTES): [NetLinkEnd, NetLinkEnd] {
  const ab = new FrameRing(bytes), ba = new FrameRing(bytes);
  return [{ rx: ba.sab, tx: ab.sab }, { rx: ab.sab, tx: ba.sab }];
}

export class RingNetBackend implements NetBackend {
  onReceive: ((frame: Uint8Array) => void) | null = null;
  private readonly rx: FrameRing;
  private readonly tx: FrameRing;
  private readonly wake: Int32Array | null;
  private readonly wakeIndex: number;
  private readonly counters = { linkTx: 0, linkRx: 0, linkTxDropped: 0 };
  /** Where poll() reads each frame (a frame record's length is a u16). */
  private readonly scratch = new Uint8Array(0x10000);
  /** Frames pushed since the peer was last woken. */
  private unsignalled = false;
  /** Ping round trips across the link, on the host's clock (--stats). */
  private readonly echo = new EchoTimer();

  constructor(end: NetLinkEnd) {
    this.rx = new FrameRing(end.rx);
    this.tx = new FrameRing(end.tx);
    this.wake = end.wake ? new Int32Array(end.wake) : null;
    this.wakeIndex = end.wakeIndex ?? 0;
  }

  send(frame: Uint8Array): void {
    // The peer is woken once per batch, in flush(): the device calls it after a transmit kick.
    if (!this.tx.push(frame, false)) {
      this.counters.linkTxDropped++; // the peer is not draining: a full wire drops
      return;
    }
    this.counters.linkTx++;
    this.unsignalled = true;
    this.echo.outgoing(frame);
  }

  flush(): void {
    if (!this.unsignalled) return;
    this.unsignalled = false;
    this.tx.notify();
    if (this.wake) {
      Atomics.add(this.wake, this.wakeIndex, 1);
      Atomics.notify(this.wake, this.wakeIndex);
    }
  }

  poll(): void {
    // Into one reused buffer: the device copies what it keeps (NetBackend.onReceive).
    for (let n = this.rx.popInto(this.scratch); n >= 0; n = this.rx.popInto(this.scratch)) {
      const f = this.scratch.subarray(0, n);
      this.counters.linkRx++;
      this.echo.incoming(f);
      this.onReceive?.(f);
    }
  }

  pending(): boolean {
    return this.rx.available() > 0;
  }

  stats(): Record<string, number> {
    return { ...this.counters, ...this.echo.stats() };
  }
}
