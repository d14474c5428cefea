// The transports with a dummy device (docs/ARCHITECTURE.md "Tests"): every register of virtio-mmio v1/v2 and of
// virtio-pci legacy/modern/transitional, access widths, the status table, ISR/INTx, and the
// legacy device-config shift when MSI-X is enabled.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { MmioBus } from "../../../devices/bus/mmio.ts";
import { MMIO_MAGIC, MMIO_VENDOR_ID, VirtioMmio } from "../../../devices/virtio/mmio.ts";
import { VirtioPci, LEGACY_CONFIG, LEGACY_CONFIG_MSIX } from "../../../devices/virtio/pci.ts";
import { ACKNOWLEDGE, DEVICE_NEEDS_RESET, DRIVER, DRIVER_OK, FAILED, FEATURES_OK, STATUS_TRANSITIONS, judgeStatus } from "../../../devices/virtio/status.ts";
import type { Width } from "../../../devices/bus/region.ts";
import { DummyDevice } from "./dummy-device.ts";

const A = ACKNOWLEDGE, D = DRIVER, F = FEATURES_OK, O = DRIVER_OK;

function mmio(version: 1 | 2) {
  const mem = new RamMemory(new Uint8Array(1 << 20));
  const dev = new DummyDevice();
  const logs: string[] = [];
  const irq: boolean[] = [];
  const m = new VirtioMmio(dev, { name: "d", version, base: 0xd0000000, irq: 5, mem, setIrq: (l) => void irq.push(l), log: (s) => void logs.push(s) });
  // Through the MMIO bus, which enforces the regions' widths (docs/ARCHITECTURE.md "Buses and the board").
  const busLogs: string[] = [];
  const bus = new MmioBus((s) => void busLogs.push(s));
  for (const reg of m.regions) bus.map(reg);
  const r = (o: number, w: Width = 4) => bus.read(0xd0000000 + o, w);
  const wr = (o: number, v: number, w: Width = 4) => bus.write(0xd0000000 + o, w, v);
  return { mem, dev, logs, irq, m, r, wr, busLogs, bus };
}

test("status table: every (from, to) pair over the 6 bits is judged as the table says", () => {
  const bits = [0, A, D, F, O, FAILED];
  const states = new Set<number>();
  for (let s = 0; s < 64; s++) states.add(bits.reduce((acc, b, i) => (s >> i) & 1 ? acc | b : acc, 0));
  let invalid = 0;
  for (const from of states) for (const to of states) for (const legacy of [false, true]) {
    const v = judgeStatus(from, to, legacy);
    const inTable = STATUS_TRANSITIONS.some((t) => t.from === from && t.to === to && (!t.legacyOnly || legacy));
    const expected = to === 0 ? "reset" : to === from ? "same"
      : (to & FAILED) ? ((to & ~FAILED & ~from) === 0 && !(from & FAILED) || (from & FAILED && (to & ~FAILED & ~from) === 0) ? "ok" : "invalid")
      : (from & FAILED) ? "invalid" : inTable ? "ok" : "invalid";
    assert.equal(v, expected, `${from} → ${to} legacy=${legacy}`);
    if (v === "invalid") invalid++;
  }
  assert.ok(invalid > 100);
  assert.equal(judgeStatus(A | D, A | D | O, false), "invalid", "modern drivers must pass FEATURES_OK");
  assert.equal(judgeStatus(A | D, A | D | O, true), "ok", "legacy drivers skip it");
  assert.equal(judgeStatus(A | DEVICE_NEEDS_RESET, A | D, false), "ok", "NEEDS_RESET is the device's bit");
});

