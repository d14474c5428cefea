// Expectations from the PCI Local Bus Specification 3.0 (§3.2.2.3.2 configuration mechanism
// #1, §6.1 header, §6.2.5.1 BAR sizing, §6.7 capabilities) and Linux 6.1
// arch/x86/pci/direct.c (pci_check_type1, pci_sanity_check, pci_conf1_read/write).
import { test } from "node:test";
import assert from "node:assert/strict";
import { PciHost, PciFunction, attachBars, CMD_IO, CMD_MEMORY, CMD_INTX_DISABLE, STATUS_INTERRUPT } from "../../devices/pci-host.ts";
import { PortBus } from "../../devices/bus/ports.ts";
import { MmioBus } from "../../devices/bus/mmio.ts";
import { busWith } from "./helpers.ts";

const addr = (dev: number, fn: number, reg: number, bus = 0) => (0x8000_0000 | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xfc)) >>> 0;

function setup() {
  const host = new PciHost();
  const io = busWith(host.ports);
  const cfgRead = (dev: number, fn: number, reg: number, len: 1 | 2 | 4) => {
    io.outl(0xcf8, addr(dev, fn, reg));
    return len === 1 ? io.inb(0xcfc + (reg & 3)) : len === 2 ? io.inw(0xcfc + (reg & 2)) : io.inl(0xcfc);
  };
  const cfgWrite = (dev: number, fn: number, reg: number, len: 1 | 2 | 4, v: number) => {
    io.outl(0xcf8, addr(dev, fn, reg));
    if (len === 1) io.outb(0xcfc + (reg & 3), v); else if (len === 2) io.outw(0xcfc + (reg & 2), v); else io.outl(0xcfc, v);
  };
  return { host, io, cfgRead, cfgWrite };
}

test("Linux pci_check_type1: byte write to 0xCFB is not a config-address write; 0xCF8 reads back 0x80000000", () => {
  const { io, cfgRead } = setup();
  io.outb(0xcfb, 0x01);
  const tmp = io.inl(0xcf8);
  io.outl(0xcf8, 0x8000_0000);
  assert.equal(io.inl(0xcf8), 0x8000_0000);
  io.outl(0xcf8, tmp);
  assert.equal(io.inl(0xcf8), tmp);
  // pci_sanity_check: some devfn on bus 0 is a host bridge (class 0x0600) or Intel.
  assert.equal(cfgRead(0, 0, 0x0a, 2), 0x0600);
  assert.equal(cfgRead(0, 0, 0x00, 2), 0x8086);
});

test("0xCF9 reset control (Linux reboot=pci): bit 2 rising requests a reset; byte I/O at 0xCF8-0xCFB is not CONFIG_ADDRESS", () => {
  let resets = 0;
  const host = new PciHost({ requestReset: () => resets++ });
  const io = busWith(host.ports);
  io.outl(0xcf8, 0x8000_0010);
  io.outb(0xcf9, 0x02);
  assert.equal(resets, 0);
  io.outb(0xcf9, 0x06);
  assert.equal(resets, 1);
  assert.equal(io.inb(0xcf9), 0x02);
  assert.equal(io.inl(0xcf8), 0x8000_0010, "unchanged by byte writes");
  assert.equal(io.inw(0xcfa), 0xffff);
  assert.equal(io.stats().regions[0]!.rejected, 0);
});

test("host bridge: 8086:1237, class 060000, header type 0", () => {
  const { cfgRead } = setup();
  assert.equal(cfgRead(0, 0, 0, 4), 0x1237_8086);
  assert.equal(cfgRead(0, 0, 0x08, 4) >>> 8, 0x060000);
  assert.equal(cfgRead(0, 0, 0x0e, 1), 0x00);
});

