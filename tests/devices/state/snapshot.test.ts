// Increments (devices/state/snapshot.ts) without booting: a base, pages written after it, an
// increment; the chain loads into a fresh board as the board was; the links are checked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadMachine, RAM_WRITTEN_SECTION } from "../../../devices/state/machine.ts";
import { readSnapshot, readSnapshotChain, saveSnapshot, stateId, StateError } from "../../../devices/state/snapshot.ts";
import { StateReader } from "../../../devices/state/wire.ts";
import type { VmConfig } from "../../../devices/vm/config.ts";
import { DEVICES, makeBoard } from "./helpers.ts";

const vm: VmConfig = {
  kernel: new Uint8Array([1, 2, 3]), cmdline: "console=ttyS0", memMiB: 16, clock: "deterministic",
  script: { cmds: [], ready: "" }, devices: DEVICES, apic: true,
};

test("base + increment is the board at the increment; the increment holds only the marked pages", async () => {
  const a = makeBoard();
  a.core.ram.fill(0x11, 5 * 4096, 6 * 4096);
  const base = await saveSnapshot(a, vm, true);
  assert.deepEqual([...a.writtenPages].filter((x) => x !== 0), [], "a save clears the marks");
  a.core.ram.fill(0x22, 9 * 4096, 10 * 4096); a.writtenPages[9] = 1; // written after the base
  a.core.ram.fill(0, 5 * 4096, 6 * 4096); a.writtenPages[5] = 1; // cleared after it
  const inc = await saveSnapshot(a, vm, true, await stateId(base));
  const r = new StateReader(readSnapshot(inc).sections.get(RAM_WRITTEN_SECTION)!.body, "test");
  const pages = r.u32("pages");
  r.u32("chunk");
  const map = r.bytes(Math.ceil(pages / 8), "map");
  assert.deepEqual([...Array(pages).keys()].filter((p) => (map[p >> 3]! >> (p & 7)) & 1), [5, 9], "the marked pages, the cleared one too");
  const whole = await saveSnapshot(a, vm, true);

  const image = await readSnapshotChain([base, inc]);
  const b = makeBoard();
  loadMachine(b, image.sections, image.written);
  assert.ok(Buffer.from(b.core.ram).equals(Buffer.from(a.core.ram)), "RAM");
  const again = await saveSnapshot(b, vm, true);
  assert.ok(Buffer.from(again).equals(Buffer.from(whole)), "saved whole, the same file as the board's");

  for (const [files, re] of [[[inc], /is an increment/], [[whole, inc], /not saved after/], [[base, inc, inc], /not saved after/]] as const) {
    await assert.rejects(readSnapshotChain(files), (e: Error) => e instanceof StateError && re.test(e.message));
  }
});
