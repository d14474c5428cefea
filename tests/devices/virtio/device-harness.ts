// A driver-side mock for device-type tests (docs/ARCHITECTURE.md "Tests"): fake guest RAM, one real Virtqueue per
// device queue laid out as a split ring (virtio 1.2 §2.7), and a driver that writes descriptors
// and avail entries the way the guest's virtio_ring.c would, then reads the used ring back. The
// "transport" is a VirtioContext that counts interrupts, config changes and reset requests.
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { Virtqueue } from "../../../devices/virtio/queue.ts";
import type { VirtioContext, VirtioDevice } from "../../../devices/virtio/device.ts";

const F_NEXT = 1, F_WRITE = 2; // §2.7.5 VIRTQ_DESC_F_*
const RAM_BYTES = 8 << 20;
const RINGS_AT = 0x1000; // each queue's rings take 64 KiB from here
const DATA_AT = 0x20_0000; // buffers are bump-allocated from here

/** One buffer of a posted chain: where the driver put it in guest RAM. */
export interface Buf {
  addr: number;
  len: number;
  writable: boolean;
}

/** A descriptor as the driver writes it (for hostile layouts). */
export interface RawDesc {
  addr: number;
  len: number;
  writable: boolean;
}

export class Harness {
  readonly ram = new Uint8Array(new SharedArrayBuffer(RAM_BYTES)); // guest RAM is shared in the worker
  readonly mem = new RamMemory(this.ram);
  readonly queues: Virtqueue[];
  readonly drivers: SplitDriver[];
  /** Interrupts raised per queue (publish returned true). */
  readonly interrupts: number[];
  configChanges = 0;
  readonly resetReasons: string[] = [];
  readonly logs: string[] = [];
  readonly ctx: VirtioContext;
  private nextData = DATA_AT;

  constructor(readonly device: VirtioDevice, readonly features = device.features) {
    this.queues = device.queueSizes.map((n, i) => new Virtqueue(this.mem, i, n));
    this.interrupts = this.queues.map(() => 0);
    this.drivers = this.queues.map((q, i) => new SplitDriver(this, q, RINGS_AT + i * 0x10000));
    const self = this;
    this.ctx = {
      features,
      queue: (i) => self.queues[i]!,
      publish(i) {
        const irq = self.queues[i]!.flush();
        if (irq) self.interrupts[i]!++;
        return irq;
      },
      configChanged: () => void self.configChanges++,
      needsReset: (reason) => void self.resetReasons.push(reason),
      log: (m) => void self.logs.push(m),
    };
    for (const q of this.queues) q.onError = (r) => this.ctx.needsReset(r);
  }

  /** DRIVER_OK: start every queue and hand the device its context. */
  activate(): this {
    for (const q of this.queues) q.start(this.features);
    this.device.activate(this.ctx);
    return this;
  }

  /** Allocate `len` bytes of guest RAM, filled with `fill` (a sentinel the device must not touch). */
  alloc(len: number, fill = 0xcc): number {
    const addr = this.nextData;
    this.nextData += (len + 15) & ~15;
    if (this.nextData > RAM_BYTES) throw new Error("harness RAM exhausted");
    this.ram.fill(fill, addr, addr + len);
    return addr;
  }

  bytes(b: Buf): Uint8Array {
    return this.ram.slice(b.addr, b.addr + b.len);
  }

  /** Config space read as a little-endian value of `width` bytes. */
  cfg(offset: number, width: 1 | 2 | 4): number {
    return this.device.readConfig(offset, width);
  }
}

/** The driver half of one split virtqueue (§2.7): descriptor table, avail ring, used ring. */
export class SplitDriver {
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  private readonly size: number;
  private free: number[];
  private availIdx = 0;
  private lastUsed = 0;
  private readonly chains = new Map<number, number[]>();

  constructor(private readonly h: Harness, private readonly q: Virtqueue, base: number) {
    this.size = q.maxSize;
    this.desc = base;
    this.avail = base + 16 * this.size;
    this.used = base + 0x8000;
    q.setDescLo(this.desc);
    q.setDriverLo(this.avail);
    q.setDeviceLo(this.used);
    q.enable();
    this.free = Array.from({ length: this.size }, (_, i) => i);
  }

  /**
   * Post one chain: a Uint8Array part becomes a device-readable buffer holding those bytes, a
   * number part a device-writable buffer of that many bytes (sentinel-filled). Returns the head
   * id and the buffers in order.
   */
  post(...parts: (Uint8Array | number)[]): { id: number; bufs: Buf[] } {
    const raw = parts.map((p): RawDesc => {
      if (typeof p === "number") return { addr: this.h.alloc(p), len: p, writable: true };
      const addr = this.h.alloc(p.length);
      this.h.ram.set(p, addr);
      return { addr, len: p.length, writable: false };
    });
    const id = this.postRaw(raw);
    return { id, bufs: raw.map((r) => ({ ...r })) };
  }

  /** Post descriptors exactly as given (hostile layouts); returns the head id. */
  postRaw(descs: RawDesc[]): number {
    if (descs.length > this.free.length) throw new Error("harness: ring full");
    const ids = descs.map(() => this.free.shift()!);
    const m = this.h.mem;
    descs.forEach((d, i) => {
      const at = this.desc + 16 * ids[i]!;
      m.setU32(at, d.addr);
      m.setU32(at + 4, 0);
      m.setU32(at + 8, d.len);
      const last = i === descs.length - 1;
      m.setU16(at + 12, (last ? 0 : F_NEXT) | (d.writable ? F_WRITE : 0));
      m.setU16(at + 14, last ? 0 : ids[i + 1]!);
    });
    m.setU16(this.avail + 4 + 2 * (this.availIdx % this.size), ids[0]!);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    m.setU16(this.avail + 2, this.availIdx); // publish after the entry (virtio_ring.c order)
    this.chains.set(ids[0]!, ids);
    return ids[0]!;
  }

  /** The driver's kick: what the transport turns into device.notify(queue). */
  kick(): void {
    this.h.device.notify(this.q.index);
  }

  /** The used ring's idx as the driver sees it. */
  usedIdx(): number {
    return this.h.mem.u16(this.used + 2);
  }

  /** Used entries published since the last call, reclaiming their descriptors. */
  takeUsed(): { id: number; len: number }[] {
    const m = this.h.mem;
    const out: { id: number; len: number }[] = [];
    const idx = this.usedIdx();
    for (; this.lastUsed !== idx; this.lastUsed = (this.lastUsed + 1) & 0xffff) {
      const at = this.used + 4 + 8 * (this.lastUsed % this.size);
      const e = { id: m.u32(at), len: m.u32(at + 4) };
      out.push(e);
      const ids = this.chains.get(e.id);
      if (ids) {
        this.free.push(...ids);
        this.chains.delete(e.id);
      }
    }
    return out;
  }
}
