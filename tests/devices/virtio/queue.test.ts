// The virtqueue alone (docs/ARCHITECTURE.md "Tests"): split and packed rings driven by a driver-side mock in fake
// guest RAM — chains, indirect tables, EVENT_IDX and flag suppression, index wrap-around at
// 65535, and hostile layouts that must break the queue (DEVICE_NEEDS_RESET) without writing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";
import { FEAT_EVENT, FEAT_INDIRECT, PackedDriver, SplitDriver, makeMem, place } from "./queue-driver-mock.ts";

test("split: a chain's readable and writable bytes, push and flush", () => {
  const { ram, mem } = makeMem();
  const d = new SplitDriver(mem, 8);
  ram.set([1, 2, 3, 4, 5], 0x10000);
  ram.set([6, 7, 8], 0x10100);
  d.add([{ addr: 0x10000, len: 5 }, { addr: 0x10100, len: 3 }, { addr: 0x20000, len: 4, write: true }, { addr: 0x20100, len: 4, write: true }]);
  const c = d.q.pop()!;
  assert.equal(c.id, 0);
  assert.equal(c.readableBytes, 8);
  assert.equal(c.writableBytes, 8);
  const got = new Uint8Array(8);
  assert.equal(c.read(0, got), 8);
  assert.deepEqual([...got], [1, 2, 3, 4, 5, 6, 7, 8]);
  const part = new Uint8Array(3);
  c.read(4, part);
  assert.deepEqual([...part], [5, 6, 7]);
  assert.equal(c.write(2, Uint8Array.of(9, 9, 9, 9)), 4); // straddles the two writable buffers
  assert.deepEqual([...ram.subarray(0x20000, 0x20004)], [0, 0, 9, 9]);
  assert.deepEqual([...ram.subarray(0x20100, 0x20104)], [9, 9, 0, 0]);
  assert.equal(c.write(6, new Uint8Array(10)), 2, "short write at the end");
  assert.equal(d.q.pop(), null);
  d.q.push(c, 6);
  assert.equal(d.usedIdx(), 0, "used idx moves only at flush");
  assert.equal(d.q.flush(), true);
  assert.equal(d.usedIdx(), 1);
  assert.deepEqual(d.usedEntry(0), { id: 0, len: 6 });
  assert.equal(d.q.flush(), false, "nothing new: no interrupt");
});

test("split: VIRTQ_AVAIL_F_NO_INTERRUPT suppresses, NO_NOTIFY is set by disableNotifications", () => {
  const { mem } = makeMem();
  const d = new SplitDriver(mem, 4);
  mem.setU16(d.avail, 1);
  d.add([{ addr: 0x10000, len: 1, write: true }]);
  d.q.push(d.q.pop()!, 1);
  assert.equal(d.q.flush(), false);
  assert.equal(d.usedIdx(), 1);
  d.q.disableNotifications();
  assert.equal(mem.u16(d.used) & 1, 1);
  assert.equal(d.q.enableNotifications(), false);
  assert.equal(mem.u16(d.used) & 1, 0);
  d.add([{ addr: 0x10000, len: 1, write: true }]);
  d.q.disableNotifications();
  assert.equal(d.q.enableNotifications(), true, "a buffer arrived while notifications were off: loop again");
});

test("split: indirect descriptors", () => {
  const { ram, mem } = makeMem();
  const d = new SplitDriver(mem, 4, FEAT_INDIRECT);
  ram.set([0xaa, 0xbb], 0x10000);
  d.add([{ addr: 0x10000, len: 2 }, { addr: 0x20000, len: 16, write: true }], true);
  const c = d.q.pop()!;
  assert.equal(c.readableBytes, 2);
  assert.equal(c.writableBytes, 16);
  assert.equal(d.errors.length, 0);
});

