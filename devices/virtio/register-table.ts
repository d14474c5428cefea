// A transport's register map as one table that both names and decodes (docs/ARCHITECTURE.md
// "Virtio"): each row is a register's offset, width, name, spec section and what a read or a
// write of it does. Access ("r", "w", "rw") is derived from which handlers a row has, so the
// inspector's labels, the trace names and the dispatch cannot disagree. Handlers are module-level
// functions of the transport (`C`) and its selected queue: a guest access costs an array read and
// a call, no allocation.
import type { Width } from "../bus/region.ts";
import type { Virtqueue } from "./queue.ts";

/** What a table row declares; access comes from the handlers present. */
export interface RegisterSpec<C> {
  readonly offset: number;
  /** The register's natural width: the only width a driver may use for it (virtio 1.2 §4.1.3.1, §4.2.2). */
  readonly width: Width;
  readonly name: string;
  /** Spec section. */
  readonly ref: string;
  /** The value a read returns (absent: write-only). */
  readonly read?: (c: C, q: Virtqueue | null) => number;
  /** What a write does (absent: read-only). */
  readonly write?: (c: C, v: number, q: Virtqueue | null) => void;
  /**
   * The register's value without a read's side effects (ISR clears on read), for the inspector;
   * null for a trigger that holds nothing. Absent: `read`, or null for a write-only register.
   */
  readonly peek?: (c: C, q: Virtqueue | null) => number | null;
}

export interface Register<C> extends RegisterSpec<C> {
  readonly access: "r" | "w" | "rw";
}

/** The rows with their access derived, in table order. */
export function registers<C>(rows: readonly RegisterSpec<C>[]): readonly Register<C>[] {
  return rows.map((r) => ({ ...r, access: r.read && r.write ? "rw" : r.read ? "r" : "w" }));
}

/** Offset → row, for O(1) decode: `span` bytes, a row at each register's offset. */
export function bySlot<C>(rows: readonly Register<C>[], span: number): readonly (Register<C> | undefined)[] {
  const t: (Register<C> | undefined)[] = new Array(span).fill(undefined);
  for (const r of rows) {
    if (r.offset + r.width > span || t[r.offset]) throw new Error(`register table: ${r.name} at ${r.offset} overlaps or overruns`);
    t[r.offset] = r;
  }
  return t;
}

/** The register's current value for the inspector (see RegisterSpec.peek). */
export function peekRegister<C>(r: Register<C>, c: C, q: Virtqueue | null): number | null {
  if (r.peek) return r.peek(c, q);
  return r.read ? r.read(c, q) : null;
}
