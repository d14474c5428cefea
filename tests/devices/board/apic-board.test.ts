// The APIC board wired together (devices/board/pc.ts with `apic: true`, apic-wiring.ts): what a
// PIC-only board must not have, the APIC base the core reports, the LAPIC/I/O APIC pages, the
// MP table written at power-on, an ISA IRQ (COM1, IRQ4) through I/O APIC pin 4 to the CPU, the
// 8259 through LINT0 in virtual-wire mode, and an MSI-X message from a virtio-pci device.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as L from "../../../core-wasm/build/layout.ts";
import { PcBoard } from "../../../devices/board/pc.ts";
import { parseMpTables } from "../../../devices/board/mptable.ts";
import { IOREGSEL, IOWIN, IOREDTBL } from "../../../devices/ioapic.ts";
import { PCI_CAP_PTR } from "../../../devices/pci-host.ts";

const module = new WebAssembly.Module(readFileSync(new URL("../../../core-wasm/build/core.wasm", import.meta.url)));
const kernel = new Uint8Array(readFileSync(new URL("../../../guest-images/bzImage-apic", import.meta.url)));
const board = (apic: boolean, virtio: ConstructorParameters<typeof PcBoard>[0]["virtio"] = []) =>
  new PcBoard({ module, ramBytes: 32 << 20, clock: "deterministic", onConsole: () => {}, apic, virtio });

test("the PIC-only board has no APIC: RUN_APIC_BASE 0, nothing at 0xFEE00000 or 0xFEC00000", () => {
  const b = board(false);
  assert.equal(b.core.runPage[L.RUN_APIC_BASE >> 2], 0);
  assert.equal(b.mmio.regionAt(0xfee00000), null);
  assert.equal(b.mmio.regionAt(0xfec00000), null);
  assert.equal(b.apic, null);
});

test("the APIC board: APIC base MSR value, the two pages, the MP table after power-on", () => {
  const b = board(true);
  assert.equal(b.core.runPage[L.RUN_APIC_BASE >> 2]! >>> 0, 0xfee00900);
  assert.equal(b.mmio.regionAt(0xfee00030)!.name, "lapic");
  assert.equal(b.mmio.regionAt(0xfec00010)!.name, "ioapic");
  assert.equal(b.mmio.read(0xfee00030, 4), 0x00050014, "LAPIC version through the bus");
  b.bootLinux({ kernel, cmdline: "console=ttyS0" });
  const { entries } = parseMpTables(b.core.ram);
  assert.ok(entries.some((e) => e.type === 2 && e.bytes[1] === 1 && new DataView(e.bytes.buffer).getUint32(4, true) === 0xfec00000));
});

test("COM1's IRQ4 reaches the CPU through I/O APIC pin 4 as the programmed vector", () => {
  const b = board(true);
  const rp = b.core.runPage;
  // As Linux does in APIC mode: the 8259 initialized and fully masked, so only the I/O APIC speaks.
  for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0xff]] as const) b.ports.write(p, 1, v);
  b.mmio.write(0xfec00000 + IOREGSEL, 4, IOREDTBL + 2 * 4);
  b.mmio.write(0xfec00000 + IOWIN, 4, 0x44); // vector 0x44, fixed, edge, unmasked
  b.ports.write(0x3fc, 1, 0x08); // MCR.OUT2: the UART's interrupt output reaches the line
  b.ports.write(0x3f9, 1, 0x02); // IER: THR empty
  assert.equal(rp[L.RUN_INTR >> 2], 1);
  assert.equal(b.apic!.lapic.intack(), 0x44);
  assert.equal(rp[L.RUN_INTR >> 2], 0);
});

test("virtual wire: with the I/O APIC untouched, the 8259's INTR arrives through LINT0 as ExtINT", () => {
  const b = board(true);
  const rp = b.core.runPage;
  // Initialize the master 8259 (ICW1–4, vector base 0x20) and unmask IRQ4 only.
  for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0xef]] as const) b.ports.write(p, 1, v);
  b.ports.write(0x3fc, 1, 0x08);
  b.ports.write(0x3f9, 1, 0x02);
  assert.equal(rp[L.RUN_INTR >> 2], 1);
  assert.equal(b.apic!.lapic.intack(), 0x24, "the 8259's vector for IRQ4");
});

test("an MSI-X message from a virtio-pci device becomes a LAPIC interrupt", () => {
  const b = board(true, [{ type: "rng", transport: "pci-modern", irq: "msix" }]);
  b.firmware();
  const rp = b.core.runPage;
  const d = b.virtio[0]!;
  const bar = (n: number) => d.info().regions.find((r) => r.name === `BAR${n}`)!.base!;
  const fn = b.pci.functionAt(1, 0)!;
  let cap = fn.get(PCI_CAP_PTR, 1);
  while (cap && fn.get(cap, 1) !== 0x11) cap = fn.get(cap + 1, 1);
  assert.ok(cap, "an MSI-X capability");
  b.mmio.write(bar(1) + 0, 4, 0xfee00000); // table entry 0: address, data, unmasked
  b.mmio.write(bar(1) + 8, 4, 0x61);
  b.mmio.write(bar(1) + 12, 4, 0);
  fn.writeConfig(cap + 2, 2, 0x8000); // MSI-X Enable
  b.mmio.write(bar(4) + 16, 2, 0); // common cfg config_msix_vector = 0
  assert.equal(b.mmio.read(bar(4) + 16, 2), 0);
  assert.equal(d.transport.msi!.config(), true);
  assert.equal(rp[L.RUN_INTR >> 2], 1);
  assert.equal(b.apic!.lapic.intack(), 0x61);
});
