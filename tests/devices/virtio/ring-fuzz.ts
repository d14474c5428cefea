// What the split- and packed-ring fuzzers share (split-ring.fuzz.test.ts, packed-ring.fuzz.test.ts):
// a hostile driver's guest memory — random bytes, then descriptors with wild, overlapping and
// indirect buffers, re-posted heads and wild ring indices — behind one queue of a real device
// of every type, and the properties every notify must keep (issue #15): nothing thrown out of the
// device, bounded time, chains in flight ≤ the queue size, and a disk image unchanged outside
// the sectors the device wrote.
import fc from "fast-check";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { Virtqueue } from "../../../devices/virtio/queue.ts";
import { place } from "./queue-driver-mock.ts";
import { VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, VIRTIO_F_VERSION_1, bit, type VirtioContext, type VirtioDevice } from "../../../devices/virtio/device.ts";
import { VirtioBlk } from "../../../devices/virtio/blk.ts";
import { VirtioConsole } from "../../../devices/virtio/console.ts";
import { VirtioRng } from "../../../devices/virtio/rng.ts";
import { VirtioBalloon } from "../../../devices/virtio/balloon.ts";
import { VirtioInput } from "../../../devices/virtio/input.ts";
import { VirtioNet } from "../../../devices/virtio/net.ts";
import { Virtio9p } from "../../../devices/virtio/p9.ts";
import { HostStack } from "../../../devices/net/host-stack.ts";
import { MemoryBlockBackend, type BlockBackend } from "../../../devices/host/block.ts";
import { MemoryFs } from "../../../devices/p9/memory-fs.ts";

/** CPU time of this process in ms: bounds that hold on a loaded machine (wall time does not). */
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

export const RAM = 256 << 10;
const QSIZE = 8;
// Where the driver put things: rings low, indirect tables and data above.
const DESC = 0x0000, DRIVER = 0x1000, DEVICE = 0x2000;
/** Bounded time per notify: far above what a correct device needs on 64 KiB of RAM, far below a walk of a guest's claim. */
export const NOTIFY_MS = 250;

export const DEVICE_TYPES = ["blk", "blk-ro", "console", "rng", "balloon", "input", "net", "9p"] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

const DISK = 32 << 10;
/**
 * Bytes a device handed to the host (console output, rng fill) in the current notify. A chain's
 * claim can be 1,024 descriptors × RAM; what a device does per chain is bounded by what it
 * needs (64 KiB here), so a notify does at most the queue size times that.
 */
const work = { bytes: 0 };
export const WORK_PER_CHAIN = 64 << 10;

/** A block backend that records where it was written (the disk property). */
class RecordingDisk implements BlockBackend {
  readonly inner: MemoryBlockBackend;
  readonly writes: [number, number][] = [];
  constructor(bytes: Uint8Array, readonly readonly: boolean) { this.inner = new MemoryBlockBackend(bytes, { readonly }); }
  get size() { return this.inner.size; }
  get id() { return this.inner.id; }
  read(offset: number, dst: Uint8Array) { this.inner.read(offset, dst); }
  write(offset: number, src: Uint8Array) { this.writes.push([offset, src.length]); this.inner.write(offset, src); }
  flush() { this.inner.flush(); }
}

function makeDevice(type: DeviceType, mem: RamMemory): { dev: VirtioDevice; disk?: RecordingDisk; original?: Uint8Array } {
  switch (type) {
    case "blk":
    case "blk-ro": {
      const bytes = new Uint8Array(DISK);
      for (let i = 0; i < DISK; i++) bytes[i] = (i * 31 + 7) & 0xff;
      const disk = new RecordingDisk(bytes, type === "blk-ro");
      return { dev: new VirtioBlk({ backend: disk, queueSize: QSIZE }), disk, original: bytes.slice() };
    }
    case "console": return { dev: new VirtioConsole({ onOutput: (b) => void (work.bytes += b.length), queueSize: QSIZE }) };
    case "rng": return { dev: new VirtioRng({ queueSize: QSIZE, fill: (d) => { work.bytes += d.length; d.fill(0xa5); } }) };
    case "balloon": return { dev: new VirtioBalloon({ ramBytes: mem.size, queueSize: QSIZE }) };
    case "input": return { dev: new VirtioInput({ queueSize: QSIZE }) };
    case "net": return { dev: new VirtioNet({ backend: new HostStack(), queueSize: QSIZE }) };
    case "9p": return { dev: new Virtio9p({ fs: new MemoryFs({ quota: 1 << 20 }), queueSize: QSIZE }) };
  }
}