test("split: EVENT_IDX — used_event decides the interrupt, avail_event follows consumption", () => {
  const { mem } = makeMem();
  const d = new SplitDriver(mem, 8, FEAT_EVENT);
  d.setUsedEvent(2); // interrupt once used idx passes 2, i.e. after the third entry
  const irqs: boolean[] = [];
  for (let i = 0; i < 4; i++) {
    d.add([{ addr: 0x10000, len: 1, write: true }]);
    d.q.push(d.q.pop()!, 1);
    irqs.push(d.q.flush());
    assert.equal(d.availEvent(), i + 1, "avail_event = next avail index to consume");
  }
  assert.deepEqual(irqs, [false, false, true, false]);
  // A batch crossing the event interrupts once.
  d.setUsedEvent(5);
  for (let i = 0; i < 3; i++) { d.add([{ addr: 0x10000, len: 1, write: true }]); d.q.push(d.q.pop()!, 1); }
  assert.equal(d.q.flush(), true);
  // Disabled: avail_event stays behind while popping.
  d.q.disableNotifications();
  d.add([{ addr: 0x10000, len: 1, write: true }]);
  d.q.push(d.q.pop()!, 1);
  assert.equal(d.availEvent(), 7);
  assert.equal(d.q.enableNotifications(), false);
  assert.equal(d.availEvent(), 8);
});

test("split: indices wrap around at 65535", () => {
  const { mem } = makeMem();
  const d = new SplitDriver(mem, 4);
  for (let i = 0; i < 65536 + 10; i++) {
    d.add([{ addr: 0x10000, len: 4, write: true }]);
    const c = d.q.pop();
    assert.ok(c, `pop ${i}`);
    d.q.push(c, i & 3);
    assert.equal(d.q.flush(), true);
  }
  assert.equal(d.usedIdx(), (65536 + 10) & 0xffff);
  assert.equal(d.errors.length, 0);
});

/** Each hostile layout breaks the queue once, writes nothing to the used ring, and pops nothing after. */
function hostile(name: string, setup: (d: SplitDriver) => void, reason: RegExp, features = FEAT_INDIRECT): void {
  test(`split hostile: ${name}`, () => {
    const { mem } = makeMem();
    const d = new SplitDriver(mem, 8, features);
    const before = mem.ram.slice(d.used, d.used + 4 + 8 * 8 + 2);
    setup(d);
    assert.equal(d.q.pop(), null);
    assert.equal(d.errors.length, 1);
    assert.match(d.errors[0]!, reason);
    assert.deepEqual(mem.ram.slice(d.used, d.used + 4 + 8 * 8 + 2), before, "used ring untouched");
    d.add([{ addr: 0x10000, len: 1 }]);
    assert.equal(d.q.pop(), null, "broken until reset");
    assert.equal(d.q.ready, false);
    assert.equal(d.errors.length, 1);
  });
}
hostile("descriptor loop", (d) => {
  d.writeDesc(d.desc, { addr: 0x10000, len: 1 }, 1, 1);
  d.writeDesc(d.desc + 16, { addr: 0x10000, len: 1 }, 1, 0);
  d.publishHead(0);
}, /longer than the queue|looping/);
hostile("chain longer than the queue", (d) => {
  for (let i = 0; i < 8; i++) d.writeDesc(d.desc + 16 * i, { addr: 0x10000, len: 1 }, 1, (i + 1) % 8);
  d.publishHead(0);
}, /longer than the queue/);
hostile("buffer outside RAM", (d) => void d.add([{ addr: 0xfff00, len: 0x200 }]), /outside guest RAM/);
hostile("buffer at 4 GiB", (d) => { d.add([{ addr: 0, len: 1 }]); d.mem.setU32(d.desc + 4, 1); }, /outside guest RAM/);
hostile("avail idx too far ahead", (d) => void d.mem.setU16(d.avail + 2, 9), /avail idx 9 is 9 ahead/);
hostile("head out of range", (d) => { d.mem.setU16(d.avail + 4, 8); d.mem.setU16(d.avail + 2, 1); }, /head 8/);
hostile("next out of range", (d) => { d.writeDesc(d.desc, { addr: 0x10000, len: 1 }, 1, 200); d.publishHead(0); }, /next 200/);
hostile("readable after writable", (d) => void d.add([{ addr: 0x10000, len: 1, write: true }, { addr: 0x10000, len: 1 }]), /readable buffer after/);
hostile("indirect without the feature", (d) => void d.add([{ addr: 0x10000, len: 1 }], true), /without VIRTIO_F_INDIRECT_DESC/, 0n);
hostile("indirect table of bad length", (d) => { d.writeDesc(d.desc, { addr: 0x8000, len: 24 }, 4, 0); d.publishHead(0); }, /multiple of 16/);
hostile("indirect table outside RAM", (d) => { d.writeDesc(d.desc, { addr: 0xffff0, len: 64 }, 4, 0); d.publishHead(0); }, /indirect table .* outside/);
hostile("nested indirect", (d) => {
  d.writeDesc(0x8000, { addr: 0x9000, len: 16 }, 4, 0);
  d.writeDesc(d.desc, { addr: 0x8000, len: 16 }, 4, 0);
  d.publishHead(0);
}, /nested indirect/);
hostile("indirect loop", (d) => {
  d.writeDesc(0x8000, { addr: 0x10000, len: 1 }, 1, 1);
  d.writeDesc(0x8010, { addr: 0x10000, len: 1 }, 1, 0);
  d.writeDesc(d.desc, { addr: 0x8000, len: 32 }, 4, 0);
  d.publishHead(0);
}, /indirect chain longer/);
hostile("INDIRECT with NEXT", (d) => { d.writeDesc(d.desc, { addr: 0x8000, len: 16 }, 5, 1); d.publishHead(0); }, /both INDIRECT and NEXT/);