test("mmio v2: identity registers, features, queue setup, notify, interrupt ack", () => {
  const { dev, irq, m, r, wr, logs } = mmio(2);
  assert.equal(r(0x000), MMIO_MAGIC);
  assert.equal(r(0x004), 2);
  assert.equal(r(0x008), 4);
  assert.equal(r(0x00c), MMIO_VENDOR_ID);
  wr(0x014, 0); assert.equal(r(0x010), (1 << 3) | (1 << 28) | (1 << 29));
  wr(0x014, 1); assert.equal(r(0x010), 0b101, "VERSION_1 (32) and RING_PACKED (34)");
  wr(0x014, 2); assert.equal(r(0x010), 0);
  wr(0x070, A); wr(0x070, A | D);
  wr(0x024, 0); wr(0x020, 1 << 3);
  wr(0x024, 1); wr(0x020, 1);
  wr(0x070, A | D | F);
  assert.equal(r(0x070), A | D | F);
  wr(0x030, 1); assert.equal(r(0x034), 8);
  wr(0x038, 4);
  wr(0x080, 0x1000); wr(0x084, 0); wr(0x090, 0x2000); wr(0x094, 0); wr(0x0a0, 0x3000); wr(0x0a4, 0);
  assert.equal(r(0x044), 0);
  wr(0x044, 1);
  assert.equal(r(0x044), 1);
  wr(0x080, 0x5000); assert.equal(m.t.queues[1]!.desc, 0x1000, "addresses are frozen once ready");
  wr(0x070, A | D | F | O);
  assert.equal(dev.activations, 1);
  assert.equal(m.t.features, (1n << 3n) | (1n << 32n));
  assert.equal(m.t.queues[1]!.ready, true);
  assert.equal(m.t.queues[1]!.size, 4);
  wr(0x050, 1);
  assert.deepEqual(dev.notified, [1]);
  wr(0x050, 0); // queue 0 never enabled: no notify
  assert.deepEqual(dev.notified, [1]);
  assert.equal(r(0x0b0), 0xffffffff, "no shared memory regions");
  assert.equal(r(0x0fc), 0);
  dev.ctx!.configChanged();
  assert.equal(r(0x0fc), 1);
  assert.equal(r(0x060), 2);
  assert.deepEqual(irq, [true]);
  wr(0x064, 2);
  assert.equal(r(0x060), 0);
  assert.deepEqual(irq, [true, false]);
  // config space at 0x100, any width
  assert.equal(r(0x100, 1), 0x11);
  assert.equal(r(0x102, 2), 0x4433);
  assert.equal(r(0x104, 4), 0x88776655);
  assert.equal(r(0x108, 4), 0, "past the device's config");
  wr(0x101, 0xab, 1);
  assert.deepEqual(dev.configWrites, [[1, 1, 0xab]]);
  // reset
  wr(0x070, 0);
  assert.equal(r(0x070), 0);
  assert.equal(dev.resets, 1);
  assert.equal(m.t.queues[1]!.enabled, false);
  assert.equal(logs.length, 0, logs.join("\n"));
});

test("mmio: registers take 32-bit accesses only (the bus rejects others); holes and version-specific registers are logged", () => {
  const { r, wr, logs, m, busLogs, bus } = mmio(2);
  assert.equal(r(0x000, 2), 0xffff, "rejected by the bus: all-ones");
  assert.equal(r(0x001, 1), 0xff);
  wr(0x070, 1, 1);
  assert.equal(m.t.status, 0);
  assert.equal(busLogs.length, 3);
  assert.equal(bus.stats().regions[0]!.rejected, 3);
  assert.equal(r(0x018), 0, "hole");
  assert.equal(m.t.stats.rejected, 1);
  // A direct call with a wrong width (bypassing the bus) is refused by the register table too.
  assert.equal(m.read(0x070, 2), 0);
  assert.equal(m.t.stats.rejected, 2);
  assert.equal(r(0x040), 0, "QueuePFN is v1 only");
  assert.equal(logs.length, 3);
  const v1 = mmio(1);
  assert.equal(v1.r(0x044), 0, "QueueReady is v2 only");
  assert.equal(v1.r(0x0fc), 0);
  assert.equal(v1.logs.length, 2);
});

