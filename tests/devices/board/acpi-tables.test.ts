// The ACPI tables read back the way a kernel reads them (ACPI 6.5 §5.2): the RSDP found by its
// signature on a 16-byte boundary in 0xE0000–0xFFFFF, every table's bytes summing to zero, the
// FADT naming the PM blocks of devices/acpi-pm.ts, and on the APIC board a MADT with the wiring
// the MP table gives (IRQ0 on I/O APIC pin 2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeAcpiTables } from "../../../devices/board/acpi-tables.ts";
import { ACPI_PM_BASE } from "../../../devices/acpi-pm.ts";

const sig = (ram: Uint8Array, at: number, n = 4) => String.fromCharCode(...ram.subarray(at, at + n));
const sum = (ram: Uint8Array, at: number, len: number) => ram.subarray(at, at + len).reduce((a, b) => (a + b) & 0xff, 0);

function tables(apic: Parameters<typeof writeAcpiTables>[1]) {
  const ram = new Uint8Array(1 << 20);
  writeAcpiTables(ram, apic);
  const v = new DataView(ram.buffer);
  let rsdp = -1;
  for (let a = 0xe0000; a < 0x100000; a += 16) if (sig(ram, a, 8) === "RSD PTR " && sum(ram, a, 20) === 0) { rsdp = a; break; }
  assert.ok(rsdp >= 0, "no RSDP with a good checksum in the BIOS area");
  const rsdt = v.getUint32(rsdp + 16, true);
  assert.equal(sig(ram, rsdt), "RSDT");
  const byName = new Map<string, number>();
  const len = v.getUint32(rsdt + 4, true);
  assert.equal(sum(ram, rsdt, len), 0, "RSDT checksum");
  for (let p = rsdt + 36; p < rsdt + len; p += 4) {
    const t = v.getUint32(p, true);
    assert.equal(sum(ram, t, v.getUint32(t + 4, true)), 0, `${sig(ram, t)} checksum`);
    byName.set(sig(ram, t), t);
  }
  return { ram, v, byName };
}

test("RSDP → RSDT → FADT: the PM1a blocks and the PM timer at the acpi-pm ports, SCI 9, no SMI_CMD; FACS and DSDT", () => {
  const { ram, v, byName } = tables(null);
  assert.deepEqual([...byName.keys()], ["FACP"], "the PIC board has no MADT");
  const f = byName.get("FACP")!;
  assert.equal(v.getUint32(f + 4, true), 116, "ACPI 1.0 FADT length");
  assert.equal(v.getUint16(f + 46, true), 9, "SCI_INT");
  assert.equal(v.getUint32(f + 48, true), 0, "SMI_CMD");
  assert.equal(v.getUint32(f + 56, true), ACPI_PM_BASE, "PM1a_EVT_BLK");
  assert.equal(v.getUint32(f + 64, true), ACPI_PM_BASE + 4, "PM1a_CNT_BLK");
  assert.equal(v.getUint32(f + 76, true), ACPI_PM_BASE + 8, "PM_TMR_BLK");
  assert.deepEqual([v.getUint8(f + 88), v.getUint8(f + 89), v.getUint8(f + 91)], [4, 2, 4], "PM1_EVT_LEN, PM1_CNT_LEN, PM_TMR_LEN");
  assert.equal(v.getUint32(f + 112, true) & (1 << 8), 0, "TMR_VAL_EXT clear: a 24-bit timer");
  const facs = v.getUint32(f + 36, true), dsdt = v.getUint32(f + 40, true);
  assert.equal(sig(ram, facs), "FACS");
  assert.equal(facs % 64, 0, "FACS 64-byte aligned");
  assert.equal(v.getUint32(facs + 4, true), 64);
  assert.equal(sig(ram, dsdt), "DSDT");
  assert.equal(sum(ram, dsdt, v.getUint32(dsdt + 4, true)), 0, "DSDT checksum");
});

test("MADT on the APIC board: local APIC 0 enabled, the I/O APIC at GSI 0, IRQ0 → GSI 2, level ISA lines and the SCI overridden, LINT1 NMI", () => {
  const { v, byName } = tables({ ioapicId: 1, levelIsaIrqs: [5] });
  const m = byName.get("APIC")!;
  assert.equal(v.getUint32(m + 36, true), 0xfee00000, "local APIC address");
  assert.equal(v.getUint32(m + 40, true) & 1, 1, "PCAT_COMPAT");
  const entries: number[][] = [];
  for (let p = m + 44; p < m + v.getUint32(m + 4, true); p += v.getUint8(p + 1)) {
    const t = v.getUint8(p);
    if (t === 0) entries.push([0, v.getUint8(p + 3), v.getUint32(p + 4, true)]);
    else if (t === 1) entries.push([1, v.getUint8(p + 2), v.getUint32(p + 4, true), v.getUint32(p + 8, true)]);
    else if (t === 2) entries.push([2, v.getUint8(p + 3), v.getUint32(p + 4, true), v.getUint16(p + 8, true)]);
    else if (t === 4) entries.push([4, v.getUint8(p + 2), v.getUint8(p + 5)]);
    else assert.fail(`unexpected MADT entry type ${t}`);
  }
  assert.deepEqual(entries, [
    [0, 0, 1],
    [1, 1, 0xfec00000, 0],
    [2, 0, 2, 0], // IRQ0 → GSI 2, conforming
    [2, 5, 5, 0b1101], // IRQ5 level, active-high
    [2, 9, 9, 0b1101], // the SCI: level, active-high (an undriven pin is low)
    [4, 0xff, 1],
  ]);
});
