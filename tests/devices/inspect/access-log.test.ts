// The access log: a fixed ring that records only while enabled, and counts always; and the
// transports feed it from their region handlers with the names of their register tables.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ACCESS_LOG_SIZE, AccessLog } from "../../../devices/inspect/access-log.ts";
import { MmioBus } from "../../../devices/bus/mmio.ts";
import { VirtioMmio } from "../../../devices/virtio/mmio.ts";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { inspectVirtio } from "../../../devices/inspect/snapshot.ts";
import { observeTransport } from "../../../devices/inspect/observer.ts";
import { DummyDevice } from "../virtio/dummy-device.ts";

test("closed: only counted; open: the last entries, oldest first, wrapping", () => {
  const log = new AccessLog();
  log.write(0, 0x70, 4, 1);
  assert.equal(log.read(0, 0x70, 4, 7), 7);
  assert.equal(log.seq, 2);
  assert.deepEqual(log.entries(), []);
  log.enabled = true;
  for (let i = 0; i < ACCESS_LOG_SIZE + 3; i++) log.write(1, i, 2, i * 10);
  const e = log.entries();
  assert.equal(e.length, ACCESS_LOG_SIZE);
  assert.deepEqual(e[0], { seq: 5, region: 1, offset: 3, width: 2, write: true, value: 30 });
  assert.equal(e.at(-1)!.offset, ACCESS_LOG_SIZE + 2);
  assert.equal(log.perRegion[0], 2);
});

test("virtio-mmio v1: accesses named by the register table; status path; QueuePFN value", () => {
  const mem = new RamMemory(new Uint8Array(1 << 20));
  const dev = new DummyDevice();
  const m = new VirtioMmio(dev, { name: "virtio-dummy0", version: 1, base: 0xd0000000, irq: 5, mem, setIrq: () => {}, log: () => {} });
  const bus = new MmioBus();
  for (const r of m.regions) bus.map(r);
  observeTransport(m.t).log.enabled = true;
  const w = (o: number, v: number) => bus.write(0xd0000000 + o, 4, v);
  w(0x70, 1); w(0x70, 3); w(0x028, 4096); w(0x030, 0); w(0x038, 16); w(0x040, 0x10); w(0x70, 7);
  bus.read(0xd0000000 + 0x100, 1);
  const s = inspectVirtio({ spec: { type: "rng", transport: "mmio-v1" }, device: dev, transport: m.t, info: () => m.info(), mmio: m }, mem);
  assert.deepEqual(s.accesses.map((a) => a.name), ["mmio.Status", "mmio.Status", "mmio.GuestPageSize", "mmio.QueueSel", "mmio.QueueNum", "mmio.QueuePFN", "mmio.Status", "device config +0x0"]);
  const pfn = s.registers.find((r) => r.name === "QueuePFN")!;
  assert.equal(pfn.value, 0x10);
  assert.equal(pfn.last.length, 1);
  assert.equal(s.registers.some((r) => r.name === "QueueReady"), false); // v2 only
  assert.deepEqual(s.status.path.map((p) => `${p.fromName}→${p.toName}:${p.verdict}`), [
    "0→ACKNOWLEDGE:ok", "ACKNOWLEDGE→ACKNOWLEDGE|DRIVER:ok", "ACKNOWLEDGE|DRIVER→ACKNOWLEDGE|DRIVER|DRIVER_OK:ok",
  ]);
  assert.equal(s.queues[0]!.format, "split");
  assert.deepEqual(s.queues[0]!.ring!.errors, []);
  assert.equal(s.trapsByKind.mmio, 8);
  assert.doesNotThrow(() => JSON.stringify(s));
});
