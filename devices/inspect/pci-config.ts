// A PCI function's 256-byte configuration space decoded the way `lspci -vv` presents it: ids,
// class, command/status, BARs with their type and size, interrupt line/pin, and the capability
// list (PCI Local Bus 3.0 §6.1, §6.2.5, §6.7), with each virtio vendor capability's
// struct virtio_pci_cap (virtio 1.2 §4.1.4) spelled out. Pure: it reads only the bytes given
// (the function's own config array, so BAR sizes come from the BarSpec, not from a sizing
// write), and a malformed list (a loop, a pointer outside the header) is reported, never thrown.

export const VIRTIO_CFG_TYPES: Readonly<Record<number, string>> = {
  1: "COMMON", // §4.1.4.3 common configuration
  2: "NOTIFY", // §4.1.4.4 notifications
  3: "ISR", // §4.1.4.5 ISR status
  4: "DEVICE", // §4.1.4.6 device-specific configuration
  5: "PCI_CFG", // §4.1.4.9 PCI configuration access
  8: "SHARED_MEMORY", // §4.1.4.7
};

const CAP_NAMES: Readonly<Record<number, string>> = {
  0x01: "Power Management", 0x05: "MSI", 0x09: "Vendor Specific", 0x10: "PCI Express", 0x11: "MSI-X",
};

export interface PciBar {
  index: number;
  kind: "io" | "mem32" | "mem64";
  prefetchable: boolean;
  /** The address programmed into the BAR (64-bit BARs: both halves). */
  address: number;
  size: number;
  /** Decoding now (command register enable bit set and an address assigned). */
  enabled: boolean;
}

export interface PciCapability {
  offset: number;
  id: number;
  name: string;
  next: number;
  /** virtio_pci_cap fields, for a vendor capability of a virtio function. */
  virtio?: { cfgType: number; type: string; bar: number; offset: number; length: number; capLen: number; notifyOffMultiplier?: number };
}

export interface PciConfigDecoded {
  vendorId: number;
  deviceId: number;
  revision: number;
  classCode: number;
  subsystemVendorId: number;
  subsystemId: number;
  command: number;
  commandBits: string[];
  status: number;
  statusBits: string[];
  headerType: number;
  interruptLine: number;
  interruptPin: number;
  bars: PciBar[];
  capabilities: PciCapability[];
  /** Problems found in the list (loops, pointers out of range). */
  errors: string[];
  /** The raw 256 bytes as hex lines of 16, like `lspci -xxx`. */
  hex: string[];
}

/** Static per-BAR facts the bytes cannot say (sizes are found by a sizing write). */
export interface BarShape {
  index: number;
  kind: "io" | "mem32" | "mem64";
  size: number;
}

const u8 = (c: Uint8Array, o: number): number => c[o] ?? 0;
const u16 = (c: Uint8Array, o: number): number => u8(c, o) | (u8(c, o + 1) << 8);
const u32 = (c: Uint8Array, o: number): number => (u16(c, o) | (u16(c, o + 2) << 16)) >>> 0;

