// "Identity and transport": the device's region and IRQ table (VFIO style: each region and interrupt source listed as VFIO_DEVICE_GET_REGION_INFO/IRQ_INFO would), then
// its PCI configuration space as lspci -vv decodes it, or its virtio-mmio window.
import type { DeviceSnapshot } from "../../devices/inspect/snapshot.ts";
import { capabilityLine } from "../../devices/inspect/pci-config.ts";
import { esc, hex, table } from "./html.ts";

export function identityHtml(d: DeviceSnapshot): string {
  const regions = table(["region", "name", "kind", "base", "size"], d.info.regions.map((r) =>
    `<tr><td>${r.index}</td><td>${esc(r.name)}</td><td>${r.kind}</td><td>${r.base === null ? "unmapped" : hex(r.base)}</td><td>${hex(r.size)}</td></tr>`));
  const irqs = table(["irq", "name", "flags", "line"], d.info.irqs.map((i) =>
    `<tr><td>${i.index}</td><td>${esc(i.name)}</td><td>${i.flags}</td><td>${i.line ?? "—"}</td></tr>`));
  let body = `<div class="pair">${regions}${irqs}</div>`;
  if (d.pci) {
    const p = d.pci;
    const id = (n: number) => n.toString(16).padStart(4, "0");
    const lines = [
      `Virtio device ${id(p.vendorId)}:${id(p.deviceId)} (rev ${p.revision.toString(16).padStart(2, "0")}), class ${p.classCode.toString(16).padStart(6, "0")}`,
      `Subsystem: ${id(p.subsystemVendorId)}:${id(p.subsystemId)}`,
      `Control: ${p.commandBits.join(" ") || "—"}   Status: ${p.statusBits.join(" ") || "—"}`,
      `Interrupt: pin ${p.interruptPin ? "ABCD"[p.interruptPin - 1] : "—"} routed to IRQ ${p.interruptLine}`,
      ...p.bars.map((b) => `Region ${b.index}: ${b.kind === "io" ? "I/O ports" : `Memory (${b.kind === "mem64" ? "64-bit" : "32-bit"}, ${b.prefetchable ? "prefetchable" : "non-prefetchable"})`} at ${b.address.toString(16)}${b.enabled ? "" : " [disabled]"} [size=${sizeText(b.size)}]`),
    ];
    const caps = p.capabilities.map((c) => `<li data-cfg-type="${esc(c.virtio?.type ?? "")}">${esc(capabilityLine(c))}</li>`).join("");
    body += `<pre class="lspci">${lines.map(esc).join("\n")}</pre>` +
      `<div class="caps"><b>Capabilities</b> <small>(virtio 1.2 §4.1.4 struct virtio_pci_cap)</small><ul data-testid="cap-list">${caps || "<li>none</li>"}</ul></div>` +
      (p.errors.length ? `<p class="error">${p.errors.map(esc).join("<br>")}</p>` : "") +
      `<details class="hexdump" data-key="hexdump"><summary>config space (256 bytes)</summary><pre>${p.hex.map(esc).join("\n")}</pre></details>`;
  } else if (d.mmio) {
    const m = d.mmio;
    body += `<pre class="lspci">virtio-mmio version ${m.version} window at ${hex(m.base)}+0x200, IRQ ${m.irq}\nkernel command line: ${esc(m.cmdline)}</pre>`;
  }
  return body;
}

function sizeText(n: number): string {
  return n >= 1024 ? `${n / 1024}K` : String(n);
}
