// The device type's own counters (VirtioDevice.stats, e.g. virtio-balloon's pages and the guest
// memory statistics its driver reports on the stats queue, virtio 1.2 §5.5.6.3). Byte counts
// from the guest ("guest.memFree" …) are shown in MiB as well.
import type { DeviceSnapshot } from "../../devices/inspect/snapshot.ts";
import { cell, esc, table } from "./html.ts";

const BYTES = new Set(["guest.memFree", "guest.memTotal", "guest.memAvailable", "guest.diskCaches"]);
const PAGE_COUNTS = new Set(["targetPages", "actualPages", "heldPages"]);

export function deviceStatsHtml(d: DeviceSnapshot): string {
  const entries = Object.entries(d.device);
  if (entries.length === 0) return "<p>no counters for this device type</p>";
  const rows = entries.map(([k, v]) => {
    const note = BYTES.has(k) ? `${(v / 2 ** 20).toFixed(1)} MiB` : PAGE_COUNTS.has(k) ? `${((v * 4096) / 2 ** 20).toFixed(1)} MiB` : "";
    return `<tr><th>${esc(k)}</th>${cell(`device.${k}`, esc(v))}<td>${esc(note)}</td></tr>`;
  });
  return table(["counter", "value", ""], rows, 'class="insp-device-stats"');
}
