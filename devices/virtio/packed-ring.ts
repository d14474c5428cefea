// Packed virtqueue ring arithmetic (virtio 1.2 §2.8), device side: one descriptor ring shared
// both ways with AVAIL/USED flag bits and wrap counters (§2.8.1), indirect tables (§2.8.7), and
// the event suppression structures (§2.8.10, §2.8.14): the driver area holds the driver's
// (device → driver interrupts), the device area ours (driver → device kicks).
import { GuestChain } from "./chain.ts";
import type { GuestMemory } from "./guest-memory.ts";
import { needEvent } from "./split-ring.ts";
import { ChainBuilder, DESC_SIZE, RingError, checkRingAreas, type Ring, type RingAddresses, type RingArea } from "./ring.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

// §2.8.13 struct pvirtq_desc { le64 addr; le32 len; le16 id; le16 flags; }
export const PACKED_DESC_F_NEXT = 1, PACKED_DESC_F_WRITE = 2, PACKED_DESC_F_INDIRECT = 4;
export const PACKED_DESC_F_AVAIL = 1 << 7, PACKED_DESC_F_USED = 1 << 15;
// §2.8.14 struct pvirtq_event_suppress { le16 desc (off 0–14, wrap 15); le16 flags; }
export const RING_EVENT_FLAGS_ENABLE = 0, RING_EVENT_FLAGS_DISABLE = 1, RING_EVENT_FLAGS_DESC = 2;

export class PackedRing implements Ring, Stateful {
  private nextAvail = 0;
  private availWrap = true;
  private nextUsed = 0;
  private usedWrap = true;
  /** Used descriptors written but whose flags are not yet published: [slot, flags] pairs. */
  private readonly unpublished: number[] = [];
  private publishedUsed = 0; // nextUsed at the last flush, as a free-running counter
  private usedCounter = 0; // free-running count of used slots
  private notifyOn = true;
  /** Snapshot fields (devices/state/): the device's private indices and wrap counters. */
  readonly stateTable: StateTable = {
    nextAvail: "u16", availWrap: "bool", nextUsed: "u16", usedWrap: "bool", unpublishedSlots: { list: "u16", max: 65536 },
    publishedUsed: "f64", usedCounter: "f64", notifyOn: "bool",
  };

  /** The unpublished used descriptors as [slot, flags] pairs (a snapshot field). */
  get unpublishedSlots(): number[] {
    return [...this.unpublished];
  }

  set unpublishedSlots(v: number[]) {
    if (v.length % 2 !== 0 || v.length > 2 * this.size) throw new RingError("snapshot: unpublished used descriptors malformed");
    this.unpublished.length = 0;
    this.unpublished.push(...v);
  }

  constructor(
    private readonly mem: GuestMemory,
    private readonly size: number,
    private readonly a: RingAddresses,
    private readonly indirect: boolean,
    private readonly eventIdx: boolean,
  ) {
    const need: RingArea[] = [
      ["descriptor ring", a.desc, DESC_SIZE * size, 16],
      ["driver event suppression", a.driver, 4, 4],
      ["device event suppression", a.device, 4, 4],
    ];
    checkRingAreas(mem, need);
  }

  /** §2.8.1: a descriptor is available when AVAIL equals our wrap counter and USED does not. */
  private isAvail(slot: number, wrap: boolean): boolean {
    const f = this.mem.u16(this.a.desc + DESC_SIZE * slot + 14);
    return ((f & PACKED_DESC_F_AVAIL) !== 0) === wrap && ((f & PACKED_DESC_F_USED) !== 0) !== wrap;
  }

  pop(): GuestChain | null {
    if (!this.isAvail(this.nextAvail, this.availWrap)) return null;
    const mem = this.mem;
    const chain = new ChainBuilder(mem);
    let slot = this.nextAvail;
    let wrap = this.availWrap;
    let count = 0;
    let id = 0;
    for (;;) {
      if (++count > this.size) throw new RingError(`chain at ${this.nextAvail} longer than the queue (${this.size})`);
      const d = this.a.desc + DESC_SIZE * slot;
      const flags = mem.u16(d + 14);
      id = mem.u16(d + 12);
      if (count > 1 && !this.isAvail(slot, wrap)) throw new RingError(`chain continues into unavailable descriptor ${slot}`);
      if (flags & PACKED_DESC_F_INDIRECT) {
        if (!this.indirect) throw new RingError(`indirect descriptor ${slot} without VIRTIO_F_INDIRECT_DESC`);
        if (flags & PACKED_DESC_F_NEXT) throw new RingError(`descriptor ${slot} has both INDIRECT and NEXT`);
        this.walkIndirect(mem.u64(d), mem.u32(d + 8), chain);
      } else {
        chain.add(mem.u64(d), mem.u32(d + 8), (flags & PACKED_DESC_F_WRITE) !== 0);
      }
      if (++slot === this.size) { slot = 0; wrap = !wrap; }
      if (!(flags & PACKED_DESC_F_NEXT) || flags & PACKED_DESC_F_INDIRECT) break;
    }
    if (id >= this.size) throw new RingError(`buffer id ${id} ≥ queue size ${this.size}`);
    this.nextAvail = slot;
    this.availWrap = wrap;
    if (this.eventIdx && this.notifyOn) this.writeDeviceEvent();
    return new GuestChain(mem, id, chain.readable, chain.writable, count);
  }

