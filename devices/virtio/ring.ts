// What the split and packed ring walkers share: the three guest addresses a queue is given and
// the error a walker throws on a guest mistake (the queue turns it into DEVICE_NEEDS_RESET).
import type { GuestChain } from "./chain.ts";
import type { GuestMemory } from "./guest-memory.ts";

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

/** A ring area the driver placed: name, guest address, length, required alignment. */
export type RingArea = [what: string, addr: number, len: number, align: number];

/** Every area inside guest RAM and aligned as the spec requires, or a RingError saying which. */
export function checkRingAreas(mem: GuestMemory, areas: readonly RingArea[]): void {
  for (const [what, addr, len, align] of areas) {
    if (!mem.valid(addr, len)) throw new RingError(`${what} 0x${addr.toString(16)}+${len} outside guest RAM`);
    if (addr % align !== 0) throw new RingError(`${what} 0x${addr.toString(16)} not ${align}-byte aligned`);
  }
}

/** The ring-format-specific half of a queue (split-ring.ts, packed-ring.ts). */
export interface Ring {
  pop(): GuestChain | null;
  push(chain: GuestChain, written: number): void;
  flush(): boolean;
  disable(): void;
  enable(): boolean;
  /** Device-side indices for the inspector (no guest memory access). */
  state(): Record<string, number | boolean>;
}
