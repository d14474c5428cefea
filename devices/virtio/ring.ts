// What the split and packed ring walkers share: the three guest addresses a queue is given and
// the error a walker throws on a guest mistake (the queue turns it into DEVICE_NEEDS_RESET).
import type { GuestChain } from "./chain.ts";
import type { Segment } from "./device.ts";
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

/**
 * Most descriptors one chain may have, direct and indirect together, in either ring format.
 * The spec bounds a direct chain by the queue size (§2.7.5.3.1, §2.8.7) but leaves indirect
 * tables to the driver; QEMU refuses more than VIRTQUEUE_MAX_SIZE (1,024) segments per chain.
 * Linux never comes near it (virtio-blk seg_max + 2, virtio-net 19, 9p 128), and it keeps a
 * hostile table from costing a pop more than ~1,000 descriptor reads.
 */
export const MAX_CHAIN_DESCRIPTORS = 1024;
/** Bytes per descriptor, split (§2.7.5) and packed (§2.8.13) alike. */
export const DESC_SIZE = 16;

/**
 * The one rule both ring walkers build a chain by: every buffer inside RAM, device-readable
 * buffers before device-writable ones (§2.7.4.2), at most MAX_CHAIN_DESCRIPTORS descriptors,
 * indirect tables well-formed. Each breach is a RingError naming it.
 */
export class ChainBuilder {
  readonly readable: Segment[] = [];
  readonly writable: Segment[] = [];
  /** Descriptors read so far (zero-length ones included: they cost a read too). */
  descriptors = 0;

  constructor(private readonly mem: GuestMemory) {}

  /** Append one buffer; zero-length buffers carry nothing and are dropped. */
  add(addr: number, len: number, write: boolean): void {
    if (++this.descriptors > MAX_CHAIN_DESCRIPTORS) throw new RingError(`chain has more than ${MAX_CHAIN_DESCRIPTORS} descriptors`);
    if (!this.mem.valid(addr, len)) throw new RingError(`buffer 0x${addr.toString(16)}+${len} outside guest RAM`);
    if (!write && this.writable.length > 0) throw new RingError("device-readable buffer after a device-writable one");
    if (len === 0) return;
    (write ? this.writable : this.readable).push({ addr, len });
  }

  /** An indirect table of `len` bytes at `table` (§2.7.5.3, §2.8.7): its descriptor count, checked. */
  indirectTable(table: number, len: number): number {
    if (len === 0 || len % DESC_SIZE !== 0) throw new RingError(`indirect table length ${len} not a non-zero multiple of 16`);
    const n = len / DESC_SIZE;
    if (this.descriptors + n > MAX_CHAIN_DESCRIPTORS) throw new RingError(`indirect table of ${n} descriptors: the chain would have more than ${MAX_CHAIN_DESCRIPTORS}`);
    if (!this.mem.valid(table, len)) throw new RingError(`indirect table 0x${table.toString(16)}+${len} outside guest RAM`);
    return n;
  }
}
