// Virtqueue rings decoded from guest memory for the inspector: the split ring's descriptor
// table, available and used rings (virtio 1.2 §2.7) and the packed ring's descriptors and event
// suppression structures (§2.8). The driver writes this memory, so it is hostile:
// every area is checked against RAM before a byte is read, every index is bounded by the queue
// size, chains are walked with a hop cap, and what is wrong comes back as `errors` text for
// the panel — the decoder never throws (the worker must not fail because a guest scribbled).
import type { GuestMemory } from "../virtio/guest-memory.ts";

/** Descriptors listed per queue at most (a queue may have 32768; the panel shows the rest as a count). */
export const MAX_DESCRIPTORS_SHOWN = 256;
/** Chains listed at most. */
const MAX_CHAINS = 64;

export interface RingAreas {
  desc: number;
  driver: number;
  device: number;
}

export interface DescriptorRow {
  index: number;
  addr: number;
  len: number;
  flags: number;
  flagNames: string[];
  /** Split: `next`; packed: the buffer id. */
  next: number;
  /** Head of the in-flight chain this descriptor belongs to, if any. */
  chain: number | null;
}

export interface ChainRow {
  head: number;
  descriptors: number[];
  /** Split: "pending" (available, not yet taken by the device) or "device" (taken, not yet used). */
  state: "pending" | "device" | "available";
  bytes: { readable: number; writable: number };
  /** The descriptors of an indirect table the chain points to (§2.7.5.3, §2.8.7), at most MAX_INDIRECT_SHOWN. */
  indirect?: { addr: number; len: number; flagNames: string[] }[];
  error?: string;
}

/** Entries of an indirect table listed (and counted) at most. */
export const MAX_INDIRECT_SHOWN = 64;

export interface SplitRingView {
  format: "split";
  avail: { flags: number; idx: number; usedEvent: number; noInterrupt: boolean };
  used: { flags: number; idx: number; availEvent: number; noNotify: boolean };
  /** avail.idx − used.idx: buffers the driver offered that are not back yet. */
  outstanding: number;
  descriptors: DescriptorRow[];
  chains: ChainRow[];
  /** The last used entries (newest last), at most 8. */
  recentUsed: { idx: number; id: number; len: number }[];
  errors: string[];
}

export interface PackedRingView {
  format: "packed";
  /** §2.8.14 struct pvirtq_event_suppress, driver area (device → driver interrupts). */
  driverEvent: { offWrap: number; flags: number; flagName: string };
  /** The device area (driver → device notifications). */
  deviceEvent: { offWrap: number; flags: number; flagName: string };
  descriptors: DescriptorRow[];
  chains: ChainRow[];
  errors: string[];
}

export type RingView = SplitRingView | PackedRingView;

const SPLIT_FLAGS: [number, string][] = [[1, "NEXT"], [2, "WRITE"], [4, "INDIRECT"]];
const PACKED_FLAGS: [number, string][] = [[1, "NEXT"], [2, "WRITE"], [4, "INDIRECT"], [1 << 7, "AVAIL"], [1 << 15, "USED"]];
const EVENT_FLAGS = ["ENABLE", "DISABLE", "DESC"];

const names = (flags: number, table: [number, string][]): string[] => table.filter(([b]) => flags & b).map(([, n]) => n);

function checkAreas(mem: GuestMemory, areas: [string, number, number][]): string[] {
  const errors: string[] = [];
  for (const [what, addr, len] of areas) {
    if (!mem.valid(addr, len)) errors.push(`${what} at 0x${addr.toString(16)}+${len} is outside guest RAM (${mem.size} bytes)`);
  }
  return errors;
}

/**
 * Split ring of `size` entries. `consumed`: the device's next available index (how far it has
 * taken buffers), to tell buffers waiting for the device from those it holds.
 */