test("empty slots, other buses and a cleared enable bit read all-ones (master abort)", () => {
  const { io, cfgRead } = setup();
  assert.equal(cfgRead(5, 0, 0, 4), 0xffff_ffff);
  io.outl(0xcf8, addr(0, 0, 0, 1));
  assert.equal(io.inl(0xcfc), 0xffff_ffff);
  io.outl(0xcf8, 0x0000_0000);
  assert.equal(io.inw(0xcfc), 0xffff);
  io.outl(0xcf8, 0x7f00_0003);
  assert.equal(io.inl(0xcf8), 0x0000_0000, "reserved bits 30:24 and 1:0 read as 0");
});

test("byte, word and dword config accesses at every offset see the same little-endian bytes", () => {
  const { host, cfgRead } = setup();
  host.add(3, 0, new PciFunction({ name: "d", vendorId: 0x1af4, deviceId: 0x1000, classCode: 0x020000, revision: 0x01, subsystemVendorId: 0x1af4, subsystemId: 0x0001, interruptPin: 1 }));
  assert.equal(cfgRead(3, 0, 0, 4), 0x1000_1af4);
  assert.equal(cfgRead(3, 0, 2, 2), 0x1000);
  assert.equal(cfgRead(3, 0, 1, 1), 0x1a);
  assert.equal(cfgRead(3, 0, 3, 1), 0x10);
  assert.equal(cfgRead(3, 0, 0x08, 4), 0x0200_0001);
  assert.equal(cfgRead(3, 0, 0x2c, 4), 0x0001_1af4);
  assert.equal(cfgRead(3, 0, 0x3d, 1), 1);
});

test("write masks: ids and class are read-only; command, latency, interrupt line are writable; status bits RW1C", () => {
  const { host, cfgRead, cfgWrite } = setup();
  const f = new PciFunction({ name: "d", vendorId: 0x1234, deviceId: 0x5678, classCode: 0xff0000 });
  host.add(2, 0, f);
  cfgWrite(2, 0, 0, 4, 0xffff_ffff);
  assert.equal(cfgRead(2, 0, 0, 4), 0x5678_1234);
  cfgWrite(2, 0, 0x3c, 1, 11);
  assert.equal(cfgRead(2, 0, 0x3c, 1), 11);
  cfgWrite(2, 0, 0x04, 2, 0xffff);
  assert.equal(cfgRead(2, 0, 0x04, 2), 0x0547);
  f.put(0x06, 2, 0x2000); // device signals "received master abort"
  cfgWrite(2, 0, 0x06, 2, 0x0000);
  assert.equal(cfgRead(2, 0, 0x06, 2), 0x2000, "writing 0 leaves it");
  cfgWrite(2, 0, 0x06, 2, 0x2000);
  assert.equal(cfgRead(2, 0, 0x06, 2), 0x0000, "writing 1 clears it");
});

test("BAR sizing: all-ones reads back the size mask with the type bits (I/O, mem32 prefetchable, mem64)", () => {
  const { host, cfgRead, cfgWrite } = setup();
  host.add(4, 0, new PciFunction({
    name: "d", vendorId: 0x1af4, deviceId: 0x1041, classCode: 0x020000,
    bars: [
      { index: 0, kind: "io", size: 0x40 },
      { index: 1, kind: "mem32", size: 0x1000 },
      { index: 2, kind: "mem32", size: 0x10_0000, prefetchable: true },
      { index: 4, kind: "mem64", size: 0x4000, prefetchable: true },
    ],
  }));
  const size = (reg: number) => { const old = cfgRead(4, 0, reg, 4); cfgWrite(4, 0, reg, 4, 0xffff_ffff); const v = cfgRead(4, 0, reg, 4); cfgWrite(4, 0, reg, 4, old); return v; };
  assert.equal(size(0x10), 0x0000_ffc1, "I/O, 64 bytes (16-bit decoder)");
  assert.equal(size(0x14), 0xffff_f000, "mem32, 4 KiB");
  assert.equal(size(0x18), 0xfff0_0008, "mem32 prefetchable, 1 MiB");
  assert.equal(size(0x1c), 0x0000_0000, "unimplemented BAR is 0");
  assert.equal(size(0x20), 0xffff_c00c, "mem64 prefetchable low half");
  assert.equal(size(0x24), 0xffff_ffff, "mem64 high half, all writable");
  cfgWrite(4, 0, 0x14, 4, 0xe123_4567);
  assert.equal(cfgRead(4, 0, 0x14, 4), 0xe123_4000, "address bits below the size are 0");
});

