import { test } from "node:test";
import assert from "node:assert/strict";
import { MmioBus } from "../../../devices/bus/mmio.ts";
import { W4, W_ANY, type Region, type Width } from "../../../devices/bus/region.ts";

function regs(name: string, size: number, widths: number): Region & { log: string[]; mem: Uint8Array } {
  const mem = new Uint8Array(size);
  const log: string[] = [];
  return {
    name, base: 0, size, widths, log, mem,
    read(off: number, w: Width) {
      log.push(`r${w}@${off.toString(16)}`);
      let v = 0;
      for (let i = w - 1; i >= 0; i--) v = (v << 8) | mem[off + i]!;
      return v >>> 0;
    },
    write(off: number, w: Width, v: number) {
      log.push(`w${w}@${off.toString(16)}`);
      for (let i = 0; i < w; i++) mem[off + i] = (v >>> (8 * i)) & 0xff;
    },
  };
}

test("unclaimed physical addresses read all-ones and are counted", () => {
  const bus = new MmioBus();
  assert.equal(bus.read(0xfee0_0000, 4), 0xffff_ffff);
  assert.equal(bus.read(0xfee0_0000, 1), 0xff);
  bus.write(0xd000_0000, 4, 1);
  const s = bus.stats();
  assert.equal(s.unclaimedReads, 2);
  assert.equal(s.unclaimedWrites, 1);
  assert.deepEqual(s.unclaimedRecent, [0xfee0_0000, 0xd000_0000]);
});

test("regions map, move and unmap at run time, as PCI BARs do", () => {
  const bus = new MmioBus();
  const r = regs("bar0", 0x1000, W_ANY);
  assert.ok(bus.map(r, 0xe000_0000));
  bus.write(0xe000_0010, 4, 0x12345678);
  assert.equal(bus.read(0xe000_0010, 4), 0x12345678);
  assert.ok(bus.map(r, 0xe010_0000)); // move
  assert.equal(bus.read(0xe000_0010, 4), 0xffff_ffff);
  assert.equal(bus.read(0xe010_0010, 2), 0x5678);
  assert.equal(bus.baseOf(r), 0xe010_0000);
  bus.unmap(r);
  assert.equal(bus.read(0xe010_0010, 4), 0xffff_ffff);
  assert.equal(bus.regionAt(0xe010_0010), null);
});

test("many mappings: the right one answers (binary search), including the top of the space", () => {
  const bus = new MmioBus();
  const all = Array.from({ length: 12 }, (_, i) => regs(`r${i}`, 0x200, W_ANY));
  all.forEach((r, i) => assert.ok(bus.map(r, 0xd000_0000 + i * 0x200)));
  const top = regs("top", 0x1000, W_ANY);
  assert.ok(bus.map(top, 0xffff_f000));
  for (let i = 11; i >= 0; i--) assert.equal(bus.regionAt(0xd000_0000 + i * 0x200 + 0x1ff)!.name, `r${i}`);
  assert.equal(bus.regionAt(0xffff_ffff)!.name, "top");
  assert.equal(bus.regionAt(0xd000_1800), null);
});

test("overlaps and ranges beyond 4 GiB are refused without throwing", () => {
  const logs: string[] = [];
  const bus = new MmioBus((m) => logs.push(m));
  const a = regs("a", 0x1000, W_ANY), b = regs("b", 0x1000, W_ANY);
  assert.ok(bus.map(a, 0xe000_0000));
  assert.equal(bus.map(b, 0xe000_0800), false);
  assert.equal(bus.map(b, 0xffff_f800), false);
  assert.equal(logs.length, 2);
  assert.equal(bus.read(0xe000_0800, 4), 0); // still a's
});

test("width rules: dword-only regions reject bytes; byte runs split; straddling the end splits", () => {
  const bus = new MmioBus();
  const v = regs("virtio-mmio", 0x100, W4);
  bus.map(v, 0xfeb0_0000);
  assert.equal(bus.read(0xfeb0_0000, 1), 0xff);
  bus.write(0xfeb0_0000, 2, 0);
  assert.deepEqual(v.log, []);
  assert.equal(bus.stats().regions[0]!.rejected, 2);
  const any = regs("cfg", 0x10, W_ANY);
  bus.map(any, 0xfeb1_0000);
  bus.read(0xfeb1_000e, 4); // last two bytes fall off the end: split into 2-byte halves
  assert.deepEqual(any.log, ["r2@e"]);
});
