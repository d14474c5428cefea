// The ACPI tables a BIOS would leave for the OS (ACPI 6.5 §5.2), written in the place of one so
// that a kernel with ACPI finds the board's fixed hardware (devices/acpi-pm.ts), above all the
// PM timer, its clocksource watchdog. The least that describes it, in ACPI 1.0 form (which every
// ACPI kernel reads; the later fields would only repeat these as 64-bit addresses):
//   RSDP  "RSD PTR " in the BIOS area, 0xE0000–0xFFFFF, where the OS looks for it (§5.2.5.1)
//   RSDT  one entry: the FADT (§5.2.7)
//   FADT  the PM1a event and control blocks, the PM timer, SCI on ISA IRQ 9, no SMI_CMD (the
//         hardware is always in ACPI mode), no GPE block, no C2/C3 (§5.2.9)
//   FACS  the firmware control structure the FADT must point to (§5.2.10)
//   DSDT  the PCI host bridge (§5.2.11.1; a kernel with ACPI finds PCI only through it): \_SB.PCI0,
//         PNP0A03, its windows (_CRS: the ranges board/pci-firmware.ts assigns from) and
//         its interrupt routing (_PRT: slot d, pin p → PIRQ[(d + p) mod 4] → the I/O APIC's
//         pins 16–19 on the APIC board, the PIRQs' ISA IRQs on the PIC board)
//   MADT  on the APIC board only (§5.2.12): the local APIC, the I/O APIC and the same wiring
//         the MP table gives (apic-wiring.ts) — a kernel with ACPI tables ignores the MP table
//         ("No APIC-table, disabling MPS") and would otherwise run on the 8259s alone.
import { LAPIC_DEFAULT_BASE } from "../lapic.ts";
import { IOAPIC_DEFAULT_BASE } from "../ioapic.ts";
import { ISA_TO_IOAPIC_PIN, PIRQ_IOAPIC_PIN } from "./apic-wiring.ts";
import { DEFAULT_PIRQ_IRQS } from "./pci-firmware.ts";
import { buffer, device, eisaId, integer, name, pkg, scope, type Aml } from "./aml.ts";
import { ACPI_PM_BASE, PM1_CNT_LEN, PM1_CNT_OFFSET, PM1_EVT_LEN, PM1_EVT_OFFSET, PM_TMR_LEN, PM_TMR_OFFSET } from "../acpi-pm.ts";

/** Where the tables go: the start of the BIOS area the OS searches for the RSDP (reserved in e820). */
export const ACPI_TABLES_ADDR = 0x000e_0000;
/** The SCI's ISA IRQ (the FADT's SCI_INT), as on PIIX4 boards. */
export const SCI_IRQ = 9;

const OEM_ID = "VIREO ";
const OEM_TABLE_ID = "VIREO PC";
const HEADER = 36;
// Table offsets from ACPI_TABLES_ADDR; the FACS must be 64-byte aligned (§5.2.10).
const RSDP_AT = 0x00, RSDT_AT = 0x20, FADT_AT = 0x50, FACS_AT = 0x100, MADT_AT = 0x140, DSDT_AT = 0x240;
/** The tables' extent: the DSDT is last (its _PRT is most of it, about 1.7 KiB). */
export const ACPI_TABLES_SIZE = 0x1000;
const FADT_V1_LEN = 116, FACS_LEN = 64;
/** PCI slots the _PRT routes (the board's bus 0: pci-host.ts). */
const PCI_SLOTS = 31;
// The PCI windows (board/pci-firmware.ts assigns BARs from I/O 0xC000 and memory 0xE0000000 up
// to the I/O APIC); the legacy VGA hole is forwarded too, as a host bridge does.
const PCI_IO_WINDOWS = [[0x0000, 0x0cf7], [0x0d00, 0xffff]] as const;
const PCI_MEM_WINDOWS = [[0x000a_0000, 0x000b_ffff], [0xe000_0000, 0xfebf_ffff]] as const;
/** MADT structure types (§5.2.12 Table 5.20) and their lengths. */
const MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_OVERRIDE = 2, MADT_LAPIC_NMI = 4;
/** MPS INTI flags (§5.2.12.5 Table 5.26): polarity bits 1:0, trigger mode bits 3:2. */
const INTI_HIGH = 0b01, INTI_LEVEL = 0b11 << 2;

/** The APIC board's controllers, for the MADT. */
export interface AcpiApic {
  ioapicId: number;
  /** ISA IRQs the board made level-triggered (virtio-mmio lines). */
  levelIsaIrqs: readonly number[];
}

// FADT Flags (§5.2.9 Table 5.10): WBINVD works; C1 (HLT) on every CPU; no fixed power or sleep
// button (bits 4, 5: "not present or a control method"); TMR_VAL_EXT clear: a 24-bit timer.
const FADT_WBINVD = 1 << 0, FADT_PROC_C1 = 1 << 2, FADT_PWR_BUTTON = 1 << 4, FADT_SLP_BUTTON = 1 << 5;
// Worst-case C2 and C3 latencies above 100 µs and 1000 µs: the states are not supported (§5.2.9).
const NO_C2 = 101, NO_C3 = 1001;

