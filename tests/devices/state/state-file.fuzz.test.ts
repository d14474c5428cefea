// Fuzz the state-file loader (devices/state/): a state file is untrusted input (a download, a
// URL, a file handed out). Mutated files — with the checksum fixed up afterwards, so the damage
// reaches the section parsers, the field tables, the RAM decoder, the ring walkers and the held
// chains — either load or are refused with a StateError; nothing else is ever thrown, nothing
// hangs, and nothing is allocated beyond what the file can hold (lengths are checked against
// what is left before allocating). A board that did load then runs a slice without the host
// failing: whatever the state says is no more than what a hostile guest could make it say.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { fuzz } from "../../fuzz.ts";
import { crc32 } from "../../../devices/host/crc.ts";
import { HEADER_BYTES } from "../../../devices/state/file.ts";
import { loadMachine } from "../../../devices/state/machine.ts";
import { readSnapshot, saveSnapshot, snapshotChain, stateId, StateError } from "../../../devices/state/snapshot.ts";
import type { VmConfig } from "../../../devices/vm/config.ts";
import { DEVICES, makeBoard } from "./helpers.ts";

const vm: VmConfig = {
  kernel: new Uint8Array([1, 2, 3]), cmdline: "console=ttyS0", memMiB: 16, clock: "deterministic",
  script: { cmds: [], ready: "" }, devices: DEVICES, apic: true,
};

type Edit = { kind: "flip" | "set" | "cut" | "insert" | "zero"; at: number; value: number; len: number };
const edits = fc.array(fc.record({
  kind: fc.constantFrom<Edit["kind"]>("flip", "set", "set", "cut", "insert", "zero"),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
  len: fc.integer({ min: 1, max: 8 }),
}), { minLength: 1, maxLength: 6 });

function mutate(base: Uint8Array, es: Edit[], fixCrc: boolean): Uint8Array {
  let b = base.slice();
  for (const e of es) {
    // Most edits land past the header, where the parsers are.
    const at = fixCrc ? HEADER_BYTES + (e.at % Math.max(1, b.length - HEADER_BYTES)) : e.at % Math.max(1, b.length);
    if (e.kind === "flip") b[at]! ^= 1 << (e.value & 7);
    else if (e.kind === "set") b[at] = e.value;
    else if (e.kind === "zero") b.fill(0, at, at + e.len);
    else if (e.kind === "cut") b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + e.len)]);
    else b = new Uint8Array([...b.subarray(0, at), ...new Uint8Array(e.len).fill(e.value), ...b.subarray(at)]);
  }
  if (fixCrc && b.length >= HEADER_BYTES) {
    const v = new DataView(b.buffer);
    const len = b.length - HEADER_BYTES;
    v.setUint32(32, len, true);
    v.setUint32(36, 0, true);
    v.setUint32(40, crc32(b.subarray(HEADER_BYTES)), true);
  }
  return b;
}

test("mutated state files load or are refused with a StateError; a loaded board runs a slice", async () => {
  const base = await saveSnapshot(makeBoard(), vm, true);
  loadsOrRefuses("state-file", base, (bytes, board) => loadMachine(board, readSnapshot(bytes).sections));
});

test("mutated increments over a good base load or are refused with a StateError; a loaded board runs a slice", async () => {
  const board = makeBoard();
  const base = await saveSnapshot(board, vm, true);
  const baseId = await stateId(base);
  // Pages written after the base: the CPU's (through a TLB fill) would be marked by the core;
  // here the marks are set as the devices' writes set them.
  for (const p of [1, 7, 300]) {
    board.core.ram.fill(p & 0xff, p * 4096, p * 4096 + 4096);
    board.writtenPages[p] = 1;
  }
  const increment = await saveSnapshot(board, vm, true, baseId);
  loadsOrRefuses("state-increment", increment, (bytes, b) => {
    const image = snapshotChain([base, bytes], [baseId]);
    loadMachine(b, image.sections, image.written);
  });
});

/** Mutations of `good` either load into a fresh board, which then runs a slice, or are refused
 *  with a StateError; some must be refused. */
function loadsOrRefuses(name: string, good: Uint8Array, load: (bytes: Uint8Array, board: ReturnType<typeof makeBoard>) => void): void {
  let loaded = 0, refused = 0;
  fuzz(name, fc.property(edits, fc.boolean(), (es, fixCrc) => {
    const board = makeBoard();
    try {
      load(mutate(good, es, fixCrc), board);
    } catch (e) {
      if (!(e instanceof StateError)) throw new Error(`not a StateError: ${(e as Error)?.stack ?? e}`);
      refused++;
      return;
    }
    loaded++;
    board.advance();
    board.run(2000);
  }), 60);
  assert.ok(refused > 0, "some mutations were refused");
  process.stderr.write(`${name} fuzz: ${loaded} loaded, ${refused} refused\n`);
}
