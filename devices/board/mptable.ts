// The Intel MultiProcessor Specification 1.4 tables (order no. 242016-006) the board writes in
// place of a BIOS, so that a kernel without ACPI finds the local APIC, the I/O APIC and how every
// interrupt source is wired to it: the MP floating pointer structure (§4.1) and the MP
// configuration table (§4.2) with its base entries (§4.3): processor, bus, I/O APIC, I/O
// interrupt assignment, local interrupt assignment. Linux 6.1 reads them in
// arch/x86/kernel/mpparse.c (smp_scan_config scans 0x0–0x3FF, 639 KiB–640 KiB and
// 0xF0000–0xFFFFF for "_MP_"; smp_check_mpc checks "PCMP", the checksum and the spec revision).

/** §4.1: the floating pointer; here at the bottom of the BIOS area, 16-byte aligned. */
export const MP_FLOATING_ADDR = 0x000f_0000;
/** The configuration table follows it. */
export const MP_CONFIG_ADDR = MP_FLOATING_ADDR + 16;
/** Spec revision 1.4. */
const SPEC_REV = 4;

// Entry types (§4.3, Table 4-3) and their lengths.
const ENTRY_PROCESSOR = 0, ENTRY_BUS = 1, ENTRY_IOAPIC = 2, ENTRY_IO_INT = 3, ENTRY_LOCAL_INT = 4;
// Interrupt types (Table 4-10).
export const INT_TYPE_INT = 0, INT_TYPE_NMI = 1, INT_TYPE_SMI = 2, INT_TYPE_EXTINT = 3;
// I/O interrupt flags (Table 4-10): polarity bits 1:0, trigger bits 3:2.
export const PO_CONFORM = 0, PO_HIGH = 1, PO_LOW = 3;
export const EL_CONFORM = 0 << 2, EL_EDGE = 1 << 2, EL_LEVEL = 3 << 2;

export interface MpProcessor {
  apicId: number;
  apicVersion: number;
  /** CPUID.1 EAX (stepping, model, family) and EDX (feature flags). */
  signature: number;
  features: number;
}

export interface MpBus {
  id: number;
  /** Six-character bus type string (Table 4-8): "PCI", "ISA". */
  type: string;
}

export interface MpIoApic {
  id: number;
  version: number;
  address: number;
}

export interface MpInterrupt {
  type: number; // INT_TYPE_*
  flags: number; // PO_* | EL_*
  bus: number;
  /** ISA: the IRQ. PCI: device << 2 | (INTx# pin − 1) (§4.3.4, "PCI bus interrupt"). */
  busIrq: number;
  /** I/O interrupt: the I/O APIC id; local interrupt: the local APIC id (0xFF = all). */
  destApic: number;
  /** I/O APIC pin, or LINTn for a local interrupt. */
  destPin: number;
}

export interface MpConfig {
  oemId: string;
  productId: string;
  localApicAddress: number;
  processors: MpProcessor[];
  buses: MpBus[];
  ioApics: MpIoApic[];
  ioInterrupts: MpInterrupt[];
  localInterrupts: MpInterrupt[];
}

function checksum(b: Uint8Array): number {
  let s = 0;
  for (const x of b) s += x;
  return (256 - (s & 0xff)) & 0xff;
}

function ascii(dst: Uint8Array, at: number, text: string, len: number): void {
  for (let i = 0; i < len; i++) dst[at + i] = i < text.length ? text.charCodeAt(i) & 0x7f : 0x20;
}