function ascii(ram: Uint8Array, at: number, s: string, len: number): void {
  for (let i = 0; i < len; i++) ram[at + i] = i < s.length ? s.charCodeAt(i) : 0x20;
}

/** Make `len` bytes at `at` sum to 0 mod 256 through the byte at `at + field`. */
function checksum(ram: Uint8Array, at: number, len: number, field: number): void {
  ram[at + field] = 0;
  let sum = 0;
  for (let i = 0; i < len; i++) sum += ram[at + i]!;
  ram[at + field] = (256 - (sum & 0xff)) & 0xff;
}

/** The common description header (§5.2.6): signature, length, revision, OEM fields; checksum later. */
function header(v: DataView, ram: Uint8Array, at: number, signature: string, length: number, revision: number): void {
  ascii(ram, at, signature, 4);
  v.setUint32(at + 4, length, true);
  v.setUint8(at + 8, revision);
  ascii(ram, at + 10, OEM_ID, 6);
  ascii(ram, at + 16, OEM_TABLE_ID, 8);
  v.setUint32(at + 24, 1, true); // OEM revision
  ascii(ram, at + 28, "VIRO", 4); // creator id
  v.setUint32(at + 32, 1, true); // creator revision
}

/** Write RSDP, RSDT, FADT, FACS and DSDT into guest RAM; returns the RSDP's address. */
export function writeAcpiTables(ram: Uint8Array, apic: AcpiApic | null, base = ACPI_TABLES_ADDR, pmBase = ACPI_PM_BASE, sciIrq = SCI_IRQ): number {
  const v = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const rsdp = base + RSDP_AT, rsdt = base + RSDT_AT, fadt = base + FADT_AT, facs = base + FACS_AT, dsdt = base + DSDT_AT, madt = base + MADT_AT;
  const tables = apic ? [fadt, madt] : [fadt];
  const rsdtLen = HEADER + 4 * tables.length;
  ram.fill(0, base, base + ACPI_TABLES_SIZE);

  // RSDP, ACPI 1.0 form (revision 0, 20 bytes): the RSDT's address (§5.2.5.3).
  ascii(ram, rsdp, "RSD PTR ", 8);
  ascii(ram, rsdp + 9, OEM_ID, 6);
  v.setUint8(rsdp + 15, 0);
  v.setUint32(rsdp + 16, rsdt, true);
  checksum(ram, rsdp, 20, 8);

  header(v, ram, rsdt, "RSDT", rsdtLen, 1);
  tables.forEach((t, i) => v.setUint32(rsdt + HEADER + 4 * i, t, true));
  checksum(ram, rsdt, rsdtLen, 9);

  // FADT revision 1 (the ACPI 1.0 layout, §5.2.9 Table 5.9 up to Flags).
  header(v, ram, fadt, "FACP", FADT_V1_LEN, 1);
  v.setUint32(fadt + 36, facs, true); // FIRMWARE_CTRL
  v.setUint32(fadt + 40, dsdt, true); // DSDT
  v.setUint16(fadt + 46, sciIrq, true); // SCI_INT
  v.setUint32(fadt + 48, 0, true); // SMI_CMD: none, always in ACPI mode
  v.setUint32(fadt + 56, pmBase + PM1_EVT_OFFSET, true); // PM1a_EVT_BLK
  v.setUint32(fadt + 64, pmBase + PM1_CNT_OFFSET, true); // PM1a_CNT_BLK
  v.setUint32(fadt + 76, pmBase + PM_TMR_OFFSET, true); // PM_TMR_BLK
  v.setUint8(fadt + 88, PM1_EVT_LEN);
  v.setUint8(fadt + 89, PM1_CNT_LEN);
  v.setUint8(fadt + 91, PM_TMR_LEN);
  v.setUint16(fadt + 96, NO_C2, true); // P_LVL2_LAT
  v.setUint16(fadt + 98, NO_C3, true); // P_LVL3_LAT
  v.setUint32(fadt + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON, true);
  checksum(ram, fadt, FADT_V1_LEN, 9);

  // FACS (§5.2.10 Table 5.13): no checksum; hardware signature 0, no waking vector, no lock holder.
  ascii(ram, facs, "FACS", 4);
  v.setUint32(facs + 4, FACS_LEN, true);

  const aml = dsdtBody(apic !== null);
  if (DSDT_AT + HEADER + aml.length > ACPI_TABLES_SIZE) throw new RangeError("the DSDT outgrew the ACPI tables' area");
  header(v, ram, dsdt, "DSDT", HEADER + aml.length, 1);
  ram.set(aml, dsdt + HEADER);
  checksum(ram, dsdt, HEADER + aml.length, 9);
  if (apic) writeMadt(v, ram, madt, apic, sciIrq);
  return rsdp;
}

