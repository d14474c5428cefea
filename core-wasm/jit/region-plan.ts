// Which blocks a region is made of (translate.ts translateRegion): the entry's block and the
// blocks its direct branches reach in the same page that have run before, up to a size.

/** A region is at most this many blocks, and stops taking new ones past REGION_INSNS. */
export const REGION_BLOCKS = 32;
export const REGION_INSNS = 768;

/** The blocks of a region: their byte offsets in the page, in discovery order (block 0 is the
 *  entry), and their instruction counts. While `open` (the first pass) the direct branch
 *  targets in the page that have run before (`seen`) are taken in, up to the limits. */
export class RegionPlan {
  readonly offsets: number[];
  readonly index = new Map<number, number>();
  readonly counts: number[] = [];
  open = true;
  private insns = 0;
  constructor(private entryOff: number, private entryEip: number, private seen: (offset: number) => boolean) {
    this.offsets = [entryOff];
    this.index.set(entryOff, 0);
  }
  /** The block index of the code at EIP `eip`, or -1 when a branch there leaves the region. */
  target(eip: number): number {
    const off = this.entryOff + ((eip - this.entryEip) | 0);
    if (off < 0 || off >= 4096) return -1;
    const k = this.index.get(off);
    if (k !== undefined || !this.open) return k ?? -1;
    if (this.offsets.length < REGION_BLOCKS && this.insns < REGION_INSNS && this.seen(off)) {
      this.index.set(off, this.offsets.length);
      this.offsets.push(off);
    }
    return -1; // the first pass emits exits; the second knows every block
  }
  counted(k: number, n: number): void { this.counts[k] = n; this.insns += n; }
}