export function decodeSplitRing(mem: GuestMemory, size: number, a: RingAreas, consumed?: number): SplitRingView {
  const view: SplitRingView = {
    format: "split",
    avail: { flags: 0, idx: 0, usedEvent: 0, noInterrupt: false },
    used: { flags: 0, idx: 0, availEvent: 0, noNotify: false },
    outstanding: 0, descriptors: [], chains: [], recentUsed: [], errors: [],
  };
  if (!Number.isInteger(size) || size < 1 || size > 32768) {
    view.errors.push(`queue size ${size} out of range`);
    return view;
  }
  view.errors = checkAreas(mem, [
    ["descriptor table", a.desc, 16 * size],
    ["available ring", a.driver, 6 + 2 * size],
    ["used ring", a.device, 6 + 8 * size],
  ]);
  if (view.errors.length) return view;
  // §2.7.6 struct virtq_avail { flags; idx; ring[size]; used_event }, §2.7.8 struct virtq_used.
  const af = mem.u16(a.driver), ai = mem.u16(a.driver + 2);
  const uf = mem.u16(a.device), ui = mem.u16(a.device + 2);
  view.avail = { flags: af, idx: ai, usedEvent: mem.u16(a.driver + 4 + 2 * size), noInterrupt: (af & 1) !== 0 };
  view.used = { flags: uf, idx: ui, availEvent: mem.u16(a.device + 4 + 8 * size), noNotify: (uf & 1) !== 0 };
  const outstanding = (ai - ui) & 0xffff;
  view.outstanding = outstanding;
  const shown = Math.min(size, MAX_DESCRIPTORS_SHOWN);
  const chainOf = new Map<number, number>();
  if (outstanding > size) {
    view.errors.push(`avail.idx ${ai} is ${outstanding} ahead of used.idx ${ui} (queue size ${size})`);
  } else {
    for (let k = 0; k < outstanding && view.chains.length < MAX_CHAINS; k++) {
      const pos = (ui + k) & 0xffff;
      const head = mem.u16(a.driver + 4 + 2 * (pos % size));
      const taken = consumed !== undefined && ((consumed - pos) & 0xffff) <= outstanding && ((consumed - pos) & 0xffff) > 0;
      const chain = walkSplit(mem, size, a.desc, head);
      chain.state = taken ? "device" : "pending";
      for (const d of chain.descriptors) if (!chainOf.has(d)) chainOf.set(d, head);
      view.chains.push(chain);
    }
  }
  for (let i = 0; i < shown; i++) {
    const d = a.desc + 16 * i;
    const flags = mem.u16(d + 12);
    view.descriptors.push({ index: i, addr: mem.u64(d), len: mem.u32(d + 8), flags, flagNames: names(flags, SPLIT_FLAGS), next: mem.u16(d + 14), chain: chainOf.get(i) ?? null });
  }
  for (let k = Math.min(8, size); k >= 1; k--) {
    const idx = (ui - k) & 0xffff;
    const e = a.device + 4 + 8 * (idx % size);
    view.recentUsed.push({ idx, id: mem.u32(e), len: mem.u32(e + 4) });
  }
  return view;
}

/** Follow one split chain from `head` (§2.7.5): bounded hops, indices checked, indirect noted. */
function walkSplit(mem: GuestMemory, size: number, table: number, head: number): ChainRow {
  const row: ChainRow = { head, descriptors: [], state: "pending", bytes: { readable: 0, writable: 0 } };
  if (head >= size) { row.error = `head ${head} ≥ queue size ${size}`; return row; }
  let i = head;
  for (let hops = 0; ; hops++) {
    if (hops >= size) { row.error = `chain longer than the queue (${size}) or looping`; return row; }
    row.descriptors.push(i);
    const d = table + 16 * i;
    const flags = mem.u16(d + 12), len = mem.u32(d + 8);
    if (flags & 4) {
      walkIndirect(mem, mem.u64(d), len, row);
      return row;
    }
    if (flags & 2) row.bytes.writable += len;
    else row.bytes.readable += len;
    if (!(flags & 1)) return row;
    i = mem.u16(d + 14);
    if (i >= size) { row.error = `next ${i} ≥ queue size ${size}`; return row; }
  }
}

