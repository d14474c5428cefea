// virtio-mmio MSI, the 2020 proposal (devices/virtio/mmio-msi.ts), driven through the window's
// registers as a driver following the proposal would: negotiate VIRTIO_F_MMIO_MSI (bit 40),
// CONFIGURE each vector from MsiVecSel + MsiAddrLow/High + MsiData, ENABLE; then configuration
// and queue events arrive as messages instead of InterruptStatus + the line; MASK keeps an event
// pending until UNMASK; sharing mode maps events with MAP_CONFIG / MAP_QUEUE.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { MmioBus } from "../../../devices/bus/mmio.ts";
import { VirtioMmio } from "../../../devices/virtio/mmio.ts";
import {
  MSI_CMD_CONFIGURE, MSI_CMD_DISABLE, MSI_CMD_ENABLE, MSI_CMD_MAP_CONFIG, MSI_CMD_MAP_QUEUE, MSI_CMD_MASK, MSI_CMD_UNMASK,
  MSI_STATE_ENABLED, MSI_STATE_SHARING, MMIO_MSI_REGISTERS, VIRTIO_MMIO_MSI_NO_VECTOR,
} from "../../../devices/virtio/mmio-msi.ts";
import { describeOffset } from "../../../devices/bus/region.ts";
import { peekRegister } from "../../../devices/virtio/register-table.ts";
import { ACKNOWLEDGE as A, DRIVER as D, FEATURES_OK as F, DRIVER_OK as O } from "../../../devices/virtio/status.ts";
import { DummyDevice } from "./dummy-device.ts";

const VEC_NUM = 0x0c0, STATE = 0x0c4, CMD = 0x0c8, SEL = 0x0d0, ADDR_LO = 0x0d4, ADDR_HI = 0x0d8, DATA = 0x0dc;

function setup(opts: { version?: 1 | 2; sharedVectors?: number; msi?: boolean } = {}) {
  const dev = new DummyDevice();
  const logs: string[] = [];
  const irq: boolean[] = [];
  const sent: [number, number][] = [];
  const m = new VirtioMmio(dev, {
    name: "d", version: opts.version ?? 2, base: 0xd0000000, irq: 5, mem: new RamMemory(new Uint8Array(1 << 20)),
    setIrq: (l) => void irq.push(l), log: (s) => void logs.push(s),
    ...(opts.msi === false ? {} : { msi: { send: (a: number, d: number) => void sent.push([a, d]), ...(opts.sharedVectors ? { sharedVectors: opts.sharedVectors } : {}) } }),
  });
  const bus = new MmioBus();
  for (const reg of m.regions) bus.map(reg);
  const r = (o: number) => bus.read(0xd0000000 + o, 4);
  const wr = (o: number, v: number) => bus.write(0xd0000000 + o, 4, v);
  /** Feature negotiation accepting VERSION_1 (32) and, if offered, MMIO_MSI (40). */
  const negotiate = () => {
    wr(0x070, A); wr(0x070, A | D);
    wr(0x014, 1);
    const hi = r(0x010);
    wr(0x024, 1); wr(0x020, hi & ((1 << 0) | (1 << 8)));
    wr(0x070, A | D | F);
    wr(0x070, A | D | F | O);
  };
  const configure = (vector: number, address: number, data: number) => {
    wr(SEL, vector); wr(ADDR_LO, address); wr(ADDR_HI, 0); wr(DATA, data); wr(CMD, MSI_CMD_CONFIGURE);
  };
  return { dev, logs, irq, sent, m, r, wr, negotiate, configure };
}

test("feature bit 40 is offered only when opted in, and only on version 2", () => {
  for (const [o, expect] of [[{}, 1], [{ msi: false }, 0], [{ version: 1 as const }, 0]] as const) {
    const { r, wr } = setup(o);
    wr(0x014, 1);
    assert.equal((r(0x010) >> 8) & 1, expect, JSON.stringify(o));
  }
});

test("before VIRTIO_F_MMIO_MSI is negotiated the registers read 0 and ignore writes", () => {
  const { r, wr, logs } = setup();
  assert.equal(r(VEC_NUM), 0);
  wr(CMD, MSI_CMD_ENABLE);
  assert.ok(logs.some((l) => l.includes("before VIRTIO_F_MMIO_MSI")));
});

test("non-sharing mode: a vector per event (0 = config, 1 + n = queue n), no InterruptStatus, no line", () => {
  const { dev, irq, sent, m, r, wr, negotiate, configure } = setup();
  negotiate();
  assert.equal(r(VEC_NUM), 3, "config + two queues");
  assert.equal(r(STATE), 0);
  for (let v = 0; v < 3; v++) configure(v, 0xfee0_0000, 0x40 + v);
  wr(CMD, MSI_CMD_ENABLE);
  assert.equal(r(STATE), MSI_STATE_ENABLED);
  dev.ctx!.configChanged();
  assert.equal(m.t.msi!.queue(1), true);
  assert.deepEqual(sent, [[0xfee0_0000, 0x40], [0xfee0_0000, 0x42]]);
  assert.equal(r(0x060), 0, "InterruptStatus stays clear");
  assert.deepEqual(irq, [], "the line never rises");
  wr(0x064, 3); // InterruptACK is ignored while MSI is enabled
  // DISABLE: back to InterruptStatus and the line.
  wr(CMD, MSI_CMD_DISABLE);
  dev.ctx!.configChanged();
  assert.equal(r(0x060), 2);
  assert.deepEqual(irq, [true]);
});

