// What the split and packed ring walkers share: the three guest addresses a queue is given and
// the error a walker throws on a guest mistake (the queue turns it into DEVICE_NEEDS_RESET).
import type { GuestChain } from "./chain.ts";

/**
 * The three areas of a virtqueue (virtio 1.2 §2.6): descriptor area, driver area (split: the
 * available ring; packed: the driver event suppression structure), device area (split: the used
 * ring; packed: the device event suppression structure).
 */
export interface RingAddresses {
  desc: number;
  driver: number;
  device: number;
}

/** A guest mistake found while walking a ring; `message` is the logged reason. */
export class RingError extends Error {}

/** The ring-format-specific half of a queue (split-ring.ts, packed-ring.ts). */
export interface Ring {
  pop(): GuestChain | null;
  push(chain: GuestChain, written: number): void;
  flush(): boolean;
  disable(): void;
  enable(): boolean;
}
