// The one window a virtqueue has onto the guest: physical RAM as a byte array, little-endian,
// with a bounds check for every guest-supplied address (the guest is hostile). Nothing here knows about
// rings, transports or devices. Addresses are JS numbers (exact up to 2^53); descriptor
// addresses are 64-bit in the spec, and anything at or above `size` is simply out of range.

export interface GuestMemory {
  /** Bytes of guest RAM; valid physical addresses are [0, size). */
  readonly size: number;
  /** True when [addr, addr + len) lies wholly inside guest RAM (len may be 0). */
  valid(addr: number, len: number): boolean;
  /** A live view of [addr, addr + len) — no copy. The caller has checked `valid`. */
  view(addr: number, len: number): Uint8Array;
  u8(addr: number): number;
  u16(addr: number): number;
  u32(addr: number): number;
  /** A 64-bit little-endian value as a number (exact below 2^53; larger reads as ≥ 2^53). */
  u64(addr: number): number;
  setU8(addr: number, v: number): void;
  setU16(addr: number, v: number): void;
  setU32(addr: number, v: number): void;
  /** The device has written [addr, addr + len) through views: code translated from there is
   *  stale (core-wasm/jit/), and the pages go in the next incremental snapshot. Called by the
   *  rings when a chain completes. */
  written?(addr: number, len: number): void;
}

/**
 * GuestMemory over a Uint8Array (the core's `ram`, or a test's fake RAM). With `pages` (a byte
 * per 4 KiB page: the board's written-page marks) every write through it marks its pages.
 */
export class RamMemory implements GuestMemory {
  readonly size: number;
  private readonly dv: DataView;

  constructor(
    readonly ram: Uint8Array,
    private readonly onWrite?: (addr: number, len: number) => void,
    private readonly pages?: Uint8Array,
  ) {
    this.size = ram.length;
    this.dv = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  }

  valid(addr: number, len: number): boolean {
    return Number.isSafeInteger(addr) && addr >= 0 && len >= 0 && addr + len <= this.size;
  }

  view(addr: number, len: number): Uint8Array {
    return this.ram.subarray(addr, addr + len);
  }

  u8(addr: number): number { return this.ram[addr]!; }
  u16(addr: number): number { return this.dv.getUint16(addr, true); }
  u32(addr: number): number { return this.dv.getUint32(addr, true); }
  u64(addr: number): number { return this.dv.getUint32(addr, true) + this.dv.getUint32(addr + 4, true) * 0x1_0000_0000; }
  setU8(addr: number, v: number): void { this.ram[addr] = v; this.mark(addr, 1); }
  setU16(addr: number, v: number): void { this.dv.setUint16(addr, v, true); this.mark(addr, 2); }
  setU32(addr: number, v: number): void { this.dv.setUint32(addr, v >>> 0, true); this.mark(addr, 4); }
  written(addr: number, len: number): void { this.mark(addr, len); this.onWrite?.(addr, len); }

  private mark(addr: number, len: number): void {
    const pages = this.pages;
    if (!pages || len <= 0) return;
    const last = Math.min(pages.length - 1, Math.floor((addr + len - 1) / 4096));
    for (let p = Math.floor(addr / 4096); p <= last; p++) pages[p] = 1;
  }
}