test("mmio v1: GuestPageSize, QueueNum, QueueAlign, QueuePFN; a legacy driver skips FEATURES_OK", () => {
  const { r, wr, m, dev, logs } = mmio(1);
  assert.equal(r(0x004), 1);
  wr(0x014, 1); assert.equal(r(0x010), 0, "no VERSION_1 on a legacy transport");
  wr(0x028, 4096);
  wr(0x070, A); wr(0x070, A | D);
  wr(0x030, 0); wr(0x038, 16); wr(0x03c, 4096); wr(0x040, 0x10);
  assert.equal(r(0x040), 0x10);
  const q = m.t.queues[0]!;
  assert.equal(q.desc, 0x10000);
  assert.equal(q.driver, 0x10000 + 16 * 16);
  assert.equal(q.device, 0x11000);
  wr(0x070, A | D | O);
  assert.equal(r(0x070), A | D | O);
  assert.equal(dev.activations, 1);
  assert.equal(q.ready, true);
  wr(0x040, 0);
  assert.equal(q.enabled, false);
  assert.equal(logs.length, 0, logs.join("\n"));
});

test("mmio: every invalid status write is ignored and logged; FEATURES_OK refused without VERSION_1", () => {
  const { r, wr, logs } = mmio(2);
  wr(0x070, D); assert.equal(r(0x070), 0);
  wr(0x070, A | D | O); assert.equal(r(0x070), 0);
  wr(0x070, A); wr(0x070, A | D | O); assert.equal(r(0x070), A);
  wr(0x070, A | D); wr(0x070, A | D | F);
  assert.equal(r(0x070), A | D, "VERSION_1 not accepted: FEATURES_OK does not stick");
  assert.equal(logs.length, 4);
  assert.match(logs[3]!, /VERSION_1 not accepted/);
  wr(0x024, 0); wr(0x020, 1 << 7); // a feature not offered
  wr(0x024, 1); wr(0x020, 1);
  wr(0x070, A | D | F);
  assert.equal(r(0x070), A | D);
  assert.match(logs[4]!, /unoffered/);
});

test("DEVICE_NEEDS_RESET: a broken queue sets 0x40, raises a config interrupt, logs the reason; reset clears", () => {
  const { r, wr, m, dev, logs } = mmio(2);
  wr(0x070, A); wr(0x070, A | D); wr(0x024, 1); wr(0x020, 1); wr(0x070, A | D | F);
  wr(0x030, 0); wr(0x080, 0xffff0); wr(0x090, 0x2000); wr(0x0a0, 0x3000); wr(0x044, 1);
  wr(0x070, A | D | F | O);
  assert.equal(r(0x070), A | D | F | O | DEVICE_NEEDS_RESET);
  assert.equal(r(0x060), 2);
  assert.match(logs[0]!, /DEVICE_NEEDS_RESET: queue 0: descriptor table .* outside guest RAM/);
  assert.equal(dev.activations, 0, "a device that needs reset is not activated");
  wr(0x050, 0);
  assert.deepEqual(dev.notified, []);
  wr(0x070, 0);
  assert.equal(r(0x070), 0);
  assert.equal(m.t.resetReason, null);
});

function pci(kind: "pci-legacy" | "pci-modern" | "pci-transitional", msix = false) {
  const mem = new RamMemory(new Uint8Array(1 << 20));
  const dev = new DummyDevice();
  const logs: string[] = [];
  const p = new VirtioPci(dev, { name: "p", kind, mem, log: (s) => void logs.push(s), ...(msix ? { msix: { send: () => {} } } : {}) });
  const intx: boolean[] = [];
  p.fn.setIntxSink((l) => void intx.push(l));
  return { dev, logs, p, intx };
}

/** Parse the vendor-specific capability list the way Linux's virtio_pci_find_capability does. */
function caps(p: VirtioPci) {
  const out: { type: number; bar: number; offset: number; length: number; mult?: number }[] = [];
  for (let at = p.fn.get(0x34, 1); at; at = p.fn.get(at + 1, 1)) {
    assert.equal(p.fn.get(at, 1), 0x09);
    const c = { type: p.fn.get(at + 3, 1), bar: p.fn.get(at + 4, 1), offset: p.fn.get(at + 8, 4), length: p.fn.get(at + 12, 4) } as (typeof out)[0];
    if (c.type === 2) c.mult = p.fn.get(at + 16, 4);
    out.push(c);
  }
  return out;
}