/** One descriptor as the hostile driver writes it. */
const descArb = fc.record({
  addr: fc.oneof(fc.integer({ min: 0, max: RAM - 1 }), fc.constantFrom(0, 0x3000, 0x8000, RAM - 16, RAM, 0xffff_fff0)),
  len: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.constantFrom(0, 1, 16, 17, 512, RAM, RAM - 0x3000, 0xffff_ffff, 1024 * 16)),
  flags: fc.integer({ min: 0, max: 7 }), // NEXT, WRITE, INDIRECT in any combination
  next: fc.oneof(fc.integer({ min: 0, max: QSIZE - 1 }), fc.integer({ min: 0, max: 0xffff })),
  id: fc.oneof(fc.integer({ min: 0, max: QSIZE - 1 }), fc.integer({ min: 0, max: 0xffff })),
});

/** A round: the driver rewrites some descriptors and ring words, then kicks. */
const roundArb = fc.record({
  descs: fc.array(fc.tuple(fc.integer({ min: 0, max: QSIZE - 1 }), descArb), { maxLength: QSIZE }),
  /** Indirect tables (at 0x3000 + 0x400·k): descriptors inside them. */
  tables: fc.array(fc.tuple(fc.integer({ min: 0, max: 2047 }), descArb), { maxLength: 16 }),
  /** Split: heads put in the avail ring, then how far avail.idx moves (wild values too). */
  heads: fc.oneof(fc.constant([0]), fc.array(fc.oneof(fc.integer({ min: 0, max: QSIZE - 1 }), fc.integer({ min: 0, max: 0xffff })), { maxLength: QSIZE })),
  idxStep: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: QSIZE }), fc.integer({ min: 0, max: 0xffff })),
  /** Packed: which slots become available in the current wrap (or the other one). */
  availSlots: fc.oneof(fc.constant([0]), fc.array(fc.integer({ min: 0, max: QSIZE - 1 }), { maxLength: QSIZE })),
  wrapFlip: fc.boolean(),
  /** Blk-shaped request headers written at data addresses (type, sector). */
  headers: fc.array(fc.tuple(fc.integer({ min: 0, max: 63 }), fc.constantFrom(0, 1, 4, 8, 11, 13, 14, 0xffff_ffff), fc.oneof(fc.integer({ min: 0, max: 80 }), fc.constant(2 ** 40))), { maxLength: 4 }),
  /** A big indirect table of overlapping buffers over all of RAM, named by descriptor `slot`. */
  bulk: fc.option(fc.record({ n: fc.integer({ min: 1, max: 2048 }), write: fc.boolean(), slot: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: QSIZE - 1 })) }), { nil: undefined }),
  queue: fc.nat(),
  poll: fc.boolean(),
});

export const caseArb = fc.record({
  type: fc.constantFrom(...DEVICE_TYPES),
  seed: fc.integer(),
  indirect: fc.oneof(fc.constant(true), fc.boolean()),
  eventIdx: fc.boolean(),
  rounds: fc.array(roundArb, { minLength: 1, maxLength: 4 }),
});
export type FuzzCase = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function putDesc(mem: RamMemory, at: number, d: { addr: number; len: number; flags: number; next: number; id: number }, packed: boolean, availFlags = 0): void {
  if (at + 16 > mem.size) return;
  mem.setU32(at, d.addr % 0x1_0000_0000);
  mem.setU32(at + 4, d.addr >= 0x1_0000_0000 ? 1 : 0);
  mem.setU32(at + 8, d.len);
  if (packed) { mem.setU16(at + 12, d.id); mem.setU16(at + 14, (d.flags & 7) | availFlags); }
  else { mem.setU16(at + 12, d.flags & 7); mem.setU16(at + 14, d.next); }
}

