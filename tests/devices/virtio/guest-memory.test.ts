// RamMemory's written-page marks (devices/virtio/guest-memory.ts): what the devices write into
// guest RAM (ring fields, completed chains' buffers) goes in the next incremental snapshot; what
// they only read does not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RamMemory } from "../../../devices/virtio/guest-memory.ts";

test("device writes mark exactly their pages; reads mark none", () => {
  const pages = new Uint8Array(8);
  const mem = new RamMemory(new Uint8Array(8 * 4096), undefined, pages);
  const marked = () => [...pages.keys()].filter((p) => pages[p] !== 0);
  mem.u32(0x1000); mem.u16(0x2000); mem.view(0x3000, 4096); mem.u64(0x4000);
  assert.deepEqual(marked(), [], "reads");
  mem.setU16(0x5002, 7);
  assert.deepEqual(marked(), [5]);
  mem.setU32(0x0ffe, 1); // crosses into page 1
  assert.deepEqual(marked(), [0, 1, 5]);
  mem.written(0x6ff0, 0x20); // a completed chain's buffer over two pages
  assert.deepEqual(marked(), [0, 1, 5, 6, 7]);
  mem.written(0x2000, 0);
  assert.deepEqual(marked(), [0, 1, 5, 6, 7], "an empty buffer");
});
