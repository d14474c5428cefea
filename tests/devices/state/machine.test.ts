// A whole board through the state format (devices/state/machine.ts, file.ts, snapshot.ts) without
// booting: every component's table names real state (a board saved, loaded into a fresh one and
// saved again gives the same bytes), what the guest programmed comes back (PIC mask, PIT count,
// CMOS RAM, a PCI BAR the guest moved, RAM, registers), and a board of another shape refuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as L from "../../../core-wasm/build/layout.ts";
import { CORE_BUILD_ID } from "../../../core-wasm/build/build-id.ts";
import { readStateFile, writeStateFile } from "../../../devices/state/file.ts";
import { loadMachine, saveMachine } from "../../../devices/state/machine.ts";
import { StateError } from "../../../devices/state/wire.ts";
import { DEVICES, makeBoard } from "./helpers.ts";

const file = (b: ReturnType<typeof makeBoard>) => writeStateFile(CORE_BUILD_ID, saveMachine(b));

test("save → load into a fresh board → save gives the same file", () => {
  const a = makeBoard();
  const first = file(a);
  const b = makeBoard();
  loadMachine(b, readStateFile(first, CORE_BUILD_ID));
  assert.deepEqual(file(b), first);
});

test("what the guest programmed comes back: chips, a moved BAR, RAM, registers", () => {
  const a = makeBoard();
  a.ports.write(0x21, 1, 0xa5); // PIC master IMR (OCW1)
  a.ports.write(0x70, 1, 0x40); a.ports.write(0x71, 1, 0x5a); // CMOS RAM 0x40
  const bar = a.virtio[0]!.pci!.fn;
  const BAR4 = 0x10 + 4 * 4; // the modern BAR (64-bit, index 4)
  const before = bar.barBase(4);
  assert.ok(before !== null);
  bar.writeConfig(BAR4, 4, 0xe800_0000); // the guest moves it
  a.core.ram.set([1, 2, 3, 4], 0x12345);
  a.core.exports.setReg(0, 0xcafe_f00d);
  a.core.exports.setReg(18, 0x5000); // CR3
  const b = makeBoard();
  loadMachine(b, readStateFile(file(a), CORE_BUILD_ID));
  assert.equal(b.ports.read(0x21, 1), 0xa5);
  b.ports.write(0x70, 1, 0x40);
  assert.equal(b.ports.read(0x71, 1), 0x5a);
  const moved = b.virtio[0]!.pci!.fn;
  assert.equal(moved.barBase(4), 0xe800_0000, "the restored BAR decodes where the guest put it");
  assert.deepEqual([...b.core.ram.subarray(0x12345, 0x12349)], [1, 2, 3, 4]);
  assert.equal(b.core.exports.getReg(0) >>> 0, 0xcafe_f00d);
  assert.equal(b.core.exports.getReg(18) >>> 0, 0x5000);
  assert.equal(b.core.runPage[L.RUN_APIC_BASE >> 2], a.core.runPage[L.RUN_APIC_BASE >> 2]);
});

test("a board of another shape refuses the state, naming what differs", () => {
  const sections = readStateFile(file(makeBoard()), CORE_BUILD_ID);
  assert.throws(() => loadMachine(makeBoard(DEVICES.slice(1)), sections), (e: Error) => e instanceof StateError && /component|lacks/.test(e.message));
  assert.throws(() => loadMachine(makeBoard(DEVICES, 32), sections), /RAM: the state has 16 MiB of RAM, the board 32 MiB/);
});

test("local APIC registers the guest set with bit 31 (flat DFR, a broadcast ICR) save and load", () => {
  const a = makeBoard();
  const lapic = a.apic!.lapic;
  lapic.write(0x0e0, 0xffff_ffff); // DFR: flat model, as Linux writes it
  lapic.write(0x0d0, 0x8100_0000); // LDR
  lapic.write(0x310, 0xff00_0000); // ICR high: destination 0xff
  const b = makeBoard();
  loadMachine(b, readStateFile(file(a), CORE_BUILD_ID));
  assert.deepEqual([0x0e0, 0x0d0, 0x310].map((r) => b.apic!.lapic.read(r) >>> 0), [0xffff_ffff, 0x8100_0000, 0xff00_0000]);
});
