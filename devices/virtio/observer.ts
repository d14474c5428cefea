// What a transport tells whoever watches it (the inspector, devices/inspect/): guest register
// accesses, device-status steps and virtqueue events. The observer is optional: with none
// attached a transport records nothing and pays one null compare per event (docs/ARCHITECTURE.md
// "The inspector").

/** One device-status change, for "the path the driver took" (virtio 1.2 §3.1.1). */
export interface StatusStep {
  /** Status before and after (after === before when the write was refused). */
  from: number;
  to: number;
  /** The value the driver wrote, or -1 for a change the device made (DEVICE_NEEDS_RESET). */
  written: number;
  verdict: "ok" | "reset" | "same" | "invalid" | "refused" | "device";
}

export interface TransportObserver {
  /** A guest access to region slot `region` (a PCI BAR index or configuration space, an MMIO window part). */
  access(region: number, offset: number, width: number, write: boolean, value: number): void;
  /**
   * A status step. The transport may still mark it refused (FEATURES_OK checks) right after:
   * keep the object, not a copy.
   */
  status(step: StatusStep): void;
  /**
   * A queue notification (`notify` true) or queue interrupt. Returning true for a notification
   * holds it: the device sees it only at the transport's releaseHeld().
   */
  event(notify: boolean): boolean;
}
