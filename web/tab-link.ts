// The tab ↔ tab network backend, page side: every tab of this origin that runs a guest with
// netbackend=tab joins one Ethernet segment carried by a BroadcastChannel — no server. Like a
// hub, every frame goes to every other tab; each guest's stack keeps what is addressed to it.
//
// Frames cross between this page and its VM worker through two frame rings (the worker's
// RingNetBackend, devices/net/ring-backend.ts): the worker's frames are drained here as soon as
// it writes them (Atomics.waitAsync on the ring) and posted to the channel; frames from the
// channel go into the worker's ring, then the worker's control word is kicked so a halted
// guest wakes for them.
import { FrameRing } from "../devices/host/frame-ring.ts";
import { LINK_RING_BYTES, type NetLinkEnd } from "../devices/net/ring-backend.ts";

export const TAB_CHANNEL = "vireo-net";
/** The largest frame accepted from the channel (MTU 1500 + Ethernet header + VLAN tag). */
const MAX_FRAME = 1518;

export class TabLink {
  /** The worker's end: hand it to the VM config as the net device's `link`. */
  readonly end: NetLinkEnd;
  private readonly toVm: FrameRing;
  private readonly fromVm: FrameRing;
  private readonly channel: BroadcastChannel;
  private open = true;
  /** Set once the VM runs: kick its control word. */
  wake: () => void = () => {};
  readonly counters = { sent: 0, received: 0, dropped: 0 };

  constructor() {
    this.toVm = new FrameRing(LINK_RING_BYTES);
    this.fromVm = new FrameRing(LINK_RING_BYTES);
    this.end = { rx: this.toVm.sab, tx: this.fromVm.sab };
    this.channel = new BroadcastChannel(TAB_CHANNEL);
    this.channel.onmessage = (ev: MessageEvent<unknown>) => {
      // Another tab's bytes: only a plausible frame is passed on, anything else is dropped.
      const d = ev.data;
      if (!(d instanceof ArrayBuffer) || d.byteLength < 14 || d.byteLength > MAX_FRAME || !this.toVm.push(new Uint8Array(d))) {
        this.counters.dropped++;
        return;
      }
      this.counters.received++;
      this.wake();
    };
    void this.pump();
  }

  close(): void {
    this.open = false;
    this.channel.close();
  }

  /** Worker → channel, woken by the ring's own notify (a timer bounds a missed one). */
  private async pump(): Promise<void> {
    while (this.open) {
      for (let f = this.fromVm.pop(); f; f = this.fromVm.pop()) {
        this.channel.postMessage(f.buffer);
        this.counters.sent++;
      }
      const cell = this.fromVm.waitCell;
      if (this.fromVm.available() > 0) continue;
      const timer = new Promise((r) => setTimeout(r, 100));
      if (typeof Atomics.waitAsync === "function") {
        const w = Atomics.waitAsync(cell.array, cell.index, cell.value, 100);
        if (w.async) await Promise.race([w.value, timer]);
      } else {
        await timer;
      }
    }
  }
}
