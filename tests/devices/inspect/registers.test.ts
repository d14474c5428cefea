// The register table of virtio-pci (legacy and modern) from the transports' own tables, with
// values read without side effects, and accesses named by register; the status path with a
// refused FEATURES_OK.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { VirtioPci } from "../../../devices/virtio/pci.ts";
import { VirtioMmio } from "../../../devices/virtio/mmio.ts";
import type { TransportKind } from "../../../devices/virtio/device.ts";
import { inspectVirtio } from "../../../devices/inspect/snapshot.ts";
import { observeTransport } from "../../../devices/inspect/observer.ts";
import { DummyDevice } from "../virtio/dummy-device.ts";

function pci(kind: Extract<TransportKind, "pci-legacy" | "pci-modern" | "pci-transitional">) {
  const mem = new RamMemory(new Uint8Array(1 << 20));
  const dev = new DummyDevice();
  const p = new VirtioPci(dev, { name: "virtio-dummy0", kind, mem, log: () => {} });
  observeTransport(p.t).log.enabled = true;
  const snap = () => inspectVirtio({ spec: { type: "rng", transport: kind }, device: dev, transport: p.t, info: () => p.info(), pci: p }, mem);
  return { p, snap };
}

test("modern: common-config registers by name and value; ISR shown without clearing it", () => {
  const { p, snap } = pci("pci-modern");
  const bar = p.bar(4);
  bar.write(20, 1, 1); // device_status = ACKNOWLEDGE
  bar.write(22, 2, 1); // queue_select = 1
  bar.write(0x3000 + 4, 2, 1); // notify queue 1
  p.t.isr = 1;
  const s = snap();
  const reg = (name: string) => s.registers.find((r) => r.name === name)!;
  assert.equal(reg("queue_select").value, 1);
  assert.equal(reg("queue_size").value, 8); // the dummy's queue 1
  assert.equal(reg("num_queues").value, 2);
  assert.equal(reg("isr").value, 1);
  assert.equal(p.t.isr, 1, "the snapshot did not read-clear ISR");
  assert.deepEqual(s.accesses.map((a) => a.name), ["common.device_status", "common.queue_select", "notify.queue 1 notify"]);
  assert.deepEqual(reg("device_status").last.map((a) => [a.write, a.width, a.value]), [[true, 1, 1]]);
  assert.deepEqual(s.trapsByKind, { pio: 0, mmio: 3 });
  assert.equal(s.queues[1]!.kicks, 1);
});

test("transitional: the legacy I/O block and the modern BAR; traps counted by kind", () => {
  const { p, snap } = pci("pci-transitional");
  p.bar(0).write(18, 1, 1); // legacy DeviceStatus
  p.bar(0).read(0, 4); // HostFeatures
  p.bar(4).read(21, 1); // config_generation
  const s = snap();
  assert.ok(s.registers.some((r) => r.block === "legacy" && r.name === "QueueAddress"));
  assert.ok(s.registers.some((r) => r.block === "common" && r.name === "queue_desc_lo"));
  assert.deepEqual(s.accesses.map((a) => a.name), ["legacy.DeviceStatus", "legacy.HostFeatures", "common.config_generation"]);
  assert.deepEqual(s.trapsByKind, { pio: 2, mmio: 1 });
  assert.deepEqual(s.pci!.capabilities.map((c) => c.virtio?.type), ["COMMON", "ISR", "DEVICE", "NOTIFY", "PCI_CFG"]);
});

test("status path: a FEATURES_OK without VERSION_1 on a modern device is shown refused", () => {
  const { p, snap } = pci("pci-modern");
  const bar = p.bar(4);
  bar.write(20, 1, 1); bar.write(20, 1, 3); bar.write(20, 1, 11);
  const path = snap().status.path;
  assert.deepEqual(path.map((x) => [x.fromName, x.toName, x.verdict]), [
    ["0", "ACKNOWLEDGE", "ok"],
    ["ACKNOWLEDGE", "ACKNOWLEDGE|DRIVER", "ok"],
    ["ACKNOWLEDGE|DRIVER", "ACKNOWLEDGE|DRIVER", "refused"],
  ]);
});

test("configuration space accesses are logged and named by header field or capability", () => {
  const { p, snap } = pci("pci-modern");
  p.fn.readConfig(0x34, 1); // capabilities pointer
  p.fn.readConfig(0x43, 1); // first capability's cfg_type
  p.fn.writeConfig(0x04, 2, 0x7); // command
  const s = snap();
  assert.deepEqual(s.accesses.map((a) => a.name), ["config 0x34 capabilities pointer", "config 0x43 cap@0x40 COMMON +3", "config 0x04 command"]);
  assert.deepEqual(s.accesses.map((a) => a.value), [0x40, 1, 7]);
  assert.deepEqual(s.trapsByKind, { pio: 3, mmio: 0 });
});

test("status path: DEVICE_NEEDS_RESET is a step the device took", () => {
  const { p, snap } = pci("pci-modern");
  p.bar(4).write(20, 1, 1);
  p.t.needsReset("queue 0: descriptor table outside guest RAM");
  const s = snap();
  assert.deepEqual(s.status.path.at(-1), { from: 1, to: 0x41, written: -1, verdict: "device", fromName: "ACKNOWLEDGE", toName: "ACKNOWLEDGE|DEVICE_NEEDS_RESET" });
  assert.equal(s.status.resetReason, "queue 0: descriptor table outside guest RAM");
});

test("mmio with MSI: the MSI block's registers in place of QueueReset, staged values shown, accesses named", () => {
  const mem = new RamMemory(new Uint8Array(1 << 20));
  const dev = new DummyDevice();
  const m = new VirtioMmio(dev, { name: "virtio-dummy0", version: 2, base: 0xd0000000, irq: 5, mem, setIrq: () => {}, log: () => {}, msi: { send: () => {} } });
  observeTransport(m.t).log.enabled = true;
  const snap = () => inspectVirtio({ spec: { type: "rng", transport: "mmio-v2" }, device: dev, transport: m.t, info: () => m.info(), mmio: m }, mem);
  const w = (off: number, v: number) => m.regions[0].write(off, 4, v);
  // Negotiate VERSION_1 (32) and VIRTIO_F_MMIO_MSI (40), then stage a vector.
  w(0x070, 1); w(0x070, 3); w(0x024, 1); w(0x020, (1 << 0) | (1 << 8)); w(0x070, 11);
  w(0x0d0, 1); w(0x0d4, 0xfee0_0000); w(0x0dc, 0x41);
  const s = snap();
  const at = (off: number) => s.registers.filter((r) => r.offset === off).map((r) => [r.name, r.access, r.value]);
  assert.deepEqual(at(0x0c0), [["MsiVecNum", "r", 3]], "QueueReset is not this window's register at 0x0c0");
  assert.deepEqual(at(0x0c4), [["MsiState", "r", 0]]);
  assert.deepEqual(at(0x0c8), [["MsiCmd", "w", null]]);
  assert.deepEqual([at(0x0d0), at(0x0d4), at(0x0d8), at(0x0dc)], [[["MsiVecSel", "w", 1]], [["MsiAddrLow", "w", 0xfee0_0000]], [["MsiAddrHigh", "w", 0]], [["MsiData", "w", 0x41]]]);
  assert.deepEqual(s.accesses.slice(-3).map((a) => a.name), ["mmio.MsiVecSel", "mmio.MsiAddrLow", "mmio.MsiData"]);
  assert.deepEqual(s.registers.map((r) => r.offset), [...s.registers.map((r) => r.offset)].sort((a, b) => a - b), "in offset order");
});
