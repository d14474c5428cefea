// Driver-side mocks for queue tests (the queue tested on its own first, docs/ARCHITECTURE.md "Tests"): fake guest RAM and a "driver" that lays out
// split (virtio 1.2 §2.7) and packed (§2.8) rings the way Linux's virtio_ring.c does, so the
// device-side Virtqueue can be exercised without a transport or a device.
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { Virtqueue } from "../../../devices/virtio/queue.ts";
import { VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, bit } from "../../../devices/virtio/device.ts";

export const RAM = 1 << 20;
export interface B { addr: number; len: number; write?: boolean }

export function makeMem() {
  const ram = new Uint8Array(RAM);
  return { ram, mem: new RamMemory(ram) };
}

export const FEAT_INDIRECT = bit(VIRTIO_F_INDIRECT_DESC);
export const FEAT_EVENT = bit(VIRTIO_F_EVENT_IDX);
export const FEAT_PACKED = bit(VIRTIO_F_RING_PACKED);

/** A split-ring driver: descriptors at 0x1000, avail at 0x2000, used at 0x3000, indirect tables at 0x8000. */
export class SplitDriver {
  readonly q: Virtqueue;
  readonly errors: string[] = [];
  readonly desc = 0x1000; readonly avail = 0x2000; readonly used = 0x3000;
  availIdx = 0;
  usedSeen = 0;
  private nextDesc = 0;
  private nextTable = 0x8000;

  constructor(readonly mem: RamMemory, readonly size: number, features = 0n) {
    this.q = new Virtqueue(mem, 0, size);
    this.q.onError = (r) => void this.errors.push(r);
    place(this.q, this.desc, this.avail, this.used);
    this.q.start(features);
  }

  writeDesc(at: number, b: B, flags: number, next: number): void {
    const m = this.mem;
    m.setU32(at, b.addr); m.setU32(at + 4, 0); m.setU32(at + 8, b.len);
    m.setU16(at + 12, flags | (b.write ? 2 : 0)); m.setU16(at + 14, next);
  }

  /** Post a chain (direct, or one indirect descriptor); returns the head. */
  add(bufs: B[], indirect = false): number {
    const head = this.nextDesc;
    if (indirect) {
      const t = this.nextTable; this.nextTable += 16 * bufs.length;
      bufs.forEach((b, i) => this.writeDesc(t + 16 * i, b, i < bufs.length - 1 ? 1 : 0, i + 1));
      this.writeDesc(this.desc + 16 * head, { addr: t, len: 16 * bufs.length }, 4, 0);
      this.nextDesc = (head + 1) % this.size;
    } else {
      bufs.forEach((b, i) => {
        const d = (head + i) % this.size;
        this.writeDesc(this.desc + 16 * d, b, i < bufs.length - 1 ? 1 : 0, (d + 1) % this.size);
      });
      this.nextDesc = (head + bufs.length) % this.size;
    }
    this.publishHead(head);
    return head;
  }

  publishHead(head: number): void {
    this.mem.setU16(this.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.mem.setU16(this.avail + 2, this.availIdx);
  }

  usedIdx(): number { return this.mem.u16(this.used + 2); }
  usedEntry(i: number): { id: number; len: number } {
    const e = this.used + 4 + 8 * (i % this.size);
    return { id: this.mem.u32(e), len: this.mem.u32(e + 4) };
  }
  setUsedEvent(v: number): void { this.mem.setU16(this.avail + 4 + 2 * this.size, v); }
  availEvent(): number { return this.mem.u16(this.used + 4 + 8 * this.size); }
}

/** A packed-ring driver: descriptor ring at 0x1000, driver event at 0x2000, device event at 0x3000. */
export class PackedDriver {
  readonly q: Virtqueue;
  readonly errors: string[] = [];
  readonly desc = 0x1000; readonly drv = 0x2000; readonly dev = 0x3000;
  nextAvail = 0; availWrap = true;
  lastUsed = 0; usedWrap = true;
  private nextTable = 0x8000;

  constructor(readonly mem: RamMemory, readonly size: number, features = 0n) {
    this.q = new Virtqueue(mem, 0, size);
    this.q.onError = (r) => void this.errors.push(r);
    place(this.q, this.desc, this.drv, this.dev);
    this.q.start(features | FEAT_PACKED);
  }

  private flagsFor(wrap: boolean): number {
    return wrap ? 1 << 7 : 1 << 15;
  }

  /** Post a chain with buffer id `id`; the head's flags are written last (§2.8.6). */
  add(bufs: B[], id: number, indirect = false): void {
    const list = indirect ? [{ addr: this.nextTable, len: 16 * bufs.length }] : bufs;
    if (indirect) {
      bufs.forEach((b, i) => {
        const d = this.nextTable + 16 * i;
        this.mem.setU32(d, b.addr); this.mem.setU32(d + 4, 0); this.mem.setU32(d + 8, b.len);
        this.mem.setU16(d + 12, 0); this.mem.setU16(d + 14, b.write ? 2 : 0);
      });
      this.nextTable += 16 * bufs.length;
    }
    let headFlags = 0;
    const head = this.nextAvail;
    list.forEach((b, i) => {
      const d = this.desc + 16 * this.nextAvail;
      this.mem.setU32(d, b.addr); this.mem.setU32(d + 4, 0); this.mem.setU32(d + 8, b.len); this.mem.setU16(d + 12, id);
      const f = (i < list.length - 1 ? 1 : 0) | (indirect ? 4 : b.write ? 2 : 0) | this.flagsFor(this.availWrap);
      if (i === 0) headFlags = f; else this.mem.setU16(d + 14, f);
      if (++this.nextAvail === this.size) { this.nextAvail = 0; this.availWrap = !this.availWrap; }
    });
    this.mem.setU16(this.desc + 16 * head + 14, headFlags);
  }

  /** Used entries since the last call: [id, len] pairs, with how many slots each chain took. */
  takeUsed(slotsOf: (id: number) => number): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    for (;;) {
      const d = this.desc + 16 * this.lastUsed;
      const f = this.mem.u16(d + 14);
      const avail = (f >> 7) & 1, used = (f >> 15) & 1;
      if (avail !== used || (used === 1) !== this.usedWrap) return out;
      const id = this.mem.u16(d + 12);
      out.push({ id, len: this.mem.u32(d + 8) });
      this.lastUsed += slotsOf(id);
      if (this.lastUsed >= this.size) { this.lastUsed -= this.size; this.usedWrap = !this.usedWrap; }
    }
  }
}

/** What a driver does through the transport: the three area addresses, then queue enable. */
export function place(q: Virtqueue, desc: number, driver: number, device: number): void {
  q.setDescLo(desc); q.setDescHi(0);
  q.setDriverLo(driver); q.setDriverHi(0);
  q.setDeviceLo(device); q.setDeviceHi(0);
  q.enable();
}