/** Run one case; throws (a property failure) when a device breaks a rule. */
export function runCase(c: FuzzCase, packed: boolean): void {
  const ram = new Uint8Array(RAM);
  let x = c.seed | 1;
  for (let i = 0; i < RAM; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    ram[i] = x; ram[i + 1] = x >>> 8; ram[i + 2] = x >>> 16; ram[i + 3] = x >>> 24;
  }
  const mem = new RamMemory(ram);
  const { dev, disk, original } = makeDevice(c.type, mem);
  const features = dev.features | bit(VIRTIO_F_VERSION_1) | (c.indirect ? bit(VIRTIO_F_INDIRECT_DESC) : 0n) | (c.eventIdx ? bit(VIRTIO_F_EVENT_IDX) : 0n) | (packed ? bit(VIRTIO_F_RING_PACKED) : 0n);
  const queues = dev.queueSizes.map((n, i) => {
    const q = new Virtqueue(mem, i, n);
    q.setSize(Math.min(QSIZE, n));
    // Every queue on the same rings: hostile, and it makes the device's queues interact.
    place(q, DESC, DRIVER, DEVICE);
    return q;
  });
  const ctx: VirtioContext = {
    features,
    queue: (i) => queues[i]!,
    publish: (i) => queues[i]!.flush(),
    configChanged: () => {},
    needsReset: () => {},
    log: () => {},
  };
  if (!packed) { mem.setU16(DRIVER + 2, 0); mem.setU16(DEVICE + 2, 0); }
  else for (let s = 0; s < QSIZE; s++) mem.setU16(DESC + 16 * s + 14, 0);
  for (const q of queues) q.start(features);
  dev.activate(ctx);
  let availIdx = 0;
  let wrap = true;
  for (const r of c.rounds) {
    for (const [slot, d] of r.descs) putDesc(mem, DESC + 16 * slot, d, packed, 0);
    for (const [k, d] of r.tables) putDesc(mem, 0x3000 + 16 * k, d, packed); // tables of up to 2,048 entries
    if (r.bulk) {
      const { n, write, slot } = r.bulk;
      const table = 0x3000;
      const fits = Math.min(n, (RAM - table) / 16);
      for (let i = 0; i < fits; i++) putDesc(mem, table + 16 * i, { addr: 0, len: RAM, flags: (write ? 2 : 0) | (i < fits - 1 ? 1 : 0), next: i + 1, id: 0 }, packed);
      putDesc(mem, DESC + 16 * slot, { addr: table, len: 16 * fits, flags: 4, next: 0, id: slot }, packed);
    }
    for (const [k, type, sector] of r.headers) {
      const at = 0x3000 + 0x100 * k;
      if (at + 16 <= RAM) { mem.setU32(at, type); mem.setU32(at + 8, sector % 0x1_0000_0000); mem.setU32(at + 12, Math.floor(sector / 0x1_0000_0000)); }
    }
    if (packed) {
      if (r.wrapFlip) wrap = !wrap;
      for (const s of r.availSlots) {
        const at = DESC + 16 * s + 14;
        mem.setU16(at, (mem.u16(at) & 7) | (wrap ? 1 << 7 : 1 << 15));
      }
    } else {
      for (const h of r.heads) { mem.setU16(DRIVER + 4 + 2 * (availIdx % QSIZE), h); availIdx = (availIdx + 1) & 0xffff; }
      mem.setU16(DRIVER + 2, (mem.u16(DRIVER + 2) + r.idxStep) & 0xffff);
    }
    const qi = r.queue % queues.length;
    const t0 = cpuMs();
    work.bytes = 0;
    dev.notify(qi); // a throw here fails the property
    if (r.poll) dev.poll?.();
    const ms = cpuMs() - t0;
    if (ms > NOTIFY_MS) throw new Error(`${c.type}: notify took ${ms.toFixed(0)} ms`);
    if (work.bytes > QSIZE * WORK_PER_CHAIN) throw new Error(`${c.type}: one notify handed ${work.bytes} bytes to the host`);
    for (const q of queues) if (q.inFlight > q.size || q.inFlight < 0) throw new Error(`${c.type}: queue ${q.index} has ${q.inFlight} chains in flight, size ${q.size}`);
  }
  if (disk && original) {
    // Every byte outside the ranges the device wrote is the image's original byte; writes stay
    // inside the disk, and a read-only disk is never written.
    const touched = new Uint8Array(DISK);
    for (const [off, len] of disk.writes) {
      if (disk.readonly) throw new Error("a read-only disk was written");
      if (off < 0 || off + len > DISK) throw new Error(`write at ${off}+${len}`);
      touched.fill(1, off, off + len);
    }
    const now = disk.inner.bytes;
    for (let i = 0; i < DISK; i++) if (!touched[i] && now[i] !== original[i]) throw new Error(`disk byte ${i} changed outside written sectors`);
  }
  dev.reset();
}
