// Split virtqueue ring arithmetic (virtio 1.2 §2.7), device side: descriptor table, available
// ring (driver → device), used ring (device → driver), indirect descriptors (§2.7.5.3) and
// VIRTIO_F_EVENT_IDX suppression (§2.7.7, §2.7.10). Guest memory is hostile: every
// index and address is checked, and a chain is validated whole before the device sees it.
import { GuestChain } from "./chain.ts";
import type { GuestMemory } from "./guest-memory.ts";
import { ChainBuilder, DESC_SIZE, RingError, checkRingAreas, type Ring, type RingAddresses, type RingArea } from "./ring.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

// §2.7.5 struct virtq_desc { le64 addr; le32 len; le16 flags; le16 next; }
export const VIRTQ_DESC_F_NEXT = 1, VIRTQ_DESC_F_WRITE = 2, VIRTQ_DESC_F_INDIRECT = 4;
// §2.7.6 struct virtq_avail { le16 flags; le16 idx; le16 ring[]; le16 used_event; }
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
// §2.7.8 struct virtq_used { le16 flags; le16 idx; struct { le32 id; le32 len; } ring[]; le16 avail_event; }
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** §2.7.7.2 / Linux vring_need_event: did the index move past `event` going old → new? */
export function needEvent(event: number, newIdx: number, old: number): boolean {
  return ((newIdx - event - 1) & 0xffff) < ((newIdx - old) & 0xffff);
}

export class SplitRing implements Ring, Stateful {
  private lastAvail = 0; // next avail entry to consume (free-running u16)
  private usedIdx = 0; // next used entry to fill (shadow)
  private publishedUsed = 0; // used.idx as the driver sees it
  private notifyOn = true;
  /** Snapshot fields (devices/state/): the device's private indices; the rest is in guest RAM. */
  readonly stateTable: StateTable = { lastAvail: "u16", usedIdx: "u16", publishedUsed: "u16", notifyOn: "bool" };

  constructor(
    private readonly mem: GuestMemory,
    private readonly size: number,
    private readonly a: RingAddresses,
    private readonly indirect: boolean,
    private readonly eventIdx: boolean,
  ) {
    // §2.7: alignment 16 / 2 / 4 and everything inside RAM.
    const need: RingArea[] = [
      ["descriptor table", a.desc, DESC_SIZE * size, 16],
      ["available ring", a.driver, 6 + 2 * size, 2],
      ["used ring", a.device, 6 + 8 * size, 4],
    ];
    checkRingAreas(mem, need);
  }

  /** Available entries not yet consumed; throws when the avail index is implausible. */
  private pending(): number {
    const idx = this.mem.u16(this.a.driver + 2);
    const n = (idx - this.lastAvail) & 0xffff;
    if (n > this.size) throw new RingError(`avail idx ${idx} is ${n} ahead of ${this.lastAvail} (queue size ${this.size})`);
    return n;
  }

  pop(): GuestChain | null {
    if (this.pending() === 0) return null;
    const mem = this.mem;
    const head = mem.u16(this.a.driver + 4 + 2 * (this.lastAvail % this.size));
    if (head >= this.size) throw new RingError(`avail ring head ${head} ≥ queue size ${this.size}`);
    const chain = new ChainBuilder(mem);
    let i = head;
    let hops = 0;
    for (;;) {
      if (++hops > this.size) throw new RingError(`chain at head ${head} longer than the queue (${this.size}) or looping`);
      const d = this.a.desc + DESC_SIZE * i;
      const flags = mem.u16(d + 12);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.indirect) throw new RingError(`indirect descriptor ${i} without VIRTIO_F_INDIRECT_DESC`);
        if (flags & VIRTQ_DESC_F_NEXT) throw new RingError(`descriptor ${i} has both INDIRECT and NEXT`);
        this.walkIndirect(mem.u64(d), mem.u32(d + 8), chain);
        break;
      }
      chain.add(mem.u64(d), mem.u32(d + 8), (flags & VIRTQ_DESC_F_WRITE) !== 0);
      if (!(flags & VIRTQ_DESC_F_NEXT)) break;
      i = mem.u16(d + 14);
      if (i >= this.size) throw new RingError(`descriptor next ${i} ≥ queue size ${this.size}`);
    }
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    // §2.7.10: with EVENT_IDX, avail_event tells the driver where to kick next.
    if (this.eventIdx && this.notifyOn) mem.setU16(this.a.device + 4 + 8 * this.size, this.lastAvail);
    return new GuestChain(mem, head, chain.readable, chain.writable, 1);
  }

  /** §2.7.5.3.1: a table of `len / 16` descriptors; no nested INDIRECT; next stays inside. */
  private walkIndirect(table: number, len: number, chain: ChainBuilder): void {
    const mem = this.mem;
    const n = chain.indirectTable(table, len);
    let i = 0;
    let hops = 0;
    for (;;) {
      if (++hops > n) throw new RingError(`indirect chain longer than its table (${n}) or looping`);
      const d = table + DESC_SIZE * i;
      const flags = mem.u16(d + 12);
      if (flags & VIRTQ_DESC_F_INDIRECT) throw new RingError("nested indirect descriptor");
      chain.add(mem.u64(d), mem.u32(d + 8), (flags & VIRTQ_DESC_F_WRITE) !== 0);
      if (!(flags & VIRTQ_DESC_F_NEXT)) return;
      i = mem.u16(d + 14);
      if (i >= n) throw new RingError(`indirect next ${i} ≥ table size ${n}`);
    }
  }

  push(chain: GuestChain, written: number): void {
    for (const w of chain.writable) this.mem.written?.(w.addr, w.len);
    const e = this.a.device + 4 + 8 * (this.usedIdx % this.size);
    this.mem.setU32(e, chain.id);
    this.mem.setU32(e + 4, Math.min(written, chain.writableBytes));
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
  }

  flush(): boolean {
    const old = this.publishedUsed;
    const now = this.usedIdx;
    if (old === now) return false;
    this.mem.setU16(this.a.device + 2, now);
    this.publishedUsed = now;
    if (this.eventIdx) return needEvent(this.mem.u16(this.a.driver + 4 + 2 * this.size), now, old);
    return (this.mem.u16(this.a.driver) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  state(): Record<string, number | boolean> {
    return { nextAvail: this.lastAvail, usedShadow: this.usedIdx, usedPublished: this.publishedUsed, notifyOn: this.notifyOn, eventIdx: this.eventIdx, indirect: this.indirect };
  }

  disable(): void {
    this.notifyOn = false;
    // With EVENT_IDX, simply not advancing avail_event suppresses kicks (§2.7.10).
    if (!this.eventIdx) this.mem.setU16(this.a.device, this.mem.u16(this.a.device) | VIRTQ_USED_F_NO_NOTIFY);
  }

  enable(): boolean {
    this.notifyOn = true;
    if (this.eventIdx) this.mem.setU16(this.a.device + 4 + 8 * this.size, this.lastAvail);
    else this.mem.setU16(this.a.device, this.mem.u16(this.a.device) & ~VIRTQ_USED_F_NO_NOTIFY);
    return this.pending() !== 0;
  }
}