test("pci ids: legacy 0x1005 rev 0, modern 0x1044 rev 1, transitional 0x1005 rev 0 with capabilities", () => {
  for (const [kind, id, rev, io, mem] of [["pci-legacy", 0x1005, 0, true, false], ["pci-modern", 0x1044, 1, false, true], ["pci-transitional", 0x1005, 0, true, true]] as const) {
    const { p } = pci(kind);
    assert.equal(p.fn.get(0, 2), 0x1af4);
    assert.equal(p.fn.get(2, 2), id);
    assert.equal(p.fn.get(8, 1), rev);
    assert.equal(p.fn.get(0x2c, 2), 0x1af4);
    assert.equal(p.fn.get(0x2e, 2), 4, "subsystem id = virtio device id");
    assert.equal(p.fn.get(0x3d, 1), 1, "INTA#");
    assert.equal(p.fn.bars[0]?.kind === "io", io);
    assert.equal(p.fn.bars[4]?.kind === "mem64" && p.fn.bars[4]!.prefetchable === true, mem);
    const c = caps(p);
    if (mem) {
      assert.deepEqual(c.map((x) => x.type).sort(), [1, 2, 3, 4, 5]);
      for (const x of c) if (x.type !== 5) assert.equal(x.bar, 4);
      assert.equal(c.find((x) => x.type === 2)!.mult, 4);
    } else assert.equal(c.length, 0);
  }
});

test("pci legacy: every register, widths, ISR read-to-clear drives INTx, device config at 20 or 24 (MSI-X)", () => {
  const { p, dev, intx, logs } = pci("pci-legacy", true);
  const io = p.bar(0);
  assert.equal(io.read(0, 4), (1 << 3) | (1 << 28) | (1 << 29));
  io.write(18, 1, A); io.write(18, 1, A | D);
  io.write(4, 4, 1 << 3);
  assert.equal(io.read(4, 4), 1 << 3);
  io.write(14, 2, 1);
  assert.equal(io.read(14, 2), 1);
  assert.equal(io.read(12, 2), 8);
  io.write(8, 4, 0x10);
  assert.equal(io.read(8, 4), 0x10);
  const q = p.t.queues[1]!;
  assert.deepEqual([q.desc, q.driver, q.device], [0x10000, 0x10000 + 128, 0x11000]);
  io.write(18, 1, A | D | O);
  assert.equal(io.read(18, 1), A | D | O);
  assert.equal(dev.activations, 1);
  io.write(16, 2, 1);
  assert.deepEqual(dev.notified, [1]);
  assert.equal(io.read(20, 1), 0x11, "device config at 20 without MSI-X");
  assert.equal(io.read(20, 4), 0x44332211);
  p.fn.writeConfig(p.msix!.cap + 2, 2, 0x8000); // MSI-X Enable
  assert.equal(p.msixEnabled, true);
  assert.equal(io.read(20, 2), 0xffff, "MSI-X config vector: NO_VECTOR");
  assert.equal(io.read(24, 1), 0x11, "device config at 24 with MSI-X");
  assert.equal(LEGACY_CONFIG, 20); assert.equal(LEGACY_CONFIG_MSIX, 24);
  p.fn.writeConfig(p.msix!.cap + 2, 2, 0);
  dev.ctx!.configChanged();
  assert.deepEqual(intx, [true]);
  assert.equal(p.fn.get(6, 2) & 8, 8, "PCI status Interrupt bit");
  assert.equal(io.read(19, 1), 2);
  assert.deepEqual(intx, [true, false]);
  assert.equal(io.read(19, 1), 0, "read clears");
  // widths
  assert.equal(io.read(0, 2), 0); assert.equal(io.read(18, 4), 0); io.write(16, 4, 0);
  assert.equal(p.t.stats.rejected, 3);
  assert.equal(logs.length, 3);
  io.write(18, 1, 0);
  assert.equal(dev.resets, 1);
});

