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
  /** The direct branches between offsets of the page seen by the first pass: [from, to, the
   *  lazy flags they leave in the core: lf | sign of the ALU result, 0 when not known]. */
  readonly edges: [number, number, number][] = [];
  /** The block every branch back in the region goes to (-1: none, or more than one) and the
   *  last block that branches there. When nothing outside [loopHead, loopEnd] branches into it
   *  but to the head, and the entry is not inside it past the head, those blocks are a wasm
   *  `loop` of their own (translate.ts finish) and a branch back is one `br`: no index, no
   *  br_table. Else (loopHead -1) a loop around a br_table dispatches every branch back. */
  loopHead = -1;
  loopEnd = -1;
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
    this.singleLoop();
  }
  private singleLoop(): void {
    let head = -1, end = -1;
    const inside: [number, number][] = [];
    for (const [f, t] of this.edges) {
      const a = this.index.get(f), b = this.index.get(t);
      if (a === undefined || b === undefined) continue;
      inside.push([a, b]);
      if (b <= a) {
        if (head >= 0 && head !== b) return;
        head = b;
        end = Math.max(end, a);
      }
    }
    if (head < 0 || (this.entry > head && this.entry <= end)) return;
    for (const [a, b] of inside) if (a < head && b > head && b <= end) return;
    this.loopHead = head;
    this.loopEnd = end;
  }
}
