// The AML encodings against ACPI 6.5 §20.2, and the board's DSDT read back by ACPICA's own
// disassembler, iasl (Debian's acpica-tools; that part is skipped without it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eisaId, integer, nameString, pkg, pkgLength } from "../../../devices/board/aml.ts";
import { writeAcpiTables } from "../../../devices/board/acpi-tables.ts";

let iasl = true;
try { execFileSync("iasl", ["-v"], { stdio: "ignore" }); } catch { iasl = false; }

test("PkgLength: one byte to 63, then a lead byte with the count of the bytes that follow and the low nibble", () => {
  assert.deepEqual(pkgLength(0), [1]);
  assert.deepEqual(pkgLength(62), [63]);
  assert.deepEqual(pkgLength(63), [0x41, 0x04]); // 65 = 0x41: two bytes, 0x1 | 0x4 << 4
  assert.deepEqual(pkgLength(4093), [0x4f, 0xff]); // 4095, the most two bytes hold
  assert.deepEqual(pkgLength(4094), [0x81, 0x00, 0x01]); // 4097 in three bytes
});

test("names, integers, packages and EISA ids", () => {
  assert.deepEqual(nameString("\\_SB_"), [0x5c, 0x5f, 0x53, 0x42, 0x5f]);
  assert.deepEqual(nameString("_SB_.PCI0"), [0x2e, ..."_SB_PCI0"].map((c) => (typeof c === "string" ? c.charCodeAt(0) : c)));
  assert.deepEqual(integer(0), [0x00]);
  assert.deepEqual(integer(1), [0x01]);
  assert.deepEqual(integer(0x12), [0x0a, 0x12]);
  assert.deepEqual(integer(0x1234), [0x0b, 0x34, 0x12]);
  assert.deepEqual(integer(0x0001ffff), [0x0c, 0xff, 0xff, 0x01, 0x00]);
  assert.deepEqual(pkg([integer(0), integer(2)]), [0x12, 0x05, 0x02, 0x00, 0x0a, 0x02]);
  assert.deepEqual(eisaId("PNP0A03"), [0x0c, 0x41, 0xd0, 0x0a, 0x03]); // the DWord 0x030AD041 every PCI root's _HID is
});

test("the board's DSDT, as iasl disassembles it: \\_SB.PCI0 with _HID PNP0A03, its windows and a _PRT per slot and pin", { skip: iasl ? false : "iasl (acpica-tools) is not installed" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-aml-"));
  for (const [board, apic, gsiA] of [["apic", { ioapicId: 1, levelIsaIrqs: [] }, 0x11], ["pic", null, 0x0b]] as const) {
    const ram = new Uint8Array(1 << 20);
    writeAcpiTables(ram, apic);
    const v = new DataView(ram.buffer);
    const fadt = v.getUint32(v.getUint32(0xe0000 + 16, true) + 36, true);
    const dsdt = v.getUint32(fadt + 40, true);
    const file = join(dir, `dsdt-${board}.dat`);
    writeFileSync(file, ram.subarray(dsdt, dsdt + v.getUint32(dsdt + 4, true)));
    execFileSync("iasl", ["-d", file], { cwd: dir, stdio: "ignore" });
    const asl = readFileSync(file.replace(/\.dat$/, ".dsl"), "utf8");
    assert.match(asl, /Device \(PCI0\)[\s\S]*EisaId \("PNP0A03"\)/);
    assert.match(asl, /WordBusNumber[\s\S]*0x00FF,\s+\/\/ Range Maximum/);
    assert.match(asl, /DWordMemory[\s\S]*0xE0000000,\s+\/\/ Range Minimum\s+0xFEBFFFFF,/);
    assert.match(asl, /Name \(_PRT, Package \(0x7C\)/, "31 slots × 4 pins");
    // Slot 1 INTA → PIRQB: I/O APIC pin 17, or ISA IRQ 11 on the PIC board.
    assert.match(asl, new RegExp(`0x0001FFFF,\\s+Zero,\\s+Zero,\\s+${gsiA === 0x11 ? "0x11" : "0x0B"}`));
  }
});
