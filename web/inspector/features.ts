// "Feature negotiation": device features and driver features bit by bit, named, and what was
// accepted at FEATURES_OK; then the device-status path the driver took (virtio 1.2 §3.1.1).
import type { DeviceSnapshot } from "../../devices/inspect/snapshot.ts";
import { cell, esc, table } from "./html.ts";

const mark = (b: boolean) => (b ? "✔" : "·");

export function featuresHtml(d: DeviceSnapshot): string {
  const f = d.features;
  const rows = f.rows.filter((r) => r.offered || r.driver || r.accepted || r.bit < 24 || r.bit >= 28).map((r) =>
    `<tr data-feature="${esc(r.name)}" data-offered="${+r.offered}" data-accepted="${+r.accepted}" class="${r.accepted ? "accepted" : r.offered ? "offered" : "absent"}">` +
    `<td>${r.bit}</td><td>${esc(r.name)}</td><td>${mark(r.offered)}</td><td>${mark(r.driver)}</td>${cell(`features.bit${r.bit}`, mark(r.accepted))}</tr>`);
  return `<p class="muted">offered ${f.offered} · driver ${f.driver} · accepted ${f.accepted}</p>` +
    table(["bit", "feature", "offered", "driver", "accepted"], rows, `class="features" data-testid="features"`);
}

export function statusHtml(d: DeviceSnapshot): string {
  const s = d.status;
  const path = s.path.map((p) => `<li class="${p.verdict}">${esc(p.fromName)} → <b>${esc(p.toName)}</b>${p.verdict === "ok" ? "" : ` <i>(${esc(p.verdict)}${p.written >= 0 ? `, wrote 0x${p.written.toString(16)}` : ""})</i>`}</li>`).join("");
  return `<p>status <b data-path="status.name" data-testid="status">${esc(s.name)}</b> (0x${s.value.toString(16)})</p>` +
    (s.resetReason ? `<p class="error">DEVICE_NEEDS_RESET: ${esc(s.resetReason)}</p>` : "") +
    `<ol class="status-path">${path || "<li>no status written yet</li>"}</ol>`;
}
