import { test } from "node:test";
import assert from "node:assert/strict";
import { PortBus } from "../../../devices/bus/ports.ts";
import { W1, W2, W4, W_ANY, type Region, type Width } from "../../../devices/bus/region.ts";

/** A region that records every access it receives and reads back `value(offset)`. */
function recorder(name: string, base: number, size: number, widths: number) {
  const log: string[] = [];
  const region: Region = {
    name, base, size, widths,
    read: (off: number, w: Width) => { log.push(`r${w}@${off}`); return 0x44332211 >>> 0 >>> (8 * (off & 3)) ; },
    write: (off: number, w: Width, v: number) => { log.push(`w${w}@${off}=${v.toString(16)}`); },
  };
  return { region, log };
}

test("unclaimed ports read all-ones at every width and drop writes, counted per port", () => {
  const bus = new PortBus();
  assert.equal(bus.read(0x2e, 1), 0xff);
  assert.equal(bus.read(0x2e, 2), 0xffff);
  assert.equal(bus.read(0x2e, 4), 0xffff_ffff);
  bus.write(0x4e, 1, 0x55);
  const s = bus.stats();
  assert.deepEqual(s.unknown, [{ port: 0x2e, reads: 3, writes: 0 }, { port: 0x4e, reads: 0, writes: 1 }]);
});

test("an accepted width goes straight to the region with the offset from its base", () => {
  const { region, log } = recorder("dev", 0x100, 8, W_ANY);
  const bus = new PortBus();
  bus.register(region);
  bus.write(0x104, 4, 0xdeadbeef);
  assert.equal(bus.read(0x101, 1), 0x22);
  assert.deepEqual(log, ["w4@4=deadbeef", "r1@1"]);
  assert.equal(bus.stats().regions[0]!.writes, 1);
});

test("a wider access to a byte-only region is split into byte accesses, low byte first", () => {
  const { region, log } = recorder("bytes", 0x60, 4, W1);
  const bus = new PortBus();
  bus.register(region);
  assert.equal(bus.read(0x60, 4), 0x44332211);
  bus.write(0x60, 2, 0xabcd);
  assert.deepEqual(log, ["r1@0", "r1@1", "r1@2", "r1@3", "w1@0=cd", "w1@1=ab"]);
  assert.ok(bus.stats().regions[0]!.split >= 1);
});

test("a narrower access to a dword-only region is rejected: all-ones, write dropped, counted and logged", () => {
  const { region, log } = recorder("cf8", 0xcf8, 4, W4);
  const messages: string[] = [];
  const bus = new PortBus((m) => messages.push(m));
  bus.register(region);
  bus.write(0xcfb, 1, 0x01);
  assert.equal(bus.read(0xcf8, 2), 0xffff);
  assert.deepEqual(log, []);
  assert.equal(bus.stats().regions[0]!.rejected, 2);
  assert.equal(messages.length, 2);
  assert.match(messages[0]!, /cf8 rejects 1-byte write at 0xcfb/);
});

test("an access running past a region's end is split across the neighbour", () => {
  const a = recorder("a", 0x10, 2, W_ANY);
  const b = recorder("b", 0x12, 2, W_ANY);
  const bus = new PortBus();
  bus.register(a.region);
  bus.register(b.region);
  bus.read(0x11, 2);
  assert.deepEqual(a.log, ["r1@1"]);
  assert.deepEqual(b.log, ["r1@0"]);
  // Half in a region, half unclaimed: the unclaimed half reads all-ones.
  const c = recorder("c", 0x20, 1, W_ANY);
  bus.register(c.region);
  assert.equal(bus.read(0x20, 2), 0xff11);
});

test("word-only regions split dwords into words, not bytes", () => {
  const { region, log } = recorder("words", 0x1f0, 8, W2);
  const bus = new PortBus();
  bus.register(region);
  bus.read(0x1f0, 4);
  assert.deepEqual(log, ["r2@0", "r2@2"]);
  bus.read(0x1f0, 1);
  assert.equal(bus.stats().regions[0]!.rejected, 1);
});

test("overlapping registrations throw; unregister frees the ports; a base override relocates", () => {
  const bus = new PortBus();
  const a = recorder("a", 0x3f8, 8, W1);
  bus.register(a.region);
  assert.throws(() => bus.register(recorder("b", 0x3fc, 2, W1).region), /overlaps/);
  bus.unregister(a.region);
  assert.equal(bus.read(0x3f8, 1), 0xff);
  assert.ok(bus.isFree(0x3f8, 8));
  bus.register(a.region, 0xc000); // e.g. a PCI I/O BAR
  bus.read(0xc003, 1);
  assert.deepEqual(a.log, ["r1@3"]);
  assert.equal(bus.regionAt(0xc007)!.name, "a");
  assert.equal(bus.stats().regions[0]!.base, 0xc000);
});

test("describe() names the device register behind a port, for traces", () => {
  const bus = new PortBus();
  bus.register({ name: "uart", base: 0x3f8, size: 8, widths: W1, read: () => 0, write: () => {}, registers: [{ offset: 5, name: "LSR" }] });
  bus.register({ name: "post", base: 0x80, size: 1, widths: W1, read: () => 0, write: () => {} });
  assert.equal(bus.describe(0x3fd), "uart.LSR");
  assert.equal(bus.describe(0x3f9), "uart+0x1");
  assert.equal(bus.describe(0x80), "post");
  assert.equal(bus.describe(0x2e), "port 0x2e");
});
