// A validated descriptor chain (the `Chain` of device.ts): the ring walkers build one only after
// every descriptor of it has been checked, so nothing here re-checks guest addresses.
import type { Chain, Segment } from "./device.ts";
import type { GuestMemory } from "./guest-memory.ts";

export class GuestChain implements Chain {
  readonly readableBytes: number;
  readonly writableBytes: number;

  constructor(
    private readonly mem: GuestMemory,
    readonly id: number,
    readonly readable: Segment[],
    readonly writable: Segment[],
    /** Ring slots the chain occupied (packed rings advance the used index by this). */
    readonly slots: number,
  ) {
    let r = 0, w = 0;
    for (const s of readable) r += s.len;
    for (const s of writable) w += s.len;
    this.readableBytes = r;
    this.writableBytes = w;
  }

  read(offset: number, dst: Uint8Array): number {
    return copy(this.mem, this.readable, offset, dst.length, (view, at) => dst.set(view, at));
  }

  write(offset: number, src: Uint8Array): number {
    return copy(this.mem, this.writable, offset, src.length, (view, at, n) => view.set(src.subarray(at, at + n)));
  }

  writableViews(offset: number, len: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    copy(this.mem, this.writable, offset, len, (view) => void out.push(view));
    return out;
  }

  readableViews(offset: number, len: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    copy(this.mem, this.readable, offset, len, (view) => void out.push(view));
    return out;
  }
}

/** Walk `segs` from byte `offset` for up to `len` bytes, handing each live piece to `fn`. */
function copy(
  mem: GuestMemory, segs: readonly Segment[], offset: number, len: number,
  fn: (view: Uint8Array, at: number, n: number) => void,
): number {
  let done = 0;
  let skip = offset;
  for (const s of segs) {
    if (done >= len) break;
    if (skip >= s.len) { skip -= s.len; continue; }
    const n = Math.min(s.len - skip, len - done);
    fn(mem.view(s.addr + skip, n), done, n);
    done += n;
    skip = 0;
  }
  return done;
}