/**
 * An indirect table of len/16 descriptors (§2.7.5.3 split, §2.8.7 packed: both 16-byte entries
 * with len at +8; the WRITE flag at +12 in split, +14 in packed — bit 1 of the flags either
 * way). Listed in table order, bounded; the driver's `next` links are not followed.
 */
function walkIndirect(mem: GuestMemory, table: number, len: number, row: ChainRow, packed = false): void {
  if (len === 0 || len % 16 !== 0 || !mem.valid(table, len)) { row.error = `indirect table 0x${table.toString(16)}+${len} invalid`; return; }
  row.indirect = [];
  const n = Math.min(len / 16, MAX_INDIRECT_SHOWN);
  for (let j = 0; j < n; j++) {
    const e = table + 16 * j;
    const flags = mem.u16(e + (packed ? 14 : 12)), l = mem.u32(e + 8);
    if (flags & 2) row.bytes.writable += l;
    else row.bytes.readable += l;
    row.indirect.push({ addr: mem.u64(e), len: l, flagNames: names(flags, packed ? PACKED_FLAGS : SPLIT_FLAGS) });
  }
}

/** Packed ring of `size` descriptors (§2.8); chains are runs of available, not yet used descriptors. */
export function decodePackedRing(mem: GuestMemory, size: number, a: RingAreas): PackedRingView {
  const view: PackedRingView = {
    format: "packed",
    driverEvent: { offWrap: 0, flags: 0, flagName: "" }, deviceEvent: { offWrap: 0, flags: 0, flagName: "" },
    descriptors: [], chains: [], errors: [],
  };
  if (!Number.isInteger(size) || size < 1 || size > 32768) {
    view.errors.push(`queue size ${size} out of range`);
    return view;
  }
  view.errors = checkAreas(mem, [
    ["descriptor ring", a.desc, 16 * size],
    ["driver event suppression", a.driver, 4],
    ["device event suppression", a.device, 4],
  ]);
  if (view.errors.length) return view;
  const ev = (at: number) => {
    const flags = mem.u16(at + 2);
    return { offWrap: mem.u16(at), flags, flagName: EVENT_FLAGS[flags & 3] ?? `reserved ${flags & 3}` };
  };
  view.driverEvent = ev(a.driver);
  view.deviceEvent = ev(a.device);
  let chain: ChainRow | null = null;
  const shown = Math.min(size, MAX_DESCRIPTORS_SHOWN);
  for (let i = 0; i < size; i++) {
    const d = a.desc + 16 * i;
    const flags = mem.u16(d + 14);
    // §2.8.1: available but not used when the AVAIL and USED bits differ.
    const inFlight = ((flags >> 7) & 1) !== ((flags >> 15) & 1);
    if (inFlight) {
      if (!chain && view.chains.length < MAX_CHAINS) {
        chain = { head: i, descriptors: [], state: "available", bytes: { readable: 0, writable: 0 } };
        view.chains.push(chain);
      }
      if (chain) {
        chain.descriptors.push(i);
        if (flags & 4) walkIndirect(mem, mem.u64(d), mem.u32(d + 8), chain, true);
        else if (flags & 2) chain.bytes.writable += mem.u32(d + 8);
        else chain.bytes.readable += mem.u32(d + 8);
      }
    }
    if (i < shown) view.descriptors.push({ index: i, addr: mem.u64(d), len: mem.u32(d + 8), flags, flagNames: names(flags, PACKED_FLAGS), next: mem.u16(d + 12), chain: inFlight && chain ? chain.head : null });
    if (!inFlight || !(flags & 1)) chain = null;
  }
  return view;
}
