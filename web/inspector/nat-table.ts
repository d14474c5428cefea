// The page NAT's connections (netbackend=wisp or fetch) beside its NIC: one row per TCP connection and
// UDP flow (guest port, remote — by name where the relay resolved it — and state), then the
// NAT's and the relay connection's counters.
import { esc, table } from "./html.ts";

export interface NatRow {
  protocol: "tcp" | "udp";
  guestPort: number;
  remote: string;
  state: string;
}

export interface NatView {
  /** The outside: "the Wisp relay URL", or fetch(). */
  via: string;
  rows: NatRow[];
  counters: Record<string, number>;
}

/** Rows shown at most (the NAT allows hundreds). */
const MAX_ROWS = 64;

export function natTableHtml(v: NatView): string {
  const rows = v.rows.slice(0, MAX_ROWS).map((r) =>
    `<tr data-testid="nat-row"><td>${r.protocol}</td><td>10.0.2.15:${r.guestPort}</td><td>${esc(r.remote)}</td><td>${esc(r.state)}</td></tr>`);
  const more = v.rows.length > MAX_ROWS ? `<p class="muted">and ${v.rows.length - MAX_ROWS} more</p>` : "";
  const shown = ["tcpOpened", "tcpRefused", "tcpFailed", "tcpBytesFromGuest", "tcpBytesToGuest", "udpFlows", "dnsQueries", "relayStreams", "relayBytesUp", "relayBytesDown"];
  const counters = shown.filter((k) => k in v.counters).map((k) => `${k} <b>${esc(v.counters[k])}</b>`).join(" · ");
  return `<p class="muted">through ${esc(v.via)}</p>` +
    (v.rows.length === 0 ? "<p>no connections</p>" : table(["", "guest", "remote", "state"], rows, 'class="insp-nat"')) + more +
    `<p class="muted" data-testid="nat-counters">${counters}</p>`;
}
