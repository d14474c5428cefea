// Expectations from the MP spec 1.4 (§4.1 floating pointer, §4.2 header, §4.3 entries) and
// from where Linux 6.1's mpparse.c looks (smp_scan_config: 0xF0000–0xFFFFF, 16-byte aligned).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeMpTables, parseMpTables, MP_FLOATING_ADDR } from "../../../devices/board/mptable.ts";
import { apicMpConfig, MP_BUS_ISA, MP_BUS_PCI } from "../../../devices/board/apic-wiring.ts";

test("floating pointer and configuration table: signatures, checksums, entries in type order", () => {
  const ram = new Uint8Array(1 << 20);
  writeMpTables(ram, apicMpConfig({ lapicVersion: 0x14, ioapicId: 1, levelIsaIrqs: [5], pciSlots: 31 }));
  assert.ok(MP_FLOATING_ADDR >= 0xf0000 && MP_FLOATING_ADDR % 16 === 0);
  const { entries, localApicAddress } = parseMpTables(ram);
  assert.equal(localApicAddress, 0xfee0_0000);
  const types = entries.map((e) => e.type);
  assert.deepEqual(types, [...types].sort((a, b) => a - b), "sorted by entry type");
  assert.equal(types.filter((t) => t === 0).length, 1, "one processor");
  assert.equal(types.filter((t) => t === 2).length, 1, "one I/O APIC");
  const cpu = entries[0]!.bytes;
  assert.equal(cpu[3], 3, "enabled bootstrap processor");
  const io = entries.filter((e) => e.type === 3).map((e) => e.bytes);
  const isa = io.filter((b) => b[4] === MP_BUS_ISA);
  // ISA IRQ0 → pin 2, no IRQ2 entry, IRQn → pin n otherwise.
  assert.deepEqual(isa.map((b) => [b[5], b[7]]), [[0, 2], [1, 1], ...[3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((i) => [i, i])]);
  const irq5 = isa.find((b) => b[5] === 5)!;
  assert.equal(irq5[2], 0x0d, "a level ISA line: active high, level");
  assert.equal(isa.find((b) => b[5] === 4)![2], 0, "conforming");
  const pci = io.filter((b) => b[4] === MP_BUS_PCI);
  assert.equal(pci.length, 31 * 4, "INTA–INTD of every slot");
  const slot3intB = pci.find((b) => b[5] === ((3 << 2) | 1))!;
  assert.equal(slot3intB[7], 16 + ((3 + 2 - 1) & 3));
  assert.equal(slot3intB[2], 0x0f, "active low, level");
  const local = entries.filter((e) => e.type === 4).map((e) => e.bytes);
  assert.deepEqual(local.map((b) => [b[1], b[6], b[7]]), [[3, 0xff, 0], [1, 0xff, 1]], "ExtINT on LINT0, NMI on LINT1");
});
