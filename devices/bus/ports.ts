// The x86 I/O port space: 64 Ki byte-wide ports. Dispatch is one table lookup: `owner[port]`
// holds the index (+1) of the region that claims the port, so IN/OUT (hundreds of thousands
// during a boot) cost an array read and a method call, with no allocation.
//
// Width rules (docs/ARCHITECTURE.md "Buses and the board"): a region declares the widths it accepts. An access of another width,
// or one running past the region's end, is split into two halves re-dispatched through the
// table (what the ISA bus does: a 16-bit cycle to an 8-bit device becomes two byte cycles), as
// long as the region accepts a narrower width. Otherwise it is rejected — reads return
// all-ones, writes are dropped — and counted. Ports nobody claims behave like an empty ISA bus:
// reads return all-ones, writes vanish; both are counted per port. Nothing here is fatal to the
// guest.
import {
  allOnes, maskTo, describeOffset, LOG_REJECTIONS_PER_REGION,
  type Logger, type Region, type RegionCounters, type Width,
} from "./region.ts";

export type PortRegion = Region;

export interface PortBusStats {
  regions: { name: string; base: number; size: number; reads: number; writes: number; rejected: number; split: number }[];
  /** Ports nobody claims that the guest touched, busiest first. */
  unknown: { port: number; reads: number; writes: number }[];
}

const PORTS = 0x1_0000;

export class PortBus {
  private readonly owner = new Uint16Array(PORTS); // region index + 1; 0 = unclaimed
  private readonly regions: (Region | null)[] = [];
  private readonly bases: number[] = [];
  private readonly counters: RegionCounters[] = [];
  private readonly unknownReads = new Uint32Array(PORTS);
  private readonly unknownWrites = new Uint32Array(PORTS);

  constructor(private readonly log: Logger = () => {}) {}

  /**
   * Claim `base .. base+size-1` (`base` defaults to `region.base`; a PCI I/O BAR passes the
   * address firmware or the guest programmed). Overlapping an existing claim throws: a fixed
   * chip overlapping another is a board bug; a BAR owner checks `isFree` first.
   */
  register(region: Region, base: number = region.base): void {
    const size = region.size;
    if (!Number.isInteger(base) || !Number.isInteger(size) || size <= 0 || base < 0 || base + size > PORTS) {
      throw new RangeError(`port region ${region.name}: bad range ${base}+${size}`);
    }
    if ((region.widths & 7) === 0) throw new RangeError(`port region ${region.name}: no widths`);
    for (let p = base; p < base + size; p++) {
      const o = this.owner[p]!;
      if (o !== 0) throw new Error(`port 0x${p.toString(16)}: ${region.name} overlaps ${this.regions[o - 1]!.name}`);
    }
    let index = this.regions.indexOf(null);
    if (index < 0) index = this.regions.length;
    this.regions[index] = region;
    this.bases[index] = base;
    this.counters[index] = { reads: 0, writes: 0, rejected: 0, split: 0 };
    this.owner.fill(index + 1, base, base + size);
  }

  registerAll(regions: readonly Region[]): void {
    for (const r of regions) this.register(r);
  }

  /** Release a region (a PCI I/O BAR that moves or is disabled). Unknown regions are ignored. */
  unregister(region: Region): void {
    const index = this.regions.indexOf(region);
    if (index < 0) return;
    this.owner.fill(0, this.bases[index]!, this.bases[index]! + region.size);
    this.regions[index] = null;
  }

  /** True if no region claims any port of `base .. base+size-1`. */
  isFree(base: number, size: number): boolean {
    if (base < 0 || base + size > PORTS) return false;
    for (let p = base; p < base + size; p++) if (this.owner[p] !== 0) return false;
    return true;
  }

  /** Which region claims `port` (for tests, the inspector and trace labels). */
  regionAt(port: number): Region | null {
    const o = this.owner[port & 0xffff]!;
    return o === 0 ? null : this.regions[o - 1]!;
  }

  /** A trace label for `port`: "uart@3f8.LSR", "pit.control", or "port 0x2e". */
  describe(port: number): string {
    const o = this.owner[port & 0xffff]!;
    if (o === 0) return `port 0x${port.toString(16)}`;
    return describeOffset(this.regions[o - 1]!, port - this.bases[o - 1]!);
  }

  read(port: number, width: Width): number {
    port &= 0xffff;
    const o = this.owner[port]!;
    if (o === 0) {
      this.unknownReads[port]!++;
      return allOnes(width);
    }
    const r = this.regions[o - 1]!;
    const c = this.counters[o - 1]!;
    const offset = port - this.bases[o - 1]!;
    if ((r.widths & width) !== 0 && offset + width <= r.size) {
      c.reads++;
      return maskTo(width, r.read(offset, width));
    }
    if (width > 1 && ((r.widths & (width - 1)) !== 0 || offset + width > r.size)) {
      c.split++;
      const half = (width >> 1) as Width;
      const lo = this.read(port, half);
      const hi = this.read(port + half, half);
      return (lo | (hi << (half * 8))) >>> 0;
    }
    this.reject(r, c, port, width, "read");
    return allOnes(width);
  }

  write(port: number, width: Width, value: number): void {
    port &= 0xffff;
    const o = this.owner[port]!;
    if (o === 0) {
      this.unknownWrites[port]!++;
      return;
    }
    const r = this.regions[o - 1]!;
    const c = this.counters[o - 1]!;
    const offset = port - this.bases[o - 1]!;
    if ((r.widths & width) !== 0 && offset + width <= r.size) {
      c.writes++;
      r.write(offset, width, maskTo(width, value));
      return;
    }
    if (width > 1 && ((r.widths & (width - 1)) !== 0 || offset + width > r.size)) {
      c.split++;
      const half = (width >> 1) as Width;
      this.write(port, half, value);
      this.write(port + half, half, value >>> (half * 8));
      return;
    }
    this.reject(r, c, port, width, "write");
  }

  private reject(r: Region, c: RegionCounters, port: number, width: Width, dir: string): void {
    if (c.rejected++ < LOG_REJECTIONS_PER_REGION) {
      this.log(`ports: ${r.name} rejects ${width}-byte ${dir} at 0x${port.toString(16)} (widths mask ${r.widths})`);
    }
  }

  stats(): PortBusStats {
    const regions: PortBusStats["regions"] = [];
    this.regions.forEach((r, i) => {
      if (r) regions.push({ name: r.name, base: this.bases[i]!, size: r.size, ...this.counters[i]! });
    });
    const unknown: PortBusStats["unknown"] = [];
    for (let p = 0; p < PORTS; p++) {
      const reads = this.unknownReads[p]!, writes = this.unknownWrites[p]!;
      if (reads + writes > 0) unknown.push({ port: p, reads, writes });
    }
    unknown.sort((a, b) => b.reads + b.writes - (a.reads + a.writes) || a.port - b.port);
    return { regions, unknown };
  }
}
