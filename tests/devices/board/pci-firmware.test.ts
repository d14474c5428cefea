import { test } from "node:test";
import assert from "node:assert/strict";
import { PciHost, PciFunction, PCI_COMMAND, CMD_IO, CMD_MEMORY, CMD_MASTER } from "../../../devices/pci-host.ts";
import { assignPci } from "../../../devices/board/pci-firmware.ts";
import { PicPair } from "../../../devices/i8259.ts";
import { busWith } from "../helpers.ts";

function virtioLike(name: string, pin: number, maps: string[]) {
  return new PciFunction({
    name, vendorId: 0x1af4, deviceId: 0x1000, classCode: 0x020000, interruptPin: pin,
    bars: [
      { index: 0, kind: "io", size: 0x40 },
      { index: 1, kind: "mem32", size: 0x1000 },
      { index: 4, kind: "mem64", size: 0x4000, prefetchable: true },
    ],
    onBarMap: (bar, base) => maps.push(`${name}.${bar}@${base === null ? "off" : base.toString(16)}`),
  });
}

test("firmware assigns naturally aligned BARs below 4 GiB, biggest first, and enables decoding + bus mastering", () => {
  const host = new PciHost();
  const maps: string[] = [];
  const a = virtioLike("a", 1, maps), b = virtioLike("b", 1, maps);
  const big = new PciFunction({ name: "big", vendorId: 1, deviceId: 2, classCode: 0x030000, bars: [{ index: 0, kind: "mem32", size: 0x100_0000, prefetchable: true }, { index: 1, kind: "io", size: 0x100 }] });
  host.add(1, 0, a); host.add(2, 0, b); host.add(3, 0, big);
  const out = assignPci(host, { setIrq: () => {}, setLevelTriggered: () => {} });
  const bars = out.flatMap((d) => d.bars.map((x) => ({ ...x, name: d.name })));
  for (const x of bars) {
    assert.equal(x.base % x.size, 0, `${x.name} BAR${x.index} aligned`);
    if (x.kind === "io") assert.ok(x.base >= 0xc000 && x.base + x.size <= 0x10000);
    else assert.ok(x.base >= 0xe000_0000 && x.base + x.size <= 0xfec0_0000);
  }
  // No two BARs overlap.
  for (const x of bars) for (const y of bars) {
    if (x !== y && x.kind === "io" === (y.kind === "io")) assert.ok(x.base + x.size <= y.base || y.base + y.size <= x.base);
  }
  assert.equal(big.barAddress(0), 0xe000_0000, "the biggest BAR goes first");
  assert.equal(big.barAddress(1), 0xc000);
  assert.equal(a.get(0x24, 4), 0, "64-bit BAR high half is 0: below 4 GiB");
  for (const f of [a, b]) assert.equal(f.get(PCI_COMMAND, 2) & 7, CMD_IO | CMD_MEMORY | CMD_MASTER);
  assert.equal(maps.length, 6, "each BAR reported mapped exactly once, after its final address is set");
  assert.ok(maps.every((m) => !m.endsWith("@off")));
});

test("INTx routing: slot swizzle onto PIRQ A-D -> IRQ 10, 11, 10, 11; line register, ELCR level, shared lines", () => {
  const host = new PciHost();
  const maps: string[] = [];
  const d1 = virtioLike("d1", 1, maps); // slot 1 INTA -> PIRQB -> 11
  const d2 = virtioLike("d2", 1, maps); // slot 2 INTA -> PIRQC -> 10
  const d3 = virtioLike("d3", 2, maps); // slot 3 INTB -> PIRQA -> 10
  const d4 = new PciFunction({ name: "noint", vendorId: 1, deviceId: 2, classCode: 0 });
  host.add(1, 0, d1); host.add(2, 0, d2); host.add(3, 0, d3); host.add(4, 0, d4);
  const intr: boolean[] = [];
  const pic = new PicPair({ onIntr: (l) => intr.push(l) });
  const io = busWith(pic.ports);
  const out = assignPci(host, { setIrq: (i, l) => pic.setIrq(i, l), setLevelTriggered: (i) => pic.setLevelTriggered(i) });
  assert.deepEqual(out.map((d) => [d.name, d.irq]), [["d1", 11], ["d2", 10], ["d3", 10], ["noint", null]]);
  assert.equal(d1.get(0x3c, 1), 11);
  assert.equal(d2.get(0x3c, 1), 10);
  assert.equal(d4.get(0x3c, 1), 0);
  assert.equal(io.inb(0x4d1), 0x0c, "IRQ10 and IRQ11 level-triggered");
  // Linux-style init, then the shared IRQ10 line is a wired-OR of d2 and d3.
  io.outb(0x20, 0x11); io.outb(0x21, 0x30); io.outb(0x21, 0x04); io.outb(0x21, 0x01);
  io.outb(0xa0, 0x11); io.outb(0xa1, 0x38); io.outb(0xa1, 0x02); io.outb(0xa1, 0x01);
  d2.setIntx(true);
  d3.setIntx(true);
  assert.equal(pic.intack(), 0x3a);
  d2.setIntx(false); // d3 still asserts
  io.outb(0xa0, 0x62); io.outb(0x20, 0x62);
  assert.equal(pic.intack(), 0x3a, "line stays up while d3 asserts");
  d3.setIntx(false);
  io.outb(0xa0, 0x62); io.outb(0x20, 0x62);
  assert.equal(pic.intrLevel, false);
});

test("firmware leaves the host bridge alone and reports what it could not place", () => {
  const host = new PciHost();
  const logs: string[] = [];
  host.add(1, 0, new PciFunction({ name: "huge", vendorId: 1, deviceId: 2, classCode: 0, bars: [{ index: 0, kind: "mem32", size: 0x8000_0000 }] }));
  const out = assignPci(host, { setIrq: () => {}, setLevelTriggered: () => {}, log: (m) => logs.push(m) });
  assert.equal(out.length, 1);
  assert.deepEqual(out[0]!.bars, []);
  assert.match(logs[0]!, /no memory space for huge BAR0/);
  assert.equal(host.functionAt(0, 0)!.get(0x3c, 1), 0);
});