test("MASK keeps the event pending; UNMASK sends it once", () => {
  const { dev, sent, r, wr, negotiate, configure } = setup();
  negotiate();
  configure(0, 0xfee0_1000, 0x51);
  wr(CMD, MSI_CMD_ENABLE);
  wr(SEL, 0); wr(CMD, MSI_CMD_MASK);
  dev.ctx!.configChanged();
  dev.ctx!.configChanged();
  assert.equal(sent.length, 0);
  wr(SEL, 0); wr(CMD, MSI_CMD_UNMASK);
  assert.deepEqual(sent, [[0xfee0_1000, 0x51]]);
  assert.equal(r(STATE) & MSI_STATE_ENABLED, MSI_STATE_ENABLED);
});

test("sharing mode: events unmapped (NO_VECTOR) until MAP_CONFIG / MAP_QUEUE; QueueSel picks the queue", () => {
  const { dev, sent, m, r, wr, logs, negotiate, configure } = setup({ sharedVectors: 2 });
  negotiate();
  assert.equal(r(VEC_NUM), 2);
  assert.equal(r(STATE), MSI_STATE_SHARING);
  configure(0, 0xfee0_0000, 0x60);
  configure(1, 0xfee0_0000, 0x61);
  wr(CMD, MSI_CMD_ENABLE);
  dev.ctx!.configChanged();
  assert.equal(sent.length, 0, "NO_VECTOR: no notification");
  wr(SEL, 1); wr(CMD, MSI_CMD_MAP_CONFIG);
  wr(0x030, 1); wr(SEL, 1); wr(CMD, MSI_CMD_MAP_QUEUE); // queue 1 shares vector 1
  wr(0x030, 0); wr(SEL, 0); wr(CMD, MSI_CMD_MAP_QUEUE);
  dev.ctx!.configChanged();
  m.t.msi!.queue(0);
  m.t.msi!.queue(1);
  assert.deepEqual(sent.map((s) => s[1]), [0x61, 0x60, 0x61]);
  wr(SEL, VIRTIO_MMIO_MSI_NO_VECTOR); wr(CMD, MSI_CMD_MAP_CONFIG);
  dev.ctx!.configChanged();
  assert.equal(sent.length, 3, "unmapped again");
  wr(0x030, 5); wr(SEL, 0); wr(CMD, MSI_CMD_MAP_QUEUE); // QueueSel names no queue
  assert.deepEqual(logs, ["d: MSI MAP_QUEUE of queue 5, which does not exist; ignored"]);
});

test("reset clears msi_enabled and the staged values; garbage commands, vectors and widths are logged, never thrown", () => {
  const { r, wr, logs, negotiate, m } = setup();
  negotiate();
  wr(CMD, MSI_CMD_ENABLE);
  wr(ADDR_LO, 0xfee0_1000); wr(ADDR_HI, 1); wr(DATA, 0x41);
  assert.doesNotThrow(() => {
    wr(CMD, 99);
    wr(SEL, 1000); wr(CMD, MSI_CMD_CONFIGURE); wr(CMD, MSI_CMD_MASK);
    wr(CMD, MSI_CMD_MAP_QUEUE); // non-sharing mode
    m.regions[0].write(STATE, 2, 0);
  });
  assert.ok(logs.length >= 4, logs.join("\n"));
  wr(0x070, 0); // reset
  assert.equal(m.msi!.enabled, false);
  assert.deepEqual([m.msi!.sel, m.msi!.addrLo, m.msi!.addrHi, m.msi!.data], [0, 0, 0, 0], "staged MsiVecSel/Addr/Data forgotten");
  void r;
});

test("one table names and decodes the MSI block: trace names, reads, staged writes; QueueReset is not there", () => {
  const { m, r, wr, logs, negotiate } = setup();
  negotiate();
  // The proposal's register names at its offsets, as traces and --stats label them.
  const names = [[VEC_NUM, "MsiVecNum"], [STATE, "MsiState"], [CMD, "MsiCmd"], [SEL, "MsiVecSel"], [ADDR_LO, "MsiAddrLow"], [ADDR_HI, "MsiAddrHigh"], [DATA, "MsiData"]] as const;
  for (const [off, name] of names) assert.equal(describeOffset(m.regions[0], off), `d.${name}`);
  assert.equal(describeOffset(m.regions[0], 0x0cc), "d+0xcc", "the gap between MsiCmd and MsiVecSel is no register");
  assert.equal(describeOffset(m.regions[0], 0x0fc), "d.ConfigGeneration", "the window's other rows stay");
  assert.deepEqual(MMIO_MSI_REGISTERS.map((x) => [x.offset, x.name, x.access]), [
    [VEC_NUM, "MsiVecNum", "r"], [STATE, "MsiState", "r"], [CMD, "MsiCmd", "w"], [SEL, "MsiVecSel", "w"],
    [ADDR_LO, "MsiAddrLow", "w"], [ADDR_HI, "MsiAddrHigh", "w"], [DATA, "MsiData", "w"],
  ]);
  // Staged values land where the table says, seen through its peek.
  wr(SEL, 2); wr(ADDR_LO, 0xfee0_2000); wr(ADDR_HI, 7); wr(DATA, 0x4321);
  const peek = (name: string) => peekRegister(MMIO_MSI_REGISTERS.find((x) => x.name === name)!, m.msi!, null);
  assert.deepEqual(["MsiVecSel", "MsiAddrLow", "MsiAddrHigh", "MsiData", "MsiCmd"].map(peek), [2, 0xfee0_2000, 7, 0x4321, null]);
  // Write-only rows read 0, read-only rows ignore writes; a word in the gap is no register: all logged.
  assert.equal(r(CMD), 0);
  wr(VEC_NUM, 9);
  assert.equal(r(VEC_NUM), 3);
  assert.equal(r(0x0cc), 0);
  assert.deepEqual(logs, [
    "d: read of write-only MSI register at +0xc8",
    "d: write to read-only MSI register at +0xc0",
    "d: MSI read at +0xcc (no register); ignored",
  ]);
});
