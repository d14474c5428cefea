// The transport's register table with current values and the last guest accesses to each
// register. The names, offsets, widths and values come from the transports' own tables, the
// ones that decode (pci-registers.ts LEGACY_REGISTERS / COMMON_REGISTERS, pci.ts MODERN_LAYOUT,
// mmio-registers.ts MMIO_REGISTERS, mmio-msi.ts MMIO_MSI_REGISTERS): each row's `peek` reads its value without side effects
// (reading ISR through the register would clear it, §4.1.4.5).
import type { ConfigField } from "../virtio/config-space.ts";
import type { RegisterInfo } from "../bus/region.ts";
import { COMMON_REGISTERS, LEGACY_CONFIG, LEGACY_REGISTERS, MODERN_BAR, MODERN_LAYOUT, NOTIFY_OFF_MULTIPLIER, type VirtioPci } from "../virtio/pci.ts";
import { MMIO_CONFIG, MMIO_REGISTERS, type VirtioMmio } from "../virtio/mmio.ts";
import { MMIO_MSI_END, MMIO_MSI_FIRST, MMIO_MSI_REGISTERS } from "../virtio/mmio-msi.ts";
import { peekRegister } from "../virtio/register-table.ts";
import type { VirtioTransport } from "../virtio/transport.ts";
import type { AccessEntry } from "./access-log.ts";

export interface RegisterRow {
  /** Which structure: "legacy" (I/O BAR 0), "common" / "isr" / "notify" (modern BAR), "mmio". */
  block: string;
  /** Access-log region slot (PCI BAR index or MMIO window part) and offset within it. */
  region: number;
  offset: number;
  name: string;
  width: number;
  access: string;
  ref: string;
  /** Current value, or null for a register that holds nothing (a write-only trigger). */
  value: number | null;
  /** The guest's last accesses to it, newest last (at most 4). */
  last: AccessEntry[];
}

export interface AccessRow extends AccessEntry {
  /** "common.queue_select", "legacy.QueueNotify", "mmio.QueuePFN", "device config +0x14" … */
  name: string;
}


/** The register table of a virtio-pci function: legacy block, modern common/ISR/notify. */
export function pciRegisters(p: VirtioPci): RegisterRow[] {
  const t = p.t, q = t.selected();
  const rows: RegisterRow[] = [];
  if (p.bars[0]) {
    for (const r of LEGACY_REGISTERS) rows.push(row("legacy", 0, r.offset, r, r.width, peekRegister(r, p, q)));
  }
  if (p.bars[MODERN_BAR]) {
    const at = (name: string): number => MODERN_LAYOUT.find((c) => c.name === name)!.offset;
    for (const r of COMMON_REGISTERS) rows.push(row("common", MODERN_BAR, at("common") + r.offset, r, r.width, peekRegister(r, p, q)));
    rows.push(row("isr", MODERN_BAR, at("isr"), { offset: 0, name: "isr", access: "r", ref: "§4.1.4.5 (read clears)" }, 1, t.isr));
    t.queues.forEach((vq, i) => rows.push(row("notify", MODERN_BAR, at("notify") + NOTIFY_OFF_MULTIPLIER * i, { offset: 0, name: `queue ${vq.index} notify`, access: "w", ref: "§4.1.4.4" }, 2, null)));
  }
  return rows;
}

/**
 * The virtio-mmio register block of this version (registers of the other version left out); on
 * a window that offers MSI, the MSI rows in place of what their range holds otherwise (QueueReset).
 */
export function mmioRegisters(m: VirtioMmio): RegisterRow[] {
  const q = m.t.selected();
  const msi = m.msi;
  const rows = MMIO_REGISTERS
    .filter((r) => (!r.only || r.only === m.version) && !(msi && r.offset >= MMIO_MSI_FIRST && r.offset < MMIO_MSI_END))
    .map((r) => row("mmio", 0, r.offset, r, r.width, peekRegister(r, m, q)));
  if (msi) for (const r of MMIO_MSI_REGISTERS) rows.push(row("mmio", 0, r.offset, r, r.width, peekRegister(r, msi, null)));
  return rows.sort((a, b) => a.offset - b.offset);
}

function row(block: string, region: number, offset: number, r: RegisterInfo, width: number, value: number | null): RegisterRow {
  return { block, region, offset, name: r.name, width, access: r.access ?? "rw", ref: r.ref ?? "", value, last: [] };
}

/** Attach each logged access to its register (newest last, 4 each) and name every access. */
export function attachAccesses(
  rows: RegisterRow[], entries: readonly AccessEntry[], t: VirtioTransport, configAt: (region: number) => number | null,
  other: (region: number, offset: number) => string | null = () => null,
  configFields: readonly ConfigField[] = [],
): AccessRow[] {
  const byKey = new Map<string, RegisterRow>();
  for (const r of rows) byKey.set(`${r.region}:${r.offset}`, r);
  const out: AccessRow[] = [];
  for (const e of entries) {
    const r = byKey.get(`${e.region}:${e.offset}`);
    let name: string;
    if (r) {
      name = `${r.block}.${r.name}`;
      r.last.push(e);
      if (r.last.length > 4) r.last.shift();
    } else if (other(e.region, e.offset) !== null) {
      name = other(e.region, e.offset)!;
    } else {
      const cfg = configAt(e.region);
      name = cfg !== null && e.offset >= cfg ? configName(configFields, e.offset - cfg) : `${t.name} region ${e.region} +0x${e.offset.toString(16)}`;
    }
    out.push({ ...e, name });
  }
  return out;
}

/** "device config +0x14", with the field there when the device type's layout names one ("+0x14 blk_size"). */
function configName(fields: readonly ConfigField[], offset: number): string {
  const f = fields.find((x) => offset >= x.offset && offset < x.offset + x.width);
  const at = `device config +0x${offset.toString(16)}`;
  return f ? `${at} ${f.name}${offset !== f.offset ? `+${offset - f.offset}` : ""}` : at;
}

/** Where the device-specific config starts in an access-log region (null: none there). */
export function pciConfigStart(p: VirtioPci): (region: number) => number | null {
  const device = MODERN_LAYOUT.find((c) => c.name === "device")!;
  return (region) => region === 0 ? (p.msixEnabled ? LEGACY_CONFIG + 4 : LEGACY_CONFIG) : region === MODERN_BAR ? device.offset : null;
}

export function mmioConfigStart(): (region: number) => number | null {
  return () => MMIO_CONFIG;
}
