// Step mode's account of a step: what changed in each virtio device between the snapshot before
// the step and the one the worker sent when it stopped, in teaching order, with one sentence
// saying which half of a request it was.
import type { InspectSnapshot } from "../../devices/inspect/snapshot.ts";
import { changes, type Change } from "./diff.ts";
import { esc } from "./html.ts";

// Left out: what changes with every access, and lists that repeat a number listed already
// (chains are summed up by queues.N.inFlightChains and highlighted in the queue itself).
const IGNORE = [
  /^accesses\./, /^registers\.\d+\.last\./, /^info\./, /^pci\.hex\./, /^accessCount$/, /^trapsByKind\./,
  /^pci\.(statusBits|commandBits)\./, /\.flagNames\./, /\.ring\.chains\./, /\.descriptors\.\d+\.chain$/,
];
/** Counters first, then ring indices, registers and status, then descriptor contents. */
const RANK: [RegExp, number][] = [
  [/^stats\./, 0], [/^queues\.\d+\.(inFlightChains|ring\.(avail|used|outstanding))/, 1], [/^queues\.\d+\.(kicks|popped|pushed|interrupts)/, 2],
  [/^registers\./, 3], [/^status\./, 3], [/^pci\./, 4],
];
const rank = (path: string) => RANK.find(([re]) => re.test(path))?.[1] ?? 9;
/** Changes listed before the rest is folded away. */
const SHOWN = 12;

/** Per device name, the changes from `before` to `after`. */
export function stepChanges(before: InspectSnapshot, after: InspectSnapshot): Map<string, Change[]> {
  return new Map(after.devices.map((d) => {
    const b = before.devices.find((x) => x.name === d.name);
    return [d.name, b ? changes(b, d, IGNORE, rank) : []];
  }));
}

/** Which half of a request the step stopped at (the worker stops on a notify or an interrupt). */
export function stepVerdict(list: readonly Change[]): string {
  if (list.some((c) => c.path === "stats.interrupts")) return "the device took the request, completed it into the used ring and interrupted the driver";
  if (list.some((c) => c.path === "stats.notifications")) return "the driver put a request in the available ring and notified the device (which has not taken it yet: the VM stopped on the notify)";
  return "state changed";
}

export function stepHtml(all: Map<string, Change[]>, after: InspectSnapshot): string {
  const parts: string[] = [];
  for (const [name, list] of all) {
    if (list.length === 0) continue;
    const regs = after.devices.find((d) => d.name === name)?.registers ?? [];
    const label = (c: Change) => c.path.replace(/^registers\.(\d+)\.value$/, (_, i) => `register ${regs[Number(i)]?.name ?? i}`);
    const li = (c: Change) => `<li><code>${esc(label(c))}</code>: ${esc(c.before ?? "—")} → <b>${esc(c.after ?? "—")}</b></li>`;
    parts.push(`<p><b>${esc(name)}</b>: ${stepVerdict(list)}</p><ul>${list.slice(0, SHOWN).map(li).join("")}</ul>` +
      (list.length > SHOWN ? `<details><summary>${list.length - SHOWN} more changes (ring indices, descriptor contents)</summary><ul>${list.slice(SHOWN).map(li).join("")}</ul></details>` : ""));
  }
  return `<div class="step-box"><b>Step: what changed</b>${parts.join("") || "<p>nothing in the virtio devices</p>"}</div>`;
}
