import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryBlockBackend, SECTOR_SIZE, inBounds } from "../../../devices/host/block.ts";
import { NodeFileBlockBackend } from "../../../devices/host/node-file-block.ts";

test("a memory disk reads and writes its bytes and refuses ranges outside it", () => {
  const bytes = new Uint8Array(2 * SECTOR_SIZE);
  const d = new MemoryBlockBackend(bytes, { id: "m1" });
  assert.equal(d.size, 1024);
  assert.equal(d.readonly, false);
  assert.equal(d.id, "m1");
  d.write(510, new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual([...bytes.subarray(510, 514)], [1, 2, 3, 4]);
  const dst = new Uint8Array(4);
  d.read(510, dst);
  assert.deepEqual([...dst], [1, 2, 3, 4]);
  assert.throws(() => d.write(1022, new Uint8Array(4)), RangeError);
  assert.throws(() => d.read(-1, new Uint8Array(1)), RangeError);
  assert.equal(bytes[1022], 0);
  assert.equal(d.flush(), undefined); // synchronous flush
  assert.equal(d.flushes, 1);
});

test("a memory disk must be a whole number of sectors, and a read-only one refuses writes", () => {
  assert.throws(() => new MemoryBlockBackend(new Uint8Array(1000)), /not a multiple of 512/);
  const ro = new MemoryBlockBackend(new Uint8Array(512), { readonly: true });
  assert.equal(ro.readonly, true);
  assert.throws(() => ro.write(0, new Uint8Array(1)));
});

test("inBounds rejects negative, fractional and overflowing ranges", () => {
  assert.equal(inBounds(1024, 0, 1024), true);
  assert.equal(inBounds(1024, 1, 1024), false);
  assert.equal(inBounds(1024, -512, 512), false);
  assert.equal(inBounds(1024, 0.5, 1), false);
  assert.equal(inBounds(1024, 2 ** 53, 0), false);
});

test("a file disk reads, writes and fsyncs the file; read-only opens refuse writes", () => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-blk-"));
  try {
    const path = join(dir, "disk.img");
    const img = new Uint8Array(4 * SECTOR_SIZE);
    img[600] = 0x5a;
    writeFileSync(path, img);
    const d = new NodeFileBlockBackend(path);
    assert.equal(d.size, 2048);
    assert.equal(d.id, "disk.img");
    const dst = new Uint8Array(2);
    d.read(599, dst);
    assert.deepEqual([...dst], [0, 0x5a]);
    d.write(1536, new Uint8Array(512).fill(0xee));
    d.flush();
    assert.throws(() => d.write(2040, new Uint8Array(16)), RangeError);
    d.close();
    const after = readFileSync(path);
    assert.equal(after.length, 2048); // never grown
    assert.equal(after[1536], 0xee);
    assert.equal(after[2047], 0xee);

    const ro = new NodeFileBlockBackend(path, { readonly: true, id: "root" });
    assert.equal(ro.readonly, true);
    assert.equal(ro.id, "root");
    assert.throws(() => ro.write(0, new Uint8Array(1)));
    ro.flush();
    ro.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a file whose size is not a multiple of 512 is refused with a clear message", () => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-blk-"));
  try {
    const path = join(dir, "odd.img");
    writeFileSync(path, new Uint8Array(1000));
    assert.throws(() => new NodeFileBlockBackend(path), /odd\.img: size 1000 bytes is not a multiple of 512/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
