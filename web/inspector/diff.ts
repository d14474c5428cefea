// What changed between two snapshots of a device, for step mode: every leaf value by path
// ("queues.0.ring.used.idx"), compared. Pure, for a unit test; the panel highlights cells whose
// data-path is in the set and lists the changes.

export function flatten(v: unknown, prefix = "", out = new Map<string, unknown>()): Map<string, unknown> {
  if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, v);
  }
  return out;
}

export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

/**
 * Changed leaves of `after` relative to `before`; paths matching an `ignore` pattern are skipped.
 * Ordered by `rank` (lower first; stable), so the few telling changes lead a long list.
 */
export function changes(before: unknown, after: unknown, ignore: readonly RegExp[] = [], rank: (path: string) => number = () => 0): Change[] {
  const a = flatten(before), b = flatten(after);
  const out: Change[] = [];
  for (const [path, v] of b) {
    if (ignore.some((re) => re.test(path))) continue;
    if (a.get(path) !== v) out.push({ path, before: a.get(path), after: v });
  }
  return out.map((c, i) => [rank(c.path), i, c] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map(([, , c]) => c);
}