test("pci modern: common config registers, notify offsets, ISR and device regions, PCI_CFG window", () => {
  const { p, dev, intx, logs } = pci("pci-modern");
  const bar = p.bar(4);
  const c = Object.fromEntries(caps(p).map((x) => [x.type, x]));
  const common = c[1]!.offset, isr = c[3]!.offset, device = c[4]!.offset, notify = c[2]!.offset;
  bar.write(common + 0, 4, 1);
  assert.equal(bar.read(common + 0, 4), 1);
  assert.equal(bar.read(common + 4, 4), 0b101);
  assert.equal(bar.read(common + 18, 2), 2, "num_queues");
  bar.write(common + 20, 1, A); bar.write(common + 20, 1, A | D);
  bar.write(common + 8, 4, 1); bar.write(common + 12, 4, 1);
  assert.equal(bar.read(common + 12, 4), 1);
  bar.write(common + 8, 4, 0); bar.write(common + 12, 4, 1 << 3);
  bar.write(common + 20, 1, A | D | F);
  assert.equal(bar.read(common + 20, 1), A | D | F);
  bar.write(common + 22, 2, 1);
  assert.equal(bar.read(common + 24, 2), 8);
  bar.write(common + 24, 2, 4);
  assert.equal(bar.read(common + 24, 2), 4);
  bar.write(common + 32, 4, 0x1000); bar.write(common + 36, 4, 0);
  bar.write(common + 40, 4, 0x2000); bar.write(common + 44, 4, 0);
  bar.write(common + 48, 4, 0x3000); bar.write(common + 52, 4, 0);
  assert.equal(bar.read(common + 40, 4), 0x2000);
  assert.equal(bar.read(common + 30, 2), 1, "queue_notify_off = index");
  assert.equal(bar.read(common + 26, 2), 0xffff);
  bar.write(common + 28, 2, 1);
  assert.equal(bar.read(common + 28, 2), 1);
  bar.write(common + 20, 1, A | D | F | O);
  assert.equal(dev.activations, 1);
  bar.write(notify + 1 * 4, 2, 1);
  assert.deepEqual(dev.notified, [1]);
  assert.equal(bar.read(device + 4, 4), 0x88776655);
  dev.ctx!.configChanged();
  assert.equal(bar.read(common + 21, 1), 1, "config_generation");
  assert.deepEqual(intx, [true]);
  assert.equal(bar.read(isr, 1), 2);
  assert.deepEqual(intx, [true, false]);
  // widths: a 2-byte read of a 4-byte register is rejected
  assert.equal(bar.read(common + 4, 2), 0);
  assert.equal(p.t.stats.rejected, 1);
  assert.equal(logs.length, 1);
  // PCI_CFG: bar 4, offset of num_queues, length 2, read through config space
  const cfgCap = (() => { for (let at = p.fn.get(0x34, 1); at; at = p.fn.get(at + 1, 1)) if (p.fn.get(at + 3, 1) === 5) return at; return 0; })();
  p.fn.writeConfig(cfgCap + 4, 1, 4);
  p.fn.writeConfig(cfgCap + 8, 4, common + 18);
  p.fn.writeConfig(cfgCap + 12, 4, 2);
  assert.equal(p.fn.readConfig(cfgCap + 16, 2), 2);
});

test("pci transitional: the legacy BAR and the modern capabilities drive the same device", () => {
  const { p, dev } = pci("pci-transitional");
  const io = p.bar(0);
  assert.equal(io.read(0, 4) >>> 0, (1 << 3) | (1 << 28) | (1 << 29), "legacy view: low 32 bits");
  io.write(18, 1, A); io.write(18, 1, A | D); io.write(4, 4, 1 << 3); io.write(18, 1, A | D | O);
  assert.equal(dev.activations, 1, "a legacy driver need not accept VERSION_1 on a transitional device");
  assert.equal(p.bar(4).read(0x14, 1), A | D | O, "the modern common config sees the same status");
});