  /** §2.8.7: the table is `len / 16` consecutive descriptors; only WRITE is meaningful. */
  private walkIndirect(table: number, len: number, chain: ChainBuilder): void {
    const n = chain.indirectTable(table, len);
    for (let d = table; d < table + DESC_SIZE * n; d += DESC_SIZE) {
      const flags = this.mem.u16(d + 14);
      if (flags & PACKED_DESC_F_INDIRECT) throw new RingError("nested indirect descriptor");
      chain.add(this.mem.u64(d), this.mem.u32(d + 8), (flags & PACKED_DESC_F_WRITE) !== 0);
    }
  }

  push(chain: GuestChain, written: number): void {
    for (const w of chain.writable) this.mem.written?.(w.addr, w.len);
    const d = this.a.desc + DESC_SIZE * this.nextUsed;
    this.mem.setU32(d + 8, Math.min(written, chain.writableBytes));
    this.mem.setU16(d + 12, chain.id);
    // §2.8.4: a used descriptor has AVAIL and USED both equal to the used wrap counter.
    this.unpublished.push(this.nextUsed, this.usedWrap ? PACKED_DESC_F_AVAIL | PACKED_DESC_F_USED : 0);
    this.nextUsed += chain.slots;
    if (this.nextUsed >= this.size) { this.nextUsed -= this.size; this.usedWrap = !this.usedWrap; }
    this.usedCounter += chain.slots;
  }

  flush(): boolean {
    const u = this.unpublished;
    if (u.length === 0) return false;
    // Flags last, first descriptor of the batch last (§2.8.6), so the driver sees whole batches.
    for (let i = u.length - 2; i >= 0; i -= 2) this.mem.setU16(this.a.desc + DESC_SIZE * u[i]! + 14, u[i + 1]!);
    u.length = 0;
    const oldCount = this.publishedUsed;
    this.publishedUsed = this.usedCounter;
    const flags = this.mem.u16(this.a.driver + 2);
    if (flags !== RING_EVENT_FLAGS_DESC || !this.eventIdx) return flags !== RING_EVENT_FLAGS_DISABLE;
    // The driver's off_wrap names the used slot it wants an interrupt after (Linux
    // virtqueue_kick_prepare_packed, mirrored): an event from the other wrap is one ring back.
    const offWrap = this.mem.u16(this.a.driver);
    let event = offWrap & 0x7fff;
    if ((offWrap >> 15 === 1) !== this.usedWrap) event -= this.size;
    const now = this.nextUsed;
    const old = now - (this.usedCounter - oldCount);
    return needEvent(event & 0xffff, now & 0xffff, old & 0xffff);
  }

  private writeDeviceEvent(): void {
    this.mem.setU16(this.a.device, this.nextAvail | (this.availWrap ? 0x8000 : 0));
    this.mem.setU16(this.a.device + 2, RING_EVENT_FLAGS_DESC);
  }

  state(): Record<string, number | boolean> {
    return { nextAvail: this.nextAvail, availWrap: this.availWrap, nextUsed: this.nextUsed, usedWrap: this.usedWrap, notifyOn: this.notifyOn, eventIdx: this.eventIdx, indirect: this.indirect };
  }

  disable(): void {
    this.notifyOn = false;
    this.mem.setU16(this.a.device + 2, RING_EVENT_FLAGS_DISABLE);
  }

  enable(): boolean {
    this.notifyOn = true;
    if (this.eventIdx) this.writeDeviceEvent();
    else this.mem.setU16(this.a.device + 2, RING_EVENT_FLAGS_ENABLE);
    return this.isAvail(this.nextAvail, this.availWrap);
  }
}
