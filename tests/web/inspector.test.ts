// The inspector page's pure parts: exits per second from two snapshots, and step mode's diff.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rates } from "../../web/inspector/rates.ts";
import { changes, flatten } from "../../web/inspector/diff.ts";
import type { DeviceSnapshot, InspectSnapshot } from "../../devices/inspect/snapshot.ts";

function snap(takenMs: number, pio: number, mmio: number, ints: number, dev: { accessCount: number; requests: number; notifications: number; interrupts: number }): InspectSnapshot {
  const d = { name: "virtio-blk0", accessCount: dev.accessCount, trapsByKind: { pio: 0, mmio: dev.accessCount }, stats: { traps: 0, rejected: 0, configInterrupts: 0, ...dev } } as unknown as DeviceSnapshot;
  return { takenMs, instructions: 0, guestNs: 0, paused: false, traps: { pio, mmio }, interrupts: ints, devices: [d] };
}

test("rates: per second over the interval, traps per request, u32 wrap of the run page counters", () => {
  const a = snap(1000, 0xffff_fff0, 100, 10, { accessCount: 50, requests: 5, notifications: 5, interrupts: 5 });
  const b = snap(3000, 0x10, 300, 30, { accessCount: 90, requests: 25, notifications: 15, interrupts: 25 });
  const r = rates(a, b)!;
  assert.equal(r.seconds, 2);
  assert.equal(r.pioPerS, 16); // 0x20 across the wrap, over 2 s
  assert.equal(r.mmioPerS, 100);
  assert.equal(r.interruptsPerS, 10);
  assert.deepEqual(r.devices[0], { name: "virtio-blk0", trapsPerS: 20, pioPerS: 0, mmioPerS: 20, notificationsPerS: 5, interruptsPerS: 10, requestsPerS: 10, trapsPerRequest: 2 });
  assert.equal(rates(b, b), null);
});

test("diff: changed leaves by path, ignored paths left out, ranked", () => {
  const before = { stats: { interrupts: 1 }, queues: [{ ring: { used: { idx: 4 } }, kicks: 3 }], accesses: [{ seq: 1 }] };
  const after = { stats: { interrupts: 2 }, queues: [{ ring: { used: { idx: 5 } }, kicks: 3 }], accesses: [{ seq: 2 }] };
  assert.equal(flatten(after).get("queues.0.ring.used.idx"), 5);
  const c = changes(before, after, [/^accesses\./], (p) => (p.startsWith("queues") ? 0 : 1));
  assert.deepEqual(c, [
    { path: "queues.0.ring.used.idx", before: 4, after: 5 },
    { path: "stats.interrupts", before: 1, after: 2 },
  ]);
});

test("step: the notify half and the completion half are told apart; noise left out", async () => {
  const { stepChanges, stepVerdict, stepHtml } = await import("../../web/inspector/step.ts");
  const dev = (n: number, i: number, chains: number) => ({
    name: "virtio-blk0", accessCount: 100 + n, stats: { notifications: n, interrupts: i }, registers: [{ name: "isr", value: i - 1, last: [{ seq: n }] }],
    queues: [{ inFlightChains: chains, ring: { chains: chains ? [{ head: 1 }] : [] } }],
  }) as unknown as DeviceSnapshot;
  const s = (d: DeviceSnapshot) => ({ takenMs: 0, instructions: 0, guestNs: 0, paused: true, traps: { pio: 0, mmio: 0 }, interrupts: 0, devices: [d] });
  const a = s(dev(1, 1, 0)), b = s(dev(2, 1, 1)), c = s(dev(2, 2, 0));
  const notify = stepChanges(a, b).get("virtio-blk0")!;
  assert.deepEqual(notify.map((x) => x.path), ["stats.notifications", "queues.0.inFlightChains"]);
  assert.match(stepVerdict(notify), /notified the device/);
  const done = stepChanges(b, c).get("virtio-blk0")!;
  assert.match(stepVerdict(done), /interrupted the driver/);
  assert.match(stepHtml(stepChanges(b, c), c), /register isr/);
});