export function decodePciConfig(c: Uint8Array, bars: readonly (BarShape | undefined)[] = []): PciConfigDecoded {
  const command = u16(c, 0x04), status = u16(c, 0x06);
  const commandBits = [[1, "I/O+"], [2, "Mem+"], [4, "BusMaster+"], [0x400, "DisINTx+"]].filter(([b]) => command & (b as number)).map(([, n]) => n as string);
  const statusBits = [[0x08, "INTx+"], [0x10, "Cap+"]].filter(([b]) => status & (b as number)).map(([, n]) => n as string);
  const vendorId = u16(c, 0);
  const out: PciConfigDecoded = {
    vendorId, deviceId: u16(c, 2), revision: u8(c, 8), classCode: u32(c, 8) >>> 8,
    subsystemVendorId: u16(c, 0x2c), subsystemId: u16(c, 0x2e),
    command, commandBits, status, statusBits, headerType: u8(c, 0x0e),
    interruptLine: u8(c, 0x3c), interruptPin: u8(c, 0x3d),
    bars: [], capabilities: [], errors: [], hex: [],
  };
  for (const b of bars) {
    if (!b) continue;
    const lo = u32(c, 0x10 + 4 * b.index);
    const io = b.kind === "io";
    const address = io ? lo & 0xfffc : ((lo & ~0xf) >>> 0) + (b.kind === "mem64" ? u32(c, 0x14 + 4 * b.index) * 0x1_0000_0000 : 0);
    out.bars.push({
      index: b.index, kind: b.kind, prefetchable: !io && (lo & 8) !== 0, address, size: b.size,
      enabled: address !== 0 && (command & (io ? 1 : 2)) !== 0,
    });
  }
  // §6.7: the list starts at Capabilities Pointer (0x34) when Status bit 4 is set; pointers
  // are dword aligned and inside the device-specific area 0x40–0xFF.
  if (status & 0x10) {
    const seen = new Set<number>();
    let p = u8(c, 0x34) & 0xfc;
    while (p !== 0) {
      if (p < 0x40 || p > 0xfc) { out.errors.push(`capability pointer 0x${p.toString(16)} outside 0x40–0xfc`); break; }
      if (seen.has(p)) { out.errors.push(`capability list loops at 0x${p.toString(16)}`); break; }
      seen.add(p);
      const id = u8(c, p), next = u8(c, p + 1) & 0xfc;
      const cap: PciCapability = { offset: p, id, name: CAP_NAMES[id] ?? `id 0x${id.toString(16)}`, next };
      if (id === 0x09 && vendorId === 0x1af4) {
        // virtio 1.2 §4.1.4 struct virtio_pci_cap { cap_vndr, cap_next, cap_len, cfg_type, bar, id, padding[2], offset, length }
        const cfgType = u8(c, p + 3);
        cap.virtio = {
          cfgType, type: VIRTIO_CFG_TYPES[cfgType] ?? `unknown ${cfgType}`, bar: u8(c, p + 4),
          offset: u32(c, p + 8), length: u32(c, p + 12), capLen: u8(c, p + 2),
        };
        // §4.1.4.4 struct virtio_pci_notify_cap adds notify_off_multiplier.
        if (cfgType === 2 && cap.virtio.capLen >= 20) cap.virtio.notifyOffMultiplier = u32(c, p + 16);
      }
      out.capabilities.push(cap);
      p = next;
    }
  }
  for (let o = 0; o < 256; o += 16) {
    out.hex.push(`${o.toString(16).padStart(2, "0")}: ${Array.from(c.subarray(o, o + 16), (b) => b.toString(16).padStart(2, "0")).join(" ")}`);
  }
  return out;
}

/** One lspci-style line for a capability: "[84] Vendor Specific: VirtIO: Notify BAR=4 offset=00003000 size=00001000 multiplier=00000004". */
export function capabilityLine(cap: PciCapability): string {
  const at = `[${cap.offset.toString(16)}]`;
  if (!cap.virtio) return `${at} ${cap.name}`;
  const v = cap.virtio;
  const h = (n: number) => n.toString(16).padStart(8, "0");
  return `${at} Vendor Specific: VirtIO: ${v.type} BAR=${v.bar} offset=${h(v.offset)} size=${h(v.length)}` +
    (v.notifyOffMultiplier !== undefined ? ` multiplier=${h(v.notifyOffMultiplier)}` : "");
}

/** Type-0 header fields by offset (PCI 3.0 §6.1), for naming configuration space accesses. */
const HEADER_FIELDS: [start: number, end: number, name: string][] = [
  [0x00, 0x02, "vendor id"], [0x02, 0x04, "device id"], [0x04, 0x06, "command"], [0x06, 0x08, "status"],
  [0x08, 0x09, "revision"], [0x09, 0x0c, "class"], [0x0c, 0x0d, "cache line"], [0x0d, 0x0e, "latency"],
  [0x0e, 0x0f, "header type"], [0x0f, 0x10, "BIST"], [0x10, 0x28, "BAR"], [0x28, 0x2c, "cardbus"],
  [0x2c, 0x2e, "subsystem vendor"], [0x2e, 0x30, "subsystem id"], [0x30, 0x34, "ROM"], [0x34, 0x35, "capabilities pointer"],
  [0x3c, 0x3d, "interrupt line"], [0x3d, 0x3e, "interrupt pin"],
];

/** "config 0x04 command", "config 0x4b cap@0x40 COMMON +11" — what a config access touched. */
export function configAccessName(offset: number, caps: readonly PciCapability[]): string {
  const at = `config 0x${offset.toString(16).padStart(2, "0")}`;
  if (offset < 0x40) {
    const f = HEADER_FIELDS.find(([a, b]) => offset >= a && offset < b);
    if (!f) return at;
    return f[2] === "BAR" ? `${at} BAR${(offset - 0x10) >> 2}` : `${at} ${f[2]}`;
  }
  // The capability whose bytes hold `offset`: the last one starting at or below it.
  let cap: PciCapability | undefined;
  for (const c of caps) if (c.offset <= offset && (!cap || c.offset > cap.offset)) cap = c;
  return cap ? `${at} cap@0x${cap.offset.toString(16)} ${cap.virtio?.type ?? cap.name} +${offset - cap.offset}` : at;
}