test("BAR mapping callback: fires on decode enable, move and disable; 64-bit above 4 GiB is unmapped", () => {
  const { host, cfgWrite } = setup();
  const events: string[] = [];
  host.add(5, 0, new PciFunction({
    name: "d", vendorId: 1, deviceId: 2, classCode: 0,
    bars: [{ index: 0, kind: "io", size: 0x20 }, { index: 2, kind: "mem64", size: 0x1000 }],
    onBarMap: (bar, base) => events.push(`${bar}:${base === null ? "off" : base.toString(16)}`),
  }));
  cfgWrite(5, 0, 0x10, 4, 0xc020);
  cfgWrite(5, 0, 0x18, 4, 0xe000_0000);
  assert.deepEqual(events, [], "decoding still off");
  cfgWrite(5, 0, 0x04, 2, CMD_IO | CMD_MEMORY);
  assert.deepEqual(events, ["0:c020", "2:e0000000"]);
  cfgWrite(5, 0, 0x18, 4, 0xe010_0000);
  cfgWrite(5, 0, 0x1c, 4, 0x1);
  cfgWrite(5, 0, 0x1c, 4, 0x0);
  assert.deepEqual(events.slice(2), ["2:e0100000", "2:off", "2:e0100000"]);
  cfgWrite(5, 0, 0x04, 2, CMD_MEMORY);
  assert.deepEqual(events.slice(5), ["0:off"]);
});

test("capability list: pointer at 0x34, status bit 4, chained next pointers", () => {
  const { host, cfgRead } = setup();
  const f = new PciFunction({ name: "d", vendorId: 1, deviceId: 2, classCode: 0 });
  const a = f.addCapability(0x09, 16); // vendor-specific
  const b = f.addCapability(0x11, 12); // MSI-X
  host.add(6, 0, f);
  assert.equal(cfgRead(6, 0, 0x06, 2) & 0x10, 0x10);
  assert.equal(cfgRead(6, 0, 0x34, 1), a);
  assert.equal(cfgRead(6, 0, a, 1), 0x09);
  assert.equal(cfgRead(6, 0, a + 1, 1), b);
  assert.equal(cfgRead(6, 0, b, 2), 0x0011);
  assert.equal(a, 0x40);
  assert.equal(b % 4, 0);
});

test("INTx: status bit 3 follows the pin; command bit 10 masks the line", () => {
  const { host, cfgRead, cfgWrite } = setup();
  const f = new PciFunction({ name: "d", vendorId: 1, deviceId: 2, classCode: 0, interruptPin: 1 });
  host.add(7, 0, f);
  const line: boolean[] = [];
  f.setIntxSink((l) => line.push(l));
  f.setIntx(true);
  assert.deepEqual(line, [true]);
  assert.equal(cfgRead(7, 0, 0x06, 2) & STATUS_INTERRUPT, STATUS_INTERRUPT);
  cfgWrite(7, 0, 0x04, 2, CMD_INTX_DISABLE);
  assert.deepEqual(line, [true, false]);
  assert.equal(cfgRead(7, 0, 0x06, 2) & STATUS_INTERRUPT, STATUS_INTERRUPT, "status still shows the pending interrupt");
  cfgWrite(7, 0, 0x04, 2, 0);
  assert.deepEqual(line, [true, false, true]);
  f.setIntx(false);
  assert.deepEqual(line, [true, false, true, false]);
  assert.equal(cfgRead(7, 0, 0x06, 2) & STATUS_INTERRUPT, 0);
});

