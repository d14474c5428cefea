// "Virtqueues": per queue its size, ring addresses and format, the avail/used indices and event
// suppression (virtio 1.2 §2.7.7, §2.8.10), notifications and interrupts sent or suppressed, and
// the descriptor table with the in-flight chains highlighted — decoded by the worker from guest
// memory (devices/inspect/ring-decode.ts), errors shown as text.
import type { DeviceSnapshot, QueueSnapshot } from "../../devices/inspect/snapshot.ts";
import type { DescriptorRow } from "../../devices/inspect/ring-decode.ts";
import { cell, esc, hex, table } from "./html.ts";

export function queuesHtml(d: DeviceSnapshot): string {
  return d.queues.map((q) => queueHtml(d, q)).join("");
}

function queueHtml(d: DeviceSnapshot, q: QueueSnapshot): string {
  const p = `queues.${q.index}`;
  const attrs = `data-device="${esc(d.name)}" data-queue="${q.index}"`;
  const head = `<h4>queue ${q.index} · ${q.format ?? "not started"} · size ${q.size}/${q.maxSize}${q.enabled ? "" : " · disabled"}${q.broken ? ` · <span class="error">${esc(q.broken)}</span>` : ""}</h4>`;
  const summary = table(["", "value"], [
    `<tr><td>descriptor area</td><td>${hex(q.desc)}</td></tr>`,
    `<tr><td>driver area${q.format === "packed" ? " (event suppression)" : " (avail ring)"}</td><td>${hex(q.driver)}</td></tr>`,
    `<tr><td>device area${q.format === "packed" ? " (event suppression)" : " (used ring)"}</td><td>${hex(q.device)}</td></tr>`,
    `<tr><td>requests taken / completed / in device</td>${cell(`${p}.popped`, `${q.popped} / ${q.pushed} / ${q.inFlight}`)}</tr>`,
    `<tr><td>notifications (driver → device)</td>${cell(`${p}.kicks`, String(q.kicks))}</tr>`,
    // Above 1 when the driver batched, or skipped kicks the device's suppression asked it to skip.
    `<tr><td>requests per notification</td><td>${q.kicks ? (q.popped / q.kicks).toFixed(2) : "—"}</td></tr>`,
    `<tr><td>interrupts sent / suppressed</td>${cell(`${p}.interruptsSent`, `${q.interruptsSent} / ${q.interruptsSuppressed}`)}</tr>`,
  ], `class="kv"`);
  let ring = "";
  const r = q.ring;
  if (r && r.format === "split") {
    ring = table(["split ring", "flags", "idx", "event"], [
      `<tr><td>avail (driver)</td><td>${r.avail.flags}${r.avail.noInterrupt ? " NO_INTERRUPT" : ""}</td><td data-testid="avail-idx" ${attrs} data-path="${p}.ring.avail.idx">${r.avail.idx}</td><td title="used_event">${r.avail.usedEvent}</td></tr>`,
      `<tr><td>used (device)</td><td>${r.used.flags}${r.used.noNotify ? " NO_NOTIFY" : ""}</td><td data-testid="used-idx" ${attrs} data-path="${p}.ring.used.idx">${r.used.idx}</td><td title="avail_event">${r.used.availEvent}</td></tr>`,
    ], `class="kv"`) + `<p class="muted">outstanding (avail − used): <span data-path="${p}.ring.outstanding">${r.outstanding}</span>; device next avail: ${q.ringState?.nextAvail ?? "—"}, notifications ${q.ringState?.notifyOn ? "enabled" : "suppressed"}${q.ringState?.eventIdx ? " (EVENT_IDX)" : ""}</p>`;
  } else if (r && r.format === "packed") {
    ring = table(["packed ring", "off_wrap", "flags"], [
      `<tr><td>driver event suppression</td><td>${hex(r.driverEvent.offWrap)}</td><td>${r.driverEvent.flagName}</td></tr>`,
      `<tr><td>device event suppression</td><td>${hex(r.deviceEvent.offWrap)}</td><td>${r.deviceEvent.flagName}</td></tr>`,
    ], `class="kv"`) + `<p class="muted">device: next avail ${q.ringState?.nextAvail ?? "—"} (wrap ${q.ringState?.availWrap ? 1 : 0}), next used ${q.ringState?.nextUsed ?? "—"}; used index <span data-testid="used-idx" ${attrs} data-path="${p}.pushed">${q.pushed}</span></p>`;
  }
  if (r) {
    if (r.errors.length) ring += `<p class="error">${r.errors.map(esc).join("<br>")}</p>`;
    const chains = r.chains.map((c) => `<li class="inflight-chain">head ${c.head}: [${c.descriptors.join(" → ")}] ${c.state}, ${c.bytes.readable} B to the device / ${c.bytes.writable} B from it` +
      (c.indirect ? `<br>indirect table: ${c.indirect.map((x) => `${hex(x.addr)}+${x.len} ${x.flagNames.includes("WRITE") ? "W" : "R"}`).join(" · ")}` : "") +
      `${c.error ? ` <span class="error">${esc(c.error)}</span>` : ""}</li>`).join("");
    ring += `<p>in-flight chains: <span data-path="${p}.inFlightChains">${r.chains.length}</span>${r.chains.length ? `<ul class="chains">${chains}</ul>` : ""}</p>`;
    const rows = r.descriptors.filter((x) => x.addr !== 0 || x.len !== 0 || x.chain !== null).map((x) => descRow(p, x));
    ring += `<details class="descs" data-key="descs-${q.index}"><summary>descriptor table (${rows.length} in use of ${q.size}${q.size > r.descriptors.length ? `, first ${r.descriptors.length} shown` : ""})</summary><div class="scroll" data-key="descs-scroll-${q.index}">${table(["#", "addr", "len", "flags", r.format === "split" ? "next" : "id"], rows)}</div></details>`;
  }
  return `<section class="queue" ${attrs}>${head}<div class="pair">${summary}<div>${ring}</div></div></section>`;
}

function descRow(p: string, x: DescriptorRow): string {
  return `<tr class="${x.chain !== null ? "inflight" : ""}" data-path="${p}.ring.descriptors.${x.index}"><td>${x.index}</td><td>${hex(x.addr)}</td><td>${x.len}</td><td>${x.flagNames.join("|")}</td><td>${x.next}</td></tr>`;
}
