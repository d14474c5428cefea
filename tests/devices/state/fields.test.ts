// The field-table codec (devices/state/fields.ts): what a table declares is what is saved and
// loaded, in place where it says so; values outside their type are refused when saving (a table
// mistake) and when loading (a damaged file), and a load that fails stores no plain field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadState, saveState, stateShape, type StateTable, type Stateful } from "../../../devices/state/fields.ts";
import { StateError, StateReader, StateWriter } from "../../../devices/state/wire.ts";

class Part implements Stateful {
  readonly stateTable: StateTable = { n: "u8", wide: "u32", signed: "i32", time: "f64", on: "bool", big: "u64", arr: { u32s: 2 } };
  n = 7; wide = 0xdead_beef; signed = -5; time = Infinity; on = true; big = 1n << 63n; arr = new Uint32Array([1, 2]);
}
class Whole implements Stateful {
  readonly stateTable: StateTable = {
    part: "child", parts: { children: 2 }, name: { nullable: { str: 16 } }, data: { blob: 8 },
    list: { list: { record: { a: "u16", b: "bool" } }, max: 3 },
  };
  part = new Part(); parts = [new Part(), new Part()]; name: string | null = "vireo"; data = new Uint8Array([9, 8, 7]);
  list = [{ a: 1, b: true }, { a: 65535, b: false }];
  loaded = 0;
  stateLoaded(): void { this.loaded++; }
}

const bytesOf = (c: Stateful) => { const w = new StateWriter(); saveState(w, c); return w.finish().slice(); };

test("save then load gives the same fields, typed arrays and children in place", () => {
  const a = new Whole();
  a.part.n = 200; a.parts[1]!.arr[0] = 0xffff_ffff; a.name = null; a.list = [{ a: 3, b: true }];
  const b = new Whole();
  const arr = b.parts[1]!.arr, child = b.part;
  loadState(new StateReader(bytesOf(a)), b);
  assert.equal(b.part, child, "child loaded in place");
  assert.equal(b.parts[1]!.arr, arr, "typed array loaded in place");
  assert.equal(b.part.n, 200);
  assert.equal(arr[0], 0xffff_ffff);
  assert.equal(b.name, null);
  assert.deepEqual(b.list, [{ a: 3, b: true }]);
  assert.equal(b.part.time, Infinity);
  assert.equal(b.part.big, 1n << 63n);
  assert.equal(b.part.signed, -5);
  assert.equal(b.loaded, 1);
  assert.deepEqual(bytesOf(b), bytesOf(a));
  assert.equal(stateShape(a), stateShape(b));
});

test("a value outside its declared type is refused when saving", () => {
  const p = new Part();
  p.n = 256;
  assert.throws(() => bytesOf(p), /state\.n: 256 is not a u8/);
  p.n = 1; p.wide = -1;
  assert.throws(() => bytesOf(p), /is not a u32/);
});

test("damaged input: a short read, a bad boolean, an oversized list, NaN — StateError, and no plain field stored", () => {
  const good = bytesOf(new Whole());
  const fresh = () => { const w = new Whole(); w.name = "untouched"; return w; };
  for (let cut = 0; cut < good.length; cut += 7) {
    const w = fresh();
    assert.throws(() => loadState(new StateReader(good.subarray(0, cut)), w), StateError);
    assert.equal(w.name, "untouched");
  }
  const p = new Part();
  const bad = bytesOf(p);
  bad[1 + 4 + 4 + 8] = 2; // `on`
  assert.throws(() => loadState(new StateReader(bad), new Part()), /2 is not a boolean/);
  const nan = bytesOf(p);
  new DataView(nan.buffer).setFloat64(1 + 4 + 4, NaN, true);
  assert.throws(() => loadState(new StateReader(nan), new Part()), /NaN/);
  const w = new StateWriter();
  saveState(w, new Whole());
  const list = w.finish().slice();
  new DataView(list.buffer).setUint32(list.length - 4 * 3 - 4, 1000, true); // the list's count
  assert.throws(() => loadState(new StateReader(list), new Whole()), StateError);
});

test("the shape changes when a table does (a section's schema hash)", () => {
  const a = new Part();
  const b = new Part();
  (b as { stateTable: StateTable }).stateTable = { ...b.stateTable, extra: "u8" };
  assert.notEqual(stateShape(a), stateShape(b));
});