test("multi-function: function 0 gets header type bit 7; owner hooks see reads and writes", () => {
  const { host, cfgRead, cfgWrite } = setup();
  const f0 = new PciFunction({ name: "f0", vendorId: 1, deviceId: 2, classCode: 0 });
  const f1 = new PciFunction({ name: "f1", vendorId: 1, deviceId: 3, classCode: 0 });
  host.add(8, 0, f0);
  host.add(8, 1, f1);
  assert.equal(cfgRead(8, 0, 0x0e, 1), 0x80);
  const seen: string[] = [];
  f1.setWriteMask(0x40, 4, 0xffff_ffff);
  f1.onConfigWrite = (o, w, v) => seen.push(`w${o}/${w}=${v}`);
  f1.onConfigRead = (o, w) => { seen.push(`r${o}/${w}`); f1.put(0x44, 4, 0xabcd); };
  cfgWrite(8, 1, 0x41, 1, 7);
  assert.equal(cfgRead(8, 1, 0x44, 4), 0xabcd);
  assert.deepEqual(seen, ["w65/1=7", "r68/4"]);
  assert.equal(host.list().map((s) => `${s.device}.${s.fn}`).join(","), "0.0,8.0,8.1");
});

test("bad BAR specs are refused when the device is built (a programming error, not a guest one)", () => {
  assert.throws(() => new PciFunction({ name: "x", vendorId: 1, deviceId: 1, classCode: 0, bars: [{ index: 0, kind: "mem32", size: 0x1800 }] }));
  assert.throws(() => new PciFunction({ name: "x", vendorId: 1, deviceId: 1, classCode: 0, bars: [{ index: 5, kind: "mem64", size: 0x1000 }] }));
  assert.throws(() => new PciFunction({ name: "x", vendorId: 1, deviceId: 1, classCode: 0, bars: [{ index: 0, kind: "mem64", size: 0x1000 }, { index: 1, kind: "io", size: 4 }] }));
});

test("attachBars keeps a device's regions mapped where its BARs decode", () => {
  const ports = new PortBus(), mmio = new MmioBus();
  const { host, cfgWrite } = setup();
  const f = new PciFunction({ name: "v", vendorId: 0x1af4, deviceId: 0x1000, classCode: 0, bars: [{ index: 0, kind: "io", size: 0x20 }, { index: 1, kind: "mem32", size: 0x1000 }] });
  const ioRegion = { name: "v-io", base: 0, size: 0x20, widths: 7, read: (o: number) => 0x10 + o, write: () => {} };
  const memRegion = { name: "v-mem", base: 0, size: 0x1000, widths: 7, read: (o: number) => 0x20 + o, write: () => {} };
  const logs: string[] = [];
  attachBars(f, [ioRegion, memRegion], ports, mmio, (m) => logs.push(m));
  host.add(3, 0, f);
  cfgWrite(3, 0, 0x10, 4, 0xc040);
  cfgWrite(3, 0, 0x14, 4, 0xe000_1000);
  assert.equal(ports.read(0xc041, 1), 0xff, "not decoding yet");
  cfgWrite(3, 0, 0x04, 2, CMD_IO | CMD_MEMORY);
  assert.equal(ports.read(0xc041, 1), 0x11);
  assert.equal(mmio.read(0xe000_1002, 1), 0x22);
  cfgWrite(3, 0, 0x10, 4, 0xc080); // the guest moves the I/O BAR
  assert.equal(ports.read(0xc041, 1), 0xff);
  assert.equal(ports.read(0xc081, 1), 0x11);
  ports.register({ name: "other", base: 0xc100, size: 4, widths: 7, read: () => 0, write: () => {} });
  cfgWrite(3, 0, 0x10, 4, 0xc100); // onto another device: left unmapped, logged
  assert.equal(ports.regionAt(0xc100)!.name, "other");
  assert.equal(logs.length, 1);
  cfgWrite(3, 0, 0x04, 2, 0);
  assert.equal(mmio.read(0xe000_1002, 1), 0xff);
});
