// Guest RAM through the state's RAM section (devices/state/ram.ts): pages in every arrangement a
// chunk can hold — all stored (decoded in place), a single run between zero pages, scattered
// pages (decoded into the scratch, then copied run by run) — come back byte for byte, into RAM
// that is zero already or that holds other bytes (whose unstored pages must be cleared), and an
// increment's pages (a cleared one among them) land over their base.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CHUNK_PAGES, PAGE, loadRam, markedPages, saveRam, saveRamPages, storedPages } from "../../../devices/state/ram.ts";

const PAGES = 2 * CHUNK_PAGES + 40; // the last chunk is short

/** Pages that compress in different ways: text-like, runs of one byte, a repeated pattern. */
function fillPage(ram: Uint8Array, p: number): void {
  const page = ram.subarray(p * PAGE, (p + 1) * PAGE);
  for (let i = 0; i < PAGE; i++) page[i] = ((p * 31 + i * 7) ^ (i >> 5)) & 0xff;
  page.fill(0, 100, 1500); // a zero run inside a stored page
  page.fill(0xcc, 2000, 2600);
  for (let i = 3000; i < 3600; i++) page[i] = [1, 2, 3][i % 3]!;
}

function guestRam(): Uint8Array {
  const ram = new Uint8Array(PAGES * PAGE);
  for (let p = 0; p < CHUNK_PAGES; p++) fillPage(ram, p); // chunk 0: every page
  for (const p of [CHUNK_PAGES + 3, CHUNK_PAGES + 4, CHUNK_PAGES + 10, 2 * CHUNK_PAGES - 1]) fillPage(ram, p); // chunk 1: scattered
  for (let p = 2 * CHUNK_PAGES + 5; p < 2 * CHUNK_PAGES + 17; p++) fillPage(ram, p); // chunk 2: one run in the middle
  return ram;
}

test("every arrangement of stored pages comes back, into zeroed RAM and over other bytes", () => {
  const ram = guestRam();
  const section = saveRam(ram);
  const zeroed = new Uint8Array(ram.length);
  loadRam(section, zeroed, true);
  assert.ok(Buffer.from(zeroed).equals(ram), "into zeroed RAM");
  const dirty = new Uint8Array(ram.length).fill(0x5a);
  loadRam(section, dirty, false);
  assert.ok(Buffer.from(dirty).equals(ram), "over other bytes: the zero pages cleared too");
});

test("an increment's pages, a cleared one among them, land over the base", () => {
  const base = guestRam();
  const now = base.slice();
  const marks = new Uint8Array(PAGES);
  for (const p of [2, 3, CHUNK_PAGES + 3, 2 * CHUNK_PAGES + 6]) marks[p] = 1;
  now.fill(0, 3 * PAGE, 4 * PAGE); // the guest cleared a page
  now[2 * PAGE + 9]! ^= 0xff;
  now[(CHUNK_PAGES + 3) * PAGE]! ^= 0xff;
  now[(2 * CHUNK_PAGES + 6) * PAGE + 4095]! ^= 0xff;
  const ram = new Uint8Array(base.length);
  loadRam(saveRam(base), ram, true);
  loadRam(saveRamPages(now, markedPages(marks, PAGES)), ram, true);
  assert.ok(Buffer.from(ram).equals(now));
});

test("a zero page is not stored", () => {
  const map = storedPages(guestRam());
  const stored = (p: number) => (map[p >> 3]! & (1 << (p & 7))) !== 0;
  assert.equal(stored(0), true);
  assert.equal(stored(CHUNK_PAGES), false);
  assert.equal(stored(CHUNK_PAGES + 3), true);
  assert.equal(stored(2 * CHUNK_PAGES + 4), false);
});
