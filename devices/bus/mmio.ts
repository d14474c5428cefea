// Guest physical addresses outside RAM and ROM that a device claims: the local/IO APIC pages,
// virtio-mmio windows, PCI memory BARs. Unlike ports, mappings change at run time (the guest
// may move a BAR, or disable memory decoding), so the bus keeps a short array of mappings
// sorted by base and finds one by binary search, after checking the last hit (MMIO accesses
// come in runs to the same device). Same width rules as the port bus (bus/region.ts): unaccepted
// widths split into halves if a narrower width is accepted, otherwise rejected; unclaimed
// addresses read all-ones and drop writes, counted.
import {
  allOnes, maskTo, LOG_REJECTIONS_PER_REGION,
  type Logger, type Region, type RegionCounters, type Width,
} from "./region.ts";

export type MmioRegion = Region;

interface Mapping {
  base: number;
  end: number; // exclusive, may be 2^32
  region: Region;
  counters: RegionCounters;
}

export interface MmioBusStats {
  regions: { name: string; base: number; size: number; reads: number; writes: number; rejected: number; split: number }[];
  unclaimedReads: number;
  unclaimedWrites: number;
  /** Up to 16 most recent distinct unclaimed addresses, for diagnosis. */
  unclaimedRecent: number[];
}

const SPACE = 0x1_0000_0000;

export class MmioBus {
  private maps: Mapping[] = [];
  private last: Mapping | null = null;
  private unclaimedReads = 0;
  private unclaimedWrites = 0;
  private readonly recent: number[] = [];
  private readonly countersOf = new Map<Region, RegionCounters>();

  constructor(private readonly log: Logger = () => {}) {}

  /**
   * Map `region` at `base` (default `region.base`). Returns false, maps nothing and logs if
   * the range overlaps another mapping or leaves the 32-bit space: a guest can program two
   * BARs onto each other, and that must not be fatal. Mapping an already mapped region moves it.
   */
  map(region: Region, base: number = region.base): boolean {
    this.unmap(region);
    const end = base + region.size;
    if (!Number.isInteger(base) || base < 0 || region.size <= 0 || end > SPACE) {
      this.log(`mmio: ${region.name} at 0x${base.toString(16)}+0x${region.size.toString(16)} is outside the 32-bit space`);
      return false;
    }
    for (const m of this.maps) {
      if (base < m.end && m.base < end) {
        this.log(`mmio: ${region.name} at 0x${base.toString(16)} overlaps ${m.region.name} at 0x${m.base.toString(16)}; not mapped`);
        return false;
      }
    }
    const old = this.countersOf.get(region);
    const counters = old ?? { reads: 0, writes: 0, rejected: 0, split: 0 };
    this.countersOf.set(region, counters);
    this.maps = [...this.maps, { base, end, region, counters }].sort((a, b) => a.base - b.base);
    return true;
  }

  /** Remove `region`'s mapping, if any. Its counters survive for stats. */
  unmap(region: Region): void {
    const i = this.maps.findIndex((m) => m.region === region);
    if (i < 0) return;
    this.maps = this.maps.filter((_, j) => j !== i);
    this.last = null;
  }

  /** Where `region` is mapped, or null. */
  baseOf(region: Region): number | null {
    const m = this.maps.find((x) => x.region === region);
    return m ? m.base : null;
  }

  /** The region claiming `addr`, or null. */
  regionAt(addr: number): Region | null {
    const m = this.find(addr >>> 0);
    return m ? m.region : null;
  }

  private find(addr: number): Mapping | null {
    const l = this.last;
    if (l !== null && addr >= l.base && addr < l.end) return l;
    const maps = this.maps;
    let lo = 0, hi = maps.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = maps[mid]!;
      if (addr < m.base) hi = mid - 1;
      else if (addr >= m.end) lo = mid + 1;
      else return (this.last = m);
    }
    return null;
  }

  read(addr: number, width: Width): number {
    addr >>>= 0;
    const m = this.find(addr);
    if (m === null) {
      this.unclaimed(addr, false);
      return allOnes(width);
    }
    const r = m.region, c = m.counters;
    const offset = addr - m.base;
    if ((r.widths & width) !== 0 && addr + width <= m.end) {
      c.reads++;
      return maskTo(width, r.read(offset, width));
    }
    if (width > 1 && ((r.widths & (width - 1)) !== 0 || addr + width > m.end)) {
      c.split++;
      const half = (width >> 1) as Width;
      const lo = this.read(addr, half);
      const hi = this.read((addr + half) >>> 0, half);
      return (lo | (hi << (half * 8))) >>> 0;
    }
    this.reject(m, addr, width, "read");
    return allOnes(width);
  }

  write(addr: number, width: Width, value: number): void {
    addr >>>= 0;
    const m = this.find(addr);
    if (m === null) {
      this.unclaimed(addr, true);
      return;
    }
    const r = m.region, c = m.counters;
    const offset = addr - m.base;
    if ((r.widths & width) !== 0 && addr + width <= m.end) {
      c.writes++;
      r.write(offset, width, maskTo(width, value));
      return;
    }
    if (width > 1 && ((r.widths & (width - 1)) !== 0 || addr + width > m.end)) {
      c.split++;
      const half = (width >> 1) as Width;
      this.write(addr, half, value);
      this.write((addr + half) >>> 0, half, value >>> (half * 8));
      return;
    }
    this.reject(m, addr, width, "write");
  }

  private unclaimed(addr: number, write: boolean): void {
    if (write) this.unclaimedWrites++;
    else this.unclaimedReads++;
    // Remember a few distinct addresses; cheap because the list is tiny and only touched on
    // accesses to nothing, which a well-behaved guest rarely makes.
    const rec = this.recent;
    if (rec.length === 0 || rec[rec.length - 1] !== addr) {
      if (!rec.includes(addr)) {
        if (rec.length === 16) rec.shift();
        rec.push(addr);
      }
    }
  }

  private reject(m: Mapping, addr: number, width: Width, dir: string): void {
    if (m.counters.rejected++ < LOG_REJECTIONS_PER_REGION) {
      this.log(`mmio: ${m.region.name} rejects ${width}-byte ${dir} at 0x${addr.toString(16)} (widths mask ${m.region.widths})`);
    }
  }

  stats(): MmioBusStats {
    const regions: MmioBusStats["regions"] = [];
    for (const [region, c] of this.countersOf) {
      regions.push({ name: region.name, base: this.baseOf(region) ?? -1, size: region.size, ...c });
    }
    return {
      regions,
      unclaimedReads: this.unclaimedReads,
      unclaimedWrites: this.unclaimedWrites,
      unclaimedRecent: [...this.recent],
    };
  }
}