test("split: rings outside RAM or misaligned break the queue at start", () => {
  const { mem } = makeMem();
  const d = new SplitDriver(mem, 8);
  d.q.reset();
  place(d.q, 0xffff8, 0x2000, 0x3000);
  d.q.start(0n);
  assert.match(d.errors[0]!, /descriptor table .* outside guest RAM/);
  d.q.reset();
  place(d.q, 0x1008, 0x2000, 0x3000);
  d.q.start(0n);
  assert.match(d.errors[1]!, /not 16-byte aligned/);
  d.q.reset();
  d.q.setSize(6); d.q.enable();
  d.q.start(0n);
  assert.match(d.errors[2]!, /queue size 6 invalid/);
});

test("packed: chains, used descriptors and wrap counters over several laps", () => {
  const { ram, mem } = makeMem();
  const d = new PackedDriver(mem, 5); // not a power of two: allowed for packed rings
  const slots = new Map<number, number>();
  let id = 0;
  for (let lap = 0; lap < 7; lap++) {
    const n = 1 + (lap % 3);
    const bufs = Array.from({ length: n }, (_, i) => ({ addr: 0x10000 + 0x100 * i, len: 8, write: i === n - 1 }));
    ram.fill(lap, 0x10000, 0x10008);
    d.add(bufs, id);
    slots.set(id, n);
    const c = d.q.pop()!;
    assert.ok(c, `lap ${lap}`);
    assert.equal(c.id, id);
    assert.equal(c.readableBytes, 8 * (n - 1));
    assert.equal(c.writableBytes, 8);
    assert.equal(d.q.pop(), null);
    d.q.push(c, 3);
    assert.equal(d.q.flush(), true);
    assert.deepEqual(d.takeUsed((x) => slots.get(x)!), [{ id, len: 3 }]);
    id = (id + 1) % 5;
  }
  assert.equal(d.errors.length, 0);
});

test("packed: indirect table, batch publication, driver event suppression", () => {
  const { mem } = makeMem();
  const d = new PackedDriver(mem, 8, FEAT_INDIRECT | FEAT_EVENT);
  d.add([{ addr: 0x10000, len: 4 }, { addr: 0x11000, len: 4, write: true }], 0, true);
  d.add([{ addr: 0x12000, len: 4, write: true }], 1);
  const a = d.q.pop()!, b = d.q.pop()!;
  assert.equal(a.readableBytes, 4);
  assert.equal(a.writableBytes, 4);
  assert.equal(b.id, 1);
  mem.setU16(d.drv + 2, 1); // RING_EVENT_FLAGS_DISABLE
  d.q.push(a, 4);
  assert.deepEqual(d.takeUsed(() => 1), [], "not visible before flush");
  d.q.push(b, 4);
  assert.equal(d.q.flush(), false, "driver disabled interrupts");
  assert.deepEqual(d.takeUsed(() => 1).map((u) => u.id), [0, 1]);
  // DESC mode: interrupt when the used index passes off_wrap (here: slot 3, current wrap).
  mem.setU16(d.drv, 3 | 0x8000);
  mem.setU16(d.drv + 2, 2);
  const irq: boolean[] = [];
  for (let i = 0; i < 3; i++) {
    d.add([{ addr: 0x12000, len: 4, write: true }], i);
    d.q.push(d.q.pop()!, 1);
    irq.push(d.q.flush());
  }
  assert.deepEqual(irq, [false, true, false]);
  // Our device event structure: DESC with the next avail slot while enabled, DISABLE when off.
  assert.equal(mem.u16(d.dev + 2), 2);
  assert.equal(mem.u16(d.dev), 5 | 0x8000);
  d.q.disableNotifications();
  assert.equal(mem.u16(d.dev + 2), 1);
  assert.equal(d.q.enableNotifications(), false);
});

