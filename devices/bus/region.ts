// What a device hands the port or MMIO bus: one register window and the access widths it
// accepts. Widths belong to the bus (docs/ARCHITECTURE.md "Buses and the board"): a device never sees a width it did not declare;
// the bus splits a wider access into accepted pieces or rejects it (reads all-ones, drops the
// write) and counts what it rejected.

/** An access width in bytes. */
export type Width = 1 | 2 | 4;

/** Bitmask values for `Region.widths`: W1 | W2 | W4. The bit value equals the width. */
export const W1 = 1;
export const W2 = 2;
export const W4 = 4;
export const W_ANY = W1 | W2 | W4;

/** One register of a region, for trace labels, --stats and the inspector: names come from the same table that decodes. */
export interface RegisterInfo {
  offset: number;
  name: string;
  access?: "r" | "w" | "rw";
  /** Datasheet / spec section. */
  ref?: string;
}

export interface Region {
  /** Shown in --stats ("traps by device") and in the inspector. */
  readonly name: string;
  /** First port / physical address. */
  readonly base: number;
  /** Bytes (ports) covered. */
  readonly size: number;
  /** Bitmask of accepted widths (W1 | W2 | W4). */
  readonly widths: number;
  /** `offset` is relative to `base`; the result is zero-extended to `width` bytes. */
  read(offset: number, width: Width): number;
  write(offset: number, width: Width, value: number): void;
  /** The register map, by offset. Optional; used only for names. */
  readonly registers?: readonly RegisterInfo[];
}

/**
 * A region placed at `offset` inside a larger window that the bus maps as a whole: a PCI BAR
 * holding several structures, each with its own accepted widths (virtio-pci's modern BAR).
 */
export interface SubRegion {
  readonly offset: number;
  readonly region: Region;
}

/** "name.REGISTER" for an offset in `r` (trace labels). */
export function describeOffset(r: Region, offset: number): string {
  const reg = r.registers?.find((x) => x.offset === offset);
  if (reg) return `${r.name}.${reg.name}`;
  return r.size === 1 ? r.name : `${r.name}+0x${offset.toString(16)}`;
}

/** Per-region trap counters, mutated in place by the bus (no allocation per access). */
export interface RegionCounters {
  reads: number;
  writes: number;
  /** Accesses refused because the width is not accepted and cannot be split. */
  rejected: number;
  /** Accesses the bus split into narrower pieces. */
  split: number;
}

/** What a read of nothing returns: the floating data bus, all ones. */
export function allOnes(width: Width): number {
  return width === 4 ? 0xffff_ffff : width === 2 ? 0xffff : 0xff;
}

/** Mask a value to `width` bytes (unsigned). */
export function maskTo(width: Width, value: number): number {
  return width === 4 ? value >>> 0 : width === 2 ? value & 0xffff : value & 0xff;
}

export type Logger = (message: string) => void;

/** Rejections are logged for the first few occurrences per region, then only counted. */
export const LOG_REJECTIONS_PER_REGION = 8;
