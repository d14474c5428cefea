// "Registers": the transport's register table (pci.ts / mmio.ts tables) with current values and
// the guest's last accesses to each, then the device's recent accesses in order — all from the
// transports' trap handlers (devices/inspect/access-log.ts).
import type { DeviceSnapshot } from "../../devices/inspect/snapshot.ts";
import type { AccessEntry } from "../../devices/inspect/access-log.ts";
import { cell, esc, hex, table } from "./html.ts";

const access = (a: AccessEntry) => `${a.write ? "W" : "R"}${a.width * 8} ${hex(a.value)}`;

export function registersHtml(d: DeviceSnapshot): string {
  const rows = d.registers.map((r, i) => `<tr data-register="${esc(r.name)}"><td>${esc(r.block)}</td><td>${hex(r.offset, 3)}</td><td title="${esc(r.ref)}">${esc(r.name)}</td><td>${r.width * 8}</td><td>${r.access}</td>` +
    `${cell(`registers.${i}.value`, hex(r.value))}<td class="last">${r.last.map(access).join(" · ") || ""}</td></tr>`);
  const recent = d.accesses.slice(-16).reverse().map((a) => `<tr><td>#${a.seq}</td><td>${esc(a.name)}</td><td>${a.write ? "write" : "read"}</td><td>${a.width * 8}</td><td>${hex(a.value)}</td></tr>`);
  return table(["block", "offset", "register", "bits", "rw", "value", "last accesses (guest)"], rows, `class="registers" data-testid="registers"`) +
    `<p class="muted">${d.accessCount} accesses since power-on (PIO ${d.trapsByKind.pio}, MMIO ${d.trapsByKind.mmio}); logged while the inspector is open.</p>` +
    (recent.length ? `<details data-key="recent"><summary>last ${recent.length} accesses, newest first</summary>${table(["seq", "register", "dir", "bits", "value"], recent)}</details>` : "");
}