test("packed hostile: over-long chain, bad buffer id, out-of-RAM buffer", () => {
  for (const [setup, re] of [
    [(d: PackedDriver) => d.add(Array.from({ length: 4 }, () => ({ addr: 0x10000, len: 1 })), 0), /chain continues into unavailable|longer than the queue/],
    [(d: PackedDriver) => d.add([{ addr: 0x10000, len: 1 }], 9), /buffer id 9/],
    [(d: PackedDriver) => d.add([{ addr: 0xfffff, len: 2 }], 0), /outside guest RAM/],
  ] as const) {
    const { mem } = makeMem();
    const d = new PackedDriver(mem, 4);
    if (re.source.includes("unavailable")) {
      // 4 descriptors all chained (NEXT on the last too): the walk runs off the posted ones.
      d.add(Array.from({ length: 3 }, () => ({ addr: 0x10000, len: 1 })), 0);
      mem.setU16(d.desc + 16 * 2 + 14, mem.u16(d.desc + 16 * 2 + 14) | 1);
    } else setup(d);
    assert.equal(d.q.pop(), null);
    assert.match(d.errors[0]!, re);
  }
});

test("the canonical notify loop catches buffers posted while kicks were off, with and without EVENT_IDX", () => {
  for (const features of [0n, FEAT_EVENT]) {
    const { mem } = makeMem();
    const d = new SplitDriver(mem, 8, features);
    let lateAdds = 2;
    const handled: number[] = [];
    const kick = () => {
      do {
        d.q.disableNotifications();
        for (let c = d.q.pop(); c; c = d.q.pop()) {
          handled.push(c.id);
          d.q.push(c, 0);
          // The driver posts more while we are busy; it sees kicks suppressed and does not kick.
          if (lateAdds-- > 0) d.add([{ addr: 0x10000, len: 1, write: true }]);
        }
      } while (d.q.enableNotifications());
      return d.q.flush();
    };
    d.add([{ addr: 0x10000, len: 1, write: true }]);
    assert.equal(kick(), true, "one interrupt for the batch");
    assert.equal(handled.length, 3, "late buffers handled without another kick");
    assert.equal(d.usedIdx(), 3);
    if (features) assert.equal(d.availEvent(), 3, "next kick expected for avail index 3");
    else assert.equal(mem.u16(d.used) & 1, 0, "kicks re-enabled");
  }
});

// Issue #15: one rule bounds a chain in both formats (ring.ts MAX_CHAIN_DESCRIPTORS, 1,024 as in
// QEMU), and a buffer id is never in flight twice.
test("split and packed: a chain of 1,024 descriptors is taken, a larger indirect table breaks the queue", () => {
  for (const packed of [false, true]) {
    for (const [entries, ok] of [[1024, true], [1025, false], [2_097_152 / 16, false]] as const) {
      const { mem } = makeMem();
      const table = 0x40000;
      // Every entry a 1-byte readable buffer chained to the next (split; packed ignores NEXT).
      for (let i = 0; i < entries && table + 16 * i < mem.size; i++) {
        const at = table + 16 * i;
        mem.setU32(at, 0x10000); mem.setU32(at + 8, 1);
        if (packed) mem.setU16(at + 14, 0);
        else { mem.setU16(at + 12, i < entries - 1 ? 1 : 0); mem.setU16(at + 14, i + 1); }
      }
      const len = 16 * entries;
      let d: SplitDriver | PackedDriver;
      if (packed) {
        const p = new PackedDriver(mem, 8, FEAT_INDIRECT);
        mem.setU32(p.desc, table); mem.setU32(p.desc + 8, len); mem.setU16(p.desc + 12, 0);
        mem.setU16(p.desc + 14, 4 | (1 << 7)); // INDIRECT, AVAIL in the first lap
        d = p;
      } else {
        const s = new SplitDriver(mem, 8, FEAT_INDIRECT);
        s.writeDesc(s.desc, { addr: table, len }, 4, 0);
        s.publishHead(0);
        d = s;
      }
      if (table + len > mem.size) {
        // 2 MiB of table does not fit the 1 MiB RAM: the size check must come first.
        assert.equal(d.q.pop(), null);
        assert.match(d.errors[0]!, /more than 1024/, `${packed ? "packed" : "split"} ${entries}`);
        continue;
      }
      const c = d.q.pop();
      if (ok) {
        assert.equal(c?.readableBytes, 1024, `${packed ? "packed" : "split"} ${entries}`);
        assert.deepEqual(d.errors, []);
      } else {
        assert.ok(c === null, "no chain");
        assert.match(d.errors[0]!, /more than 1024/);
      }
    }
  }
});