/** The configuration table's bytes (header §4.2 Table 4-2, then entries sorted by type). */
export function buildMpConfigTable(c: MpConfig): Uint8Array {
  const count = c.processors.length + c.buses.length + c.ioApics.length + c.ioInterrupts.length + c.localInterrupts.length;
  const length = 44 + 20 * c.processors.length + 8 * (count - c.processors.length);
  const t = new Uint8Array(length);
  const v = new DataView(t.buffer);
  ascii(t, 0, "PCMP", 4);
  v.setUint16(4, length, true); // base table length
  t[6] = SPEC_REV;
  ascii(t, 8, c.oemId, 8);
  ascii(t, 16, c.productId, 12);
  v.setUint32(28, 0, true); // OEM table pointer
  v.setUint16(32, 0, true); // OEM table size
  v.setUint16(34, count, true);
  v.setUint32(36, c.localApicAddress, true);
  v.setUint16(40, 0, true); // extended table length
  t[42] = 0; // extended table checksum
  let o = 44;
  for (const p of c.processors) { // §4.3.1 Table 4-4
    t[o] = ENTRY_PROCESSOR;
    t[o + 1] = p.apicId;
    t[o + 2] = p.apicVersion;
    t[o + 3] = 0x01 | (p === c.processors[0] ? 0x02 : 0); // EN, BP
    v.setUint32(o + 4, p.signature, true);
    v.setUint32(o + 8, p.features, true);
    o += 20;
  }
  for (const b of c.buses) { // §4.3.2 Table 4-7
    t[o] = ENTRY_BUS;
    t[o + 1] = b.id;
    ascii(t, o + 2, b.type, 6);
    o += 8;
  }
  for (const a of c.ioApics) { // §4.3.3 Table 4-9
    t[o] = ENTRY_IOAPIC;
    t[o + 1] = a.id;
    t[o + 2] = a.version;
    t[o + 3] = 0x01; // EN
    v.setUint32(o + 4, a.address, true);
    o += 8;
  }
  for (const [type, list] of [[ENTRY_IO_INT, c.ioInterrupts], [ENTRY_LOCAL_INT, c.localInterrupts]] as const) {
    for (const i of list) { // §4.3.4 Table 4-10, §4.3.5 Table 4-12: same layout
      t[o] = type;
      t[o + 1] = i.type;
      v.setUint16(o + 2, i.flags, true);
      t[o + 4] = i.bus;
      t[o + 5] = i.busIrq;
      t[o + 6] = i.destApic;
      t[o + 7] = i.destPin;
      o += 8;
    }
  }
  t[7] = checksum(t);
  return t;
}

/** The 16-byte floating pointer (§4.1 Table 4-1) pointing at `configAddr`. */
export function buildMpFloatingPointer(configAddr: number): Uint8Array {
  const f = new Uint8Array(16);
  const v = new DataView(f.buffer);
  ascii(f, 0, "_MP_", 4);
  v.setUint32(4, configAddr, true);
  f[8] = 1; // length in 16-byte paragraphs
  f[9] = SPEC_REV;
  f[11] = 0; // feature byte 1: 0 = a configuration table is present
  f[12] = 0; // feature byte 2: IMCRP clear = virtual-wire mode, no IMCR to switch
  f[10] = checksum(f);
  return f;
}

/** Write both structures into guest RAM (phys 0 at index 0); returns the table's length. */
export function writeMpTables(ram: Uint8Array, c: MpConfig, floatingAddr = MP_FLOATING_ADDR, configAddr = MP_CONFIG_ADDR): number {
  const table = buildMpConfigTable(c);
  ram.set(buildMpFloatingPointer(configAddr), floatingAddr);
  ram.set(table, configAddr);
  return table.length;
}

/** Parse back (for tests and the inspector): checks signatures and checksums, throws on a mismatch. */
export function parseMpTables(ram: Uint8Array, floatingAddr = MP_FLOATING_ADDR): { entries: { type: number; bytes: Uint8Array }[]; localApicAddress: number } {
  const f = ram.subarray(floatingAddr, floatingAddr + 16);
  const fv = new DataView(f.buffer, f.byteOffset, 16);
  if (String.fromCharCode(...f.subarray(0, 4)) !== "_MP_") throw new Error("no _MP_ signature");
  if (f.reduce((a, b) => a + b, 0) & 0xff) throw new Error("floating pointer checksum");
  const addr = fv.getUint32(4, true);
  const hv = new DataView(ram.buffer, ram.byteOffset + addr, 44);
  const len = hv.getUint16(4, true);
  const t = ram.subarray(addr, addr + len);
  if (String.fromCharCode(...t.subarray(0, 4)) !== "PCMP") throw new Error("no PCMP signature");
  if (t.reduce((a, b) => a + b, 0) & 0xff) throw new Error("configuration table checksum");
  const entries: { type: number; bytes: Uint8Array }[] = [];
  let o = 44;
  for (let n = hv.getUint16(34, true); n > 0; n--) {
    const type = t[o]!;
    const size = type === ENTRY_PROCESSOR ? 20 : 8;
    entries.push({ type, bytes: t.slice(o, o + size) });
    o += size;
  }
  return { entries, localApicAddress: hv.getUint32(36, true) };
}
