// PC thunks: position-independent i386 code calls `__x86.get_pc_thunk.<reg>` — `mov reg, [esp];
// ret` — at function entry to learn its own address. The translator generates such a call as
// the three instructions it runs instead of leaving the region twice (Translator.thunkCall).
const ESP = 4;

/** Where a PC thunk (`mov reg, [esp]; ret`) is, and the register it loads. `at`: in another
 *  page, read from physical page `phys` at generation `gen` (null: in the region's page). */
export interface Thunk { reg: number; at: { phys: number; gen: number } | null }
/** Code in another page, for a call the translator looks into: the bytes at linear `lin` (at
 *  least 4, or fewer at a page end) and the physical page and generation they were read at. */
export type Peek = (lin: number) => { bytes: Uint8Array; phys: number; gen: number } | null;
export function thunkIn(b: Uint8Array, at: { phys: number; gen: number } | null): Thunk | null {
  if (b.length < 4 || b[0] !== 0x8b || (b[1]! & 0xc7) !== 0x04 || b[2] !== 0x24 || b[3] !== 0xc3) return null;
  const reg = (b[1]! >> 3) & 7;
  return reg === ESP ? null : { reg, at };
}
