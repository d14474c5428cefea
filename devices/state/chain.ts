// A descriptor chain a device holds across a snapshot (a receive buffer waiting for a frame, the
// balloon's stats buffer): saved as what the ring walker validated — buffer id, ring slots, and
// the readable and writable guest ranges — and rebuilt from those, each range checked against
// guest RAM again (the file is untrusted), without walking the ring a second time.
import { GuestChain } from "../virtio/chain.ts";
import { MAX_CHAIN_DESCRIPTORS } from "../virtio/ring.ts";
import type { Chain, Segment } from "../virtio/device.ts";
import type { GuestMemory } from "../virtio/guest-memory.ts";
import type { Field } from "./fields.ts";
import { StateError } from "./wire.ts";

const SEGMENT: Field = { record: { addr: "f64", len: "u32" } };

/** A held chain's snapshot field type. */
export const CHAIN_FIELD: Field = {
  record: {
    id: "u16", slots: "u16",
    readable: { list: SEGMENT, max: MAX_CHAIN_DESCRIPTORS },
    writable: { list: SEGMENT, max: MAX_CHAIN_DESCRIPTORS },
  },
};

export interface ChainRecord {
  id: number;
  slots: number;
  readable: Segment[];
  writable: Segment[];
}

export function chainRecord(c: Chain): ChainRecord {
  const slots = c instanceof GuestChain ? c.slots : 1;
  return { id: c.id, slots, readable: c.readable.map((s) => ({ addr: s.addr, len: s.len })), writable: c.writable.map((s) => ({ addr: s.addr, len: s.len })) };
}

export function chainFromRecord(mem: GuestMemory, r: ChainRecord): Chain {
  for (const s of [...r.readable, ...r.writable]) {
    if (!mem.valid(s.addr, s.len)) throw new StateError(`a held descriptor chain's buffer 0x${s.addr.toString(16)}+${s.len} is outside guest RAM`);
  }
  return new GuestChain(mem, r.id, r.readable, r.writable, r.slots);
}