test("packed: an indirect table of 2,097,152 segments is refused before it is walked", () => {
  // The case: 32 MiB of table in RAM, 8-entry queue. Old code walked every entry
  // (1.3 s, +143 MiB per pop); now the length alone refuses it.
  const ram = new Uint8Array(40 << 20);
  const mem = new RamMemory(ram);
  const p = new PackedDriver(mem, 8, FEAT_INDIRECT);
  mem.setU32(p.desc, 0x100000); mem.setU32(p.desc + 8, 16 * 2_097_152);
  mem.setU16(p.desc + 14, 4 | (1 << 7));
  const t0 = performance.now();
  assert.ok(p.q.pop() === null, "no chain"); // (not assert.equal: it would print 40 MiB of RAM)
  assert.ok(performance.now() - t0 < 50, "no walk");
  assert.match(p.errors[0]!, /2097152 descriptors/);
});

test("split: a head made available again while in flight is DEVICE_NEEDS_RESET, not a second request", () => {
  const { mem } = makeMem();
  const d = new SplitDriver(mem, 8);
  d.add([{ addr: 0x10000, len: 4, write: true }]);
  const first = d.q.pop()!;
  assert.equal(first.id, 0);
  d.publishHead(0); // the same head again, while the device still holds it
  assert.ok(d.q.pop() === null, "no second chain");
  assert.match(d.errors[0]!, /buffer id 0 made available again while in flight/);
  assert.equal(d.q.ready, false);
  assert.equal(d.q.inFlight, 1);
});

test("split: 200,000 re-posts of one head give one request in flight, not 200,000", () => {
  const { mem } = makeMem();
  const d = new SplitDriver(mem, 8);
  d.add([{ addr: 0x10000, len: 4, write: true }]);
  let popped = 0;
  for (let i = 0; i < 200_000 && d.q.ready; i++) {
    if (d.q.pop()) popped++;
    d.publishHead(0);
  }
  assert.equal(popped, 1);
  assert.equal(d.q.inFlight, 1);
  assert.equal(d.errors.length, 1);
});

test("packed: a buffer id reused while in flight is DEVICE_NEEDS_RESET; after it is used, reuse is fine", () => {
  const { mem } = makeMem();
  const d = new PackedDriver(mem, 8);
  d.add([{ addr: 0x10000, len: 4, write: true }], 3);
  const a = d.q.pop()!;
  d.q.push(a, 4);
  d.q.flush();
  d.add([{ addr: 0x10000, len: 4, write: true }], 3); // used: id 3 is the driver's again
  const b = d.q.pop()!;
  assert.equal(b.id, 3);
  d.add([{ addr: 0x10000, len: 4, write: true }], 3); // still in flight
  assert.ok(d.q.pop() === null, "no second chain");
  assert.match(d.errors[0]!, /buffer id 3 made available again/);
});

test("a chain pushed after the queue was reset and restarted is not published", () => {
  const { mem } = makeMem();
  const d = new SplitDriver(mem, 8);
  d.add([{ addr: 0x10000, len: 4, write: true }]);
  const stale = d.q.pop()!;
  d.q.reset();
  place(d.q, d.desc, d.avail, d.used);
  d.q.start(0n);
  d.q.push(stale, 4);
  assert.equal(d.q.flush(), false);
  assert.equal(d.q.inFlight, 0);
});
