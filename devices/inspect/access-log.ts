// The last guest accesses to one device's registers, for the inspector: a fixed ring filled
// from the transport's region handlers, i.e. from the very trap record the core wrote (offset,
// width, direction, data) — no second bookkeeping path. No allocation per access; while no
// inspector looks (`enabled` false) an access costs two increments: the sequence number and
// the per-region count (the traps-by-kind figures need the latter either way).

/** Entries kept per device (a power of two: the ring index is a mask). */
export const ACCESS_LOG_SIZE = 64;
const MASK = ACCESS_LOG_SIZE - 1;
/** Region slots counted: a PCI function's BAR index (0–5) or configuration space, or an MMIO window's part (0–1). */
export const ACCESS_REGIONS = 7;
/** The slot of a PCI function's configuration space (accessed through 0xCF8/0xCFC). */
export { PCI_CONFIG_SLOT } from "../virtio/transport.ts";

export interface AccessEntry {
  /** Position in the device's access sequence (all accesses count, logged or not). */
  seq: number;
  region: number;
  offset: number;
  width: number;
  write: boolean;
  value: number;
}

export class AccessLog {
  /** Accesses so far, logged or not. */
  seq = 0;
  /** Record entries (the inspector is open). */
  enabled = false;
  /** Accesses per region slot since power-on. */
  readonly perRegion = new Uint32Array(ACCESS_REGIONS);
  private readonly seqs = new Float64Array(ACCESS_LOG_SIZE).fill(-1);
  // region << 24 | write << 23 | width << 16 | offset (offsets within a region are < 64 KiB)
  private readonly meta = new Uint32Array(ACCESS_LOG_SIZE);
  private readonly values = new Uint32Array(ACCESS_LOG_SIZE);

  /** A read the handler answered with `value`; returns it, so a region can wrap its handler. */
  read(region: number, offset: number, width: number, value: number): number {
    this.perRegion[region]!++;
    const s = this.seq++;
    if (this.enabled) this.put(s, region, offset, width, false, value);
    return value;
  }

  write(region: number, offset: number, width: number, value: number): void {
    this.perRegion[region]!++;
    const s = this.seq++;
    if (this.enabled) this.put(s, region, offset, width, true, value);
  }

  private put(s: number, region: number, offset: number, width: number, write: boolean, value: number): void {
    const i = s & MASK;
    this.seqs[i] = s;
    this.meta[i] = ((region << 24) | (write ? 1 << 23 : 0) | (width << 16) | (offset & 0xffff)) >>> 0;
    this.values[i] = value >>> 0;
  }

  /** The logged entries, oldest first (at most ACCESS_LOG_SIZE). */
  entries(): AccessEntry[] {
    const out: AccessEntry[] = [];
    for (let k = ACCESS_LOG_SIZE; k >= 1; k--) {
      const s = this.seq - k;
      if (s < 0) continue;
      const i = s & MASK;
      if (this.seqs[i] !== s) continue; // not logged (inspector was closed then)
      const m = this.meta[i]!;
      out.push({ seq: s, region: m >>> 24, offset: m & 0xffff, width: (m >>> 16) & 0x7f, write: (m & (1 << 23)) !== 0, value: this.values[i]! });
    }
    return out;
  }

  clear(): void {
    this.seqs.fill(-1);
  }

  /** Forget everything, counts too (the board's firmware writes are not the guest's accesses). */
  reset(): void {
    this.seq = 0;
    this.perRegion.fill(0);
    this.clear();
  }
}
