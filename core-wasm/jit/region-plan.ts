// Which blocks a region is made of (translate.ts translateRegion): the entry's block and the
// blocks its direct branches reach in the same page that have run before, up to a size.

/** A region is at most this many blocks, and stops taking new ones past REGION_INSNS. */
export const REGION_BLOCKS = 32;
export const REGION_INSNS = 768;

/** The blocks of a region: their byte offsets in the page and their instruction counts. While
 *  `open` (the first pass) the direct branch targets in the page that have run before (`seen`)
 *  are taken in, up to the limits, in discovery order (block 0 the entry); layOut() then puts
 *  them in address order for the second pass, `entry` the entry's index. */
export class RegionPlan {
  offsets: number[];
  index = new Map<number, number>();
  counts: number[] = [];
  entry = 0;
  open = true;
  private insns = 0;
  constructor(readonly entryOff: number, private entryEip: number, private seen: (offset: number) => boolean) {
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
  /** Close the plan and order the blocks by address: a branch forward in the page is then a
   *  branch forward in the function too, which needs no dispatch (translate.ts jump()). */
  layOut(): void {
    this.open = false;
    const order = this.offsets.map((_, k) => k).sort((a, b) => this.offsets[a]! - this.offsets[b]!);
    this.counts = order.map((k) => this.counts[k]!);
    this.offsets = order.map((k) => this.offsets[k]!);
    this.index = new Map(this.offsets.map((o, k) => [o, k]));
    this.entry = this.index.get(this.entryOff)!;
  }
}
