// Ring decoding against rings hand-built in a byte array: a split ring with one in-flight
// two-descriptor chain, suppression flags, and hostile states (wild addresses, loops, an
// avail index too far ahead); a packed ring with one available chain.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { decodePackedRing, decodeSplitRing } from "../../../devices/inspect/ring-decode.ts";

const SIZE = 8;
const A = { desc: 0x1000, driver: 0x2000, device: 0x3000 };

function splitRing() {
  const mem = new RamMemory(new Uint8Array(0x10000));
  const desc = (i: number, addr: number, len: number, flags: number, next: number) => {
    const d = A.desc + 16 * i;
    mem.setU32(d, addr); mem.setU32(d + 4, 0); mem.setU32(d + 8, len); mem.setU16(d + 12, flags); mem.setU16(d + 14, next);
  };
  // Request 1 (done): desc 0 alone. Request 2 (in flight): 2 → 5 (readable 16, writable 512).
  desc(0, 0x8000, 16, 0, 0);
  desc(2, 0x9000, 16, 1, 5);
  desc(5, 0xa000, 512, 2, 0);
  mem.setU16(A.driver, 1); // VIRTQ_AVAIL_F_NO_INTERRUPT
  mem.setU16(A.driver + 4, 0); mem.setU16(A.driver + 6, 2);
  mem.setU16(A.driver + 2, 2); // avail.idx
  mem.setU16(A.driver + 4 + 2 * SIZE, 7); // used_event
  mem.setU32(A.device + 4, 0); mem.setU32(A.device + 8, 1); // used[0] = {id 0, len 1}
  mem.setU16(A.device + 2, 1); // used.idx
  mem.setU16(A.device + 4 + 8 * SIZE, 2); // avail_event
  return mem;
}

test("split: indices, suppression fields and the in-flight chain", () => {
  const v = decodeSplitRing(splitRing(), SIZE, A, 2);
  assert.deepEqual(v.errors, []);
  assert.deepEqual(v.avail, { flags: 1, idx: 2, usedEvent: 7, noInterrupt: true });
  assert.deepEqual(v.used, { flags: 0, idx: 1, availEvent: 2, noNotify: false });
  assert.equal(v.outstanding, 1);
  assert.deepEqual(v.chains, [{ head: 2, descriptors: [2, 5], state: "device", bytes: { readable: 16, writable: 512 } }]);
  assert.equal(v.descriptors.length, SIZE);
  assert.deepEqual(v.descriptors[2], { index: 2, addr: 0x9000, len: 16, flags: 1, flagNames: ["NEXT"], next: 5, chain: 2 });
  assert.equal(v.descriptors[5]!.chain, 2);
  assert.deepEqual(v.descriptors[5]!.flagNames, ["WRITE"]);
  assert.equal(v.descriptors[0]!.chain, null);
  assert.deepEqual(v.recentUsed.at(-1), { idx: 0, id: 0, len: 1 });
  // Not yet taken by the device (its next avail index is still 1): pending.
  assert.equal(decodeSplitRing(splitRing(), SIZE, A, 1).chains[0]!.state, "pending");
});

test("split: hostile rings are errors, never exceptions", () => {
  const mem = splitRing();
  assert.match(decodeSplitRing(mem, SIZE, { ...A, device: 0xfff0 }).errors[0]!, /used ring at 0xfff0\+70 is outside guest RAM/);
  assert.match(decodeSplitRing(mem, SIZE, { ...A, desc: 2 ** 52 }).errors[0]!, /descriptor table/);
  assert.match(decodeSplitRing(mem, 0, A).errors[0]!, /queue size 0/);
  // A loop 2 → 5 → 2.
  mem.setU16(A.desc + 16 * 5 + 12, 3); mem.setU16(A.desc + 16 * 5 + 14, 2);
  assert.match(decodeSplitRing(mem, SIZE, A).chains[0]!.error!, /looping/);
  // next out of range.
  mem.setU16(A.desc + 16 * 5 + 14, 99);
  assert.match(decodeSplitRing(mem, SIZE, A).chains[0]!.error!, /next 99/);
  // avail.idx far ahead of used.idx.
  mem.setU16(A.driver + 2, 500);
  const v = decodeSplitRing(mem, SIZE, A);
  assert.match(v.errors[0]!, /avail.idx 500 is 499 ahead/);
  assert.deepEqual(v.chains, []);
});

test("packed: event suppression and one available chain", () => {
  const mem = new RamMemory(new Uint8Array(0x10000));
  const AVAIL = 1 << 7, USED = 1 << 15;
  const desc = (i: number, addr: number, len: number, id: number, flags: number) => {
    const d = A.desc + 16 * i;
    mem.setU32(d, addr); mem.setU32(d + 8, len); mem.setU16(d + 12, id); mem.setU16(d + 14, flags);
  };
  desc(0, 0x8000, 16, 0, AVAIL | USED); // used (wrap 1)
  desc(1, 0x9000, 16, 1, AVAIL | 1); // available chain 1 → 2
  desc(2, 0xa000, 512, 1, AVAIL | 2);
  mem.setU16(A.driver, 0x8003); mem.setU16(A.driver + 2, 2); // driver: DESC at 3, wrap 1
  mem.setU16(A.device + 2, 1); // device: DISABLE
  const v = decodePackedRing(mem, SIZE, A);
  assert.deepEqual(v.errors, []);
  assert.deepEqual(v.driverEvent, { offWrap: 0x8003, flags: 2, flagName: "DESC" });
  assert.equal(v.deviceEvent.flagName, "DISABLE");
  assert.deepEqual(v.chains, [{ head: 1, descriptors: [1, 2], state: "available", bytes: { readable: 16, writable: 512 } }]);
  assert.deepEqual(v.descriptors[1]!.flagNames, ["NEXT", "AVAIL"]);
  assert.equal(v.descriptors[0]!.chain, null);
  assert.match(decodePackedRing(mem, SIZE, { ...A, driver: 0xfffe }).errors[0]!, /driver event suppression/);
});

test("indirect tables: listed and counted (split and packed), a bad one is an error", () => {
  const mem = splitRing();
  // Descriptor 2 becomes INDIRECT: a table at 0x4000 of header (R 16), data (W 4096), status (W 1).
  const t = 0x4000;
  const ent = (j: number, addr: number, len: number, flags: number) => { mem.setU32(t + 16 * j, addr); mem.setU32(t + 16 * j + 8, len); mem.setU16(t + 16 * j + 12, flags); };
  ent(0, 0x9000, 16, 1); ent(1, 0xb000, 4096, 3); ent(2, 0xc000, 1, 2);
  mem.setU32(A.desc + 32, t); mem.setU32(A.desc + 40, 48); mem.setU16(A.desc + 44, 4);
  const c = decodeSplitRing(mem, SIZE, A).chains[0]!;
  assert.deepEqual(c.bytes, { readable: 16, writable: 4097 });
  assert.deepEqual(c.indirect!.map((x) => [x.len, x.flagNames.join("|")]), [[16, "NEXT"], [4096, "NEXT|WRITE"], [1, "WRITE"]]);
  mem.setU32(A.desc + 40, 47);
  assert.match(decodeSplitRing(mem, SIZE, A).chains[0]!.error!, /indirect table 0x4000\+47 invalid/);
  mem.setU32(A.desc + 32, 0xfff0); mem.setU32(A.desc + 40, 48);
  assert.match(decodeSplitRing(mem, SIZE, A).chains[0]!.error!, /invalid/);
});