/** Scope(\_SB) { Device(PCI0) { _HID, _UID, _ADR, _CRS, _PRT } }. */
function dsdtBody(apicBoard: boolean): Aml {
  const crs: number[] = [];
  const le = (v: number, n: number) => { for (let i = 0; i < n; i++) crs.push((v >>> (8 * i)) & 0xff); };
  // A producer window with fixed ends (§6.4.3.5: general flags _MIF | _MAF).
  const wordSpace = (type: number, typeFlags: number, min: number, max: number) => {
    crs.push(0x88, 0x0d, 0x00, type, 0x0c, typeFlags); le(0, 2); le(min, 2); le(max, 2); le(0, 2); le(max - min + 1, 2);
  };
  const dwordMemory = (min: number, max: number) => {
    crs.push(0x87, 0x17, 0x00, 0, 0x0c, 0x01 /* read-write, non-cacheable */); le(0, 4); le(min, 4); le(max, 4); le(0, 4); le(max - min + 1, 4);
  };
  wordSpace(2, 0, 0x00, 0xff); // bus numbers 0–255
  crs.push(0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08); // I/O 0xCF8–0xCFF: configuration mechanism #1
  for (const [lo, hi] of PCI_IO_WINDOWS) wordSpace(1, 0x03 /* ISA and non-ISA ranges */, lo, hi);
  for (const [lo, hi] of PCI_MEM_WINDOWS) dwordMemory(lo, hi);
  crs.push(0x79, 0x00); // End Tag
  // _PRT entries: Package { address (slot << 16 | 0xFFFF: any function), pin (0 = INTA), source (0: a GSI), GSI }.
  const prt: Aml[] = [];
  for (let d = 1; d <= PCI_SLOTS; d++) {
    for (let p = 0; p < 4; p++) {
      const pirq = (d + p) & 3;
      const gsi = apicBoard ? PIRQ_IOAPIC_PIN[pirq]! : DEFAULT_PIRQ_IRQS[pirq]!;
      prt.push(pkg([integer(((d << 16) | 0xffff) >>> 0), integer(p), integer(0), integer(gsi)]));
    }
  }
  return scope("\\_SB_", [
    device("PCI0", [
      name("_HID", eisaId("PNP0A03")),
      name("_UID", integer(0)),
      name("_ADR", integer(0)),
      name("_CRS", buffer(crs)),
      name("_PRT", pkg(prt)),
    ]),
  ]);
}

/** MADT revision 1 (§5.2.12): CPU 0's local APIC, the I/O APIC (GSIs 0–23), overrides, LINT1 = NMI. */
function writeMadt(v: DataView, ram: Uint8Array, at: number, apic: AcpiApic, sciIrq: number): void {
  let p = at + HEADER + 8;
  const entry = (type: number, len: number) => { v.setUint8(p, type); v.setUint8(p + 1, len); const e = p; p += len; return e; };
  v.setUint32(at + HEADER, LAPIC_DEFAULT_BASE, true);
  v.setUint32(at + HEADER + 4, 1, true); // PCAT_COMPAT: there are 8259s too (masked by the OS)
  let e = entry(MADT_LAPIC, 8);
  v.setUint8(e + 2, 0); // ACPI processor UID
  v.setUint8(e + 3, 0); // APIC id
  v.setUint32(e + 4, 1, true); // enabled
  e = entry(MADT_IOAPIC, 12);
  v.setUint8(e + 2, apic.ioapicId);
  v.setUint32(e + 4, IOAPIC_DEFAULT_BASE, true);
  v.setUint32(e + 8, 0, true); // GSI base
  // An ISA IRQ is GSI n, edge, active-high unless overridden: IRQ0 is on pin 2, level lines are
  // level. The SCI is level, and active-low unless overridden (§5.2.12.5): an I/O APIC pin
  // nothing drives reads low here, so an active-low SCI would be asserted for ever — it is
  // declared active-high, as the pin is (QEMU's tables say the same of theirs).
  for (let irq = 0; irq < 16; irq++) {
    const pin = ISA_TO_IOAPIC_PIN[irq]!;
    const level = apic.levelIsaIrqs.includes(irq) || irq === sciIrq;
    if (pin < 0 || (pin === irq && !level)) continue;
    e = entry(MADT_OVERRIDE, 10);
    v.setUint8(e + 2, 0); // bus: ISA
    v.setUint8(e + 3, irq);
    v.setUint32(e + 4, pin, true);
    v.setUint16(e + 8, level ? INTI_HIGH | INTI_LEVEL : 0, true);
  }
  e = entry(MADT_LAPIC_NMI, 6);
  v.setUint8(e + 2, 0xff); // every processor
  v.setUint16(e + 3, 0, true);
  v.setUint8(e + 5, 1); // LINT1
  header(v, ram, at, "APIC", p - at, 1);
  checksum(ram, at, p - at, 9);
}
