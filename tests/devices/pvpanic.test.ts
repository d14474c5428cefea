// The pvpanic PCI device as QEMU's docs/specs/pvpanic.rst describes it and Linux 6.1's driver
// (drivers/misc/pvpanic/pvpanic-pci.c, pvpanic.c) uses it: PCI 1b36:0011, one byte in BAR0
// memory; a read gives the events the device knows (PANICKED bit 0, CRASH_LOADED bit 1), a
// write reports them, unknown bits ignored. On the board it takes the first free slot after the
// virtio devices, and a report stops the vCPU.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PvPanic } from "../../devices/pvpanic.ts";
import { PciHost, attachBars } from "../../devices/pci-host.ts";
import { PortBus } from "../../devices/bus/ports.ts";
import { MmioBus } from "../../devices/bus/mmio.ts";
import { assignPci } from "../../devices/board/pci-firmware.ts";
import { PcBoard } from "../../devices/board/pc.ts";
import * as L from "../../core-wasm/build/layout.ts";

const cfg = (ports: PortBus, dev: number, reg: number) => {
  ports.write(0xcf8, 4, (0x8000_0000 | (dev << 11) | reg) >>> 0);
  return ports.read(0xcfc, 4);
};

test("identity, BAR0 and the event register, as the Linux driver probes and uses them", () => {
  const events: number[] = [];
  const p = new PvPanic({ onEvent: (e) => events.push(e) });
  const host = new PciHost();
  const ports = new PortBus(() => {});
  const mmio = new MmioBus(() => {});
  ports.registerAll(host.ports);
  attachBars(p.fn, p.regions, ports, mmio);
  host.add(3, 0, p.fn);
  assignPci(host, { setIrq: () => {}, setLevelTriggered: () => {} });
  assert.equal(cfg(ports, 3, 0x00), 0x0011_1b36, "vendor 1b36 (Red Hat), device 0011");
  assert.equal(cfg(ports, 3, 0x08) >>> 8, 0x088000, "class: system peripheral, other");
  assert.equal(cfg(ports, 3, 0x3c) >>> 8 & 0xff, 0, "no interrupt pin");
  const bar = cfg(ports, 3, 0x10);
  assert.equal(bar & 0xf, 0, "a 32-bit memory BAR");
  // Sizing (PCI 3.0 §6.2.5.1): all-ones written, the size read back.
  ports.write(0xcf8, 4, (0x8000_0000 | (3 << 11) | 0x10) >>> 0);
  ports.write(0xcfc, 4, 0xffff_ffff);
  assert.equal(((~(ports.read(0xcfc, 4) & ~0xf)) + 1) >>> 0, 16);
  ports.write(0xcfc, 4, bar);

  assert.equal(p.armed, false);
  assert.equal(mmio.read(bar, 1), 0b11, "the driver's probe: PANICKED | CRASH_LOADED");
  assert.equal(p.armed, true);
  mmio.write(bar, 1, 0x80);
  mmio.write(bar, 1, 0);
  assert.deepEqual(events, [], "unknown bits and no bits are no event");
  mmio.write(bar, 1, 0x81);
  mmio.write(bar, 1, 2);
  assert.deepEqual(events, [1, 2]);
});

const module = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const board = (opts: Partial<ConstructorParameters<typeof PcBoard>[0]> = {}) =>
  new PcBoard({ module, ramBytes: 32 << 20, clock: "deterministic", onConsole: () => {}, ...opts });

test("on the board: the first free slot after the virtio devices; off with pvpanic: false", () => {
  const b = board({ virtio: [{ type: "rng", transport: "pci-modern" }, { type: "rng", transport: "mmio-v2" }, { type: "rng", transport: "pci-legacy" }] });
  assert.ok(b.pvpanic);
  assert.deepEqual(b.pci.list().map((s) => `${s.device}:${s.f.name}`), ["0:host-bridge", "1:virtio-rng0", "2:virtio-rng2", "3:pvpanic"]);
  assert.equal(board({ pvpanic: false }).pvpanic, null);
  assert.ok(!board({ pvpanic: false }).pci.list().some((s) => s.f.name === "pvpanic"));
});

test("a report records the events and asks the vCPU to stop", () => {
  const b = board();
  b.firmware();
  const base = b.pvpanic!.fn.barBase(0)!;
  assert.ok(base >= 0xe000_0000);
  assert.equal(b.panicEvents, 0);
  b.mmio.write(base, 1, 1);
  assert.equal(b.panicEvents, 1);
  assert.equal(b.core.runPage[L.RUN_REQUEST >> 2], L.EXIT_STOP);
});
