// Pure helpers of `npm run bench`: medians, result rows, targets and the printed table. No
// processes or files here, so tests/bench/ can check them on fixed numbers inside `npm test`.

export function median(xs: readonly number[]): number | null {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** One printed line: the median of a metric over the runs that produced it, with its range. */
export interface Row {
  section: string;
  metric: string;
  unit: string;
  median: number | null;
  min: number | null;
  max: number | null;
  /** Every run's value, in run order (non-finite ones dropped). */
  values: number[];
  note?: string;
}

export function row(section: string, metric: string, unit: string, values: readonly (number | null | undefined)[], note?: string): Row {
  const v = values.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  return {
    section,
    metric,
    unit,
    median: median(v),
    min: v.length ? Math.min(...v) : null,
    max: v.length ? Math.max(...v) : null,
    values: v,
    note,
  };
}

/**
 * Ratios taken run by run: run i of `a` over run i of `b`. Runs of the two programs are
 * interleaved, so pairing them cancels some of the load other users put on the machine;
 * the median of the paired ratios is what the table shows.
 */
export function pairedRatios(a: readonly (number | null | undefined)[], b: readonly (number | null | undefined)[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i], y = b[i];
    if (typeof x === "number" && typeof y === "number" && Number.isFinite(x) && Number.isFinite(y) && y !== 0) out.push(x / y);
  }
  return out;
}

export interface Target {
  name: string;
  /** How the target reads, e.g. ">= 150 MIPS". */
  goal: string;
  measured: number | null;
  unit: string;
  met: boolean | null; // null: not measured in this run
}

export function target(name: string, measured: number | null, unit: string, op: ">=" | "<=" | "<", bound: number): Target {
  const met = measured === null || !Number.isFinite(measured) ? null
    : op === ">=" ? measured >= bound : op === "<=" ? measured <= bound : measured < bound;
  return { name, goal: `${op} ${bound} ${unit}`.trim(), measured, unit, met };
}

/** Three significant figures or so, without exponent notation for the sizes we print. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "n/a";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

function pad(cells: string[][], right: boolean[]): string[] {
  const w = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : right[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join("  ").trimEnd());
}

/** The text `npm run bench` prints: results by section, then the targets. */
export function formatTable(rows: readonly Row[], targets: readonly Target[], header: string): string {
  const lines = [header, ""];
  const cells = [["section", "metric", "median", "min", "max", "n", "unit", "note"]];
  for (const r of rows) {
    cells.push([r.section, r.metric, fmt(r.median), fmt(r.min), fmt(r.max), String(r.values.length), r.unit, r.note ?? ""]);
  }
  lines.push(...pad(cells, [false, false, true, true, true, true, false, false]));
  if (targets.length) {
    lines.push("");
    const t = [["target", "goal", "measured", "met?"]];
    for (const x of targets) t.push([x.name, x.goal, x.met === null ? "n/a" : `${fmt(x.measured)} ${x.unit}`.trim(), x.met === null ? "n/a" : x.met ? "yes" : "NO"]);
    lines.push(...pad(t, [false, false, true, false]));
  }
  return lines.join("\n");
}
