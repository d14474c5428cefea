// The network backend interface (docs/ARCHITECTURE.md "Host backends"): what a virtio-net device hands its frames to and
// takes frames from, apart from the device model. Implementations: the built-in host stack
// (host-stack.ts), a pair of shared frame rings to another VM or to the page (ring-backend.ts).
// Frames are whole Ethernet frames without the FCS, as virtio-net carries them (virtio 1.2 §5.1.6).

export interface NetBackend {
  /** A frame the guest sent. `frame` may be a view the caller reuses: copy what you keep. */
  send(frame: Uint8Array): void;
  /** Set by the device: a frame for the guest (the device copies it). */
  onReceive: ((frame: Uint8Array) => void) | null;
  /** The device has sent a batch of frames (one transmit kick): pass them on now. */
  flush?(): void;
  /** Called between run slices: drain frames that arrived from another thread. */
  poll?(): void;
  /** True when frames wait to be drained by poll() (the run loop then must not sleep). */
  pending?(): boolean;
  /** Counters for --stats. */
  stats?(): Record<string, number>;
}
