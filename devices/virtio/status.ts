// The device status field (virtio 1.2 §2.1) and the driver's initialization sequence (§3.1.1)
// as data (so a test can walk every invalid transition): a driver write is accepted only if (current → written) is in the table.
// Writing 0 resets from any state; setting FAILED is always allowed. The device-owned
// DEVICE_NEEDS_RESET bit (§2.1.1) is kept across driver writes and ignored in the lookup.

export const ACKNOWLEDGE = 1, DRIVER = 2, DRIVER_OK = 4, FEATURES_OK = 8;
export const DEVICE_NEEDS_RESET = 0x40, FAILED = 0x80;

const A = ACKNOWLEDGE, D = DRIVER, F = FEATURES_OK, O = DRIVER_OK;

export interface StatusTransition {
  from: number;
  to: number;
  /** Only without VERSION_1 negotiated: legacy drivers have no FEATURES_OK step (§3.1.2). */
  legacyOnly?: boolean;
  ref: string;
}

/** Every accepted driver write other than 0 (reset) and "| FAILED". */
export const STATUS_TRANSITIONS: readonly StatusTransition[] = [
  { from: 0, to: A, ref: "§3.1.1 step 2" },
  { from: A, to: A | D, ref: "§3.1.1 step 3" },
  { from: A | D, to: A | D | F, ref: "§3.1.1 step 5" },
  { from: A | D | F, to: A | D | F | O, ref: "§3.1.1 step 8" },
  { from: A | D, to: A | D | O, legacyOnly: true, ref: "§3.1.2 legacy initialization" },
];

export type StatusVerdict = "ok" | "reset" | "same" | "invalid";

/** Judge a driver write of `next` over `current` (both without DEVICE_NEEDS_RESET). */
export function judgeStatus(current: number, next: number, legacy: boolean): StatusVerdict {
  current &= ~DEVICE_NEEDS_RESET;
  next &= ~DEVICE_NEEDS_RESET;
  if (next === 0) return "reset";
  if (next === current) return "same";
  if ((next & FAILED) !== 0) return (next & ~FAILED & ~current) === 0 ? "ok" : "invalid";
  if ((current & FAILED) !== 0) return "invalid";
  for (const t of STATUS_TRANSITIONS) {
    if (t.from === current && t.to === next && (!t.legacyOnly || legacy)) return "ok";
  }
  return "invalid";
}

/** "ACKNOWLEDGE|DRIVER|…" for logs and the inspector. */
export function statusName(s: number): string {
  const names: [number, string][] = [[A, "ACKNOWLEDGE"], [D, "DRIVER"], [F, "FEATURES_OK"], [O, "DRIVER_OK"], [DEVICE_NEEDS_RESET, "DEVICE_NEEDS_RESET"], [FAILED, "FAILED"]];
  const parts = names.filter(([b]) => s & b).map(([, n]) => n);
  return parts.length ? parts.join("|") : "0";
}
