// The one way a component puts its state into a snapshot: a declared field table (property name
// → type), from which both saving and loading are derived. A device lists its fields next to its
// reset() — what reset() sets is what the table must hold — and the codec reads and writes those
// properties; state that is not a plain property (a ring walker, held descriptor chains, open
// 9p fids) is exposed as an accessor property of plain data under the name the table gives.
//
// Loading is defensive: every value is range-checked against its type before it is stored, every
// length before anything is allocated, and a fixed array must have exactly its length.
import { StateError, type StateReader, type StateWriter } from "./wire.ts";

export type Scalar = "u8" | "u16" | "u32" | "i32" | "f64" | "bool" | "u64";
export type Field =
  | Scalar
  /** A whole number from 0 to `upTo` (an index, a mode): a state saying more is damaged. */
  | { readonly upTo: number }
  /** A Uint8Array / Uint32Array property of fixed length, loaded in place. */
  | { readonly u8s: number }
  | { readonly u32s: number }
  /** A Uint8Array of at most `blob` bytes, replaced on load. */
  | { readonly blob: number }
  /** A string of at most `str` UTF-8 bytes. */
  | { readonly str: number }
  /** null, or a value of `nullable`. */
  | { readonly nullable: Field }
  /** An array of at most `max` values of `list`. */
  | { readonly list: Field; readonly max: number }
  /** A plain object with the fields of `record` (a new object on load). */
  | { readonly record: StateTable }
  /** A nested component (a Stateful property), loaded in place through its own table. */
  | "child"
  /** An array of exactly `children` nested components, loaded in place. */
  | { readonly children: number };
export type StateTable = Readonly<Record<string, Field>>;

/** A component a snapshot can hold: its table, and what to rebuild after a load. */
export interface Stateful {
  /** The fields saved and restored, by property name. */
  readonly stateTable: StateTable;
  /** After a load: re-derive what follows from the fields (bus mappings, caches). */
  stateLoaded?(): void;
}

type Obj = Record<string, unknown>;
const prop = (o: object, k: string): unknown => (o as Obj)[k];

const RANGE: Record<string, [number, number]> = {
  u8: [0, 0xff], u16: [0, 0xffff], u32: [0, 0xffff_ffff], i32: [-0x8000_0000, 0x7fff_ffff],
};

function bad(path: string, why: string): never {
  throw new StateError(`state field ${path}: ${why}`);
}

function writeValue(w: StateWriter, f: Field, v: unknown, path: string): void {
  if (typeof f === "string") {
    switch (f) {
      case "u8": case "u16": case "u32": case "i32": {
        const [lo, hi] = RANGE[f]!;
        // A value outside its declared type is a table mistake: say so while saving, not later.
        if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) bad(path, `${String(v)} is not a ${f}`);
        if (f === "u8") w.u8(v); else if (f === "u16") w.u16(v); else if (f === "u32") w.u32(v); else w.i32(v);
        return;
      }
      case "f64": if (typeof v !== "number") bad(path, "not a number"); w.f64(v); return;
      case "bool": if (typeof v !== "boolean") bad(path, "not a boolean"); w.u8(v ? 1 : 0); return;
      case "u64": if (typeof v !== "bigint") bad(path, "not a bigint"); w.u64(v); return;
      case "child": saveState(w, v as Stateful, path); return;
    }
  }
  if ("upTo" in f) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > f.upTo) bad(path, `${String(v)} is not in 0..${f.upTo}`);
    w.u32(v);
  } else if ("u8s" in f || "u32s" in f) {
    const n = "u8s" in f ? f.u8s : f.u32s;
    const ok = "u8s" in f ? v instanceof Uint8Array : v instanceof Uint32Array;
    if (!ok || (v as ArrayLike<number>).length !== n) bad(path, `not a typed array of ${n}`);
    if ("u8s" in f) w.bytes(v as Uint8Array); else for (const x of v as Uint32Array) w.u32(x);
  } else if ("blob" in f) {
    if (!(v instanceof Uint8Array) || v.length > f.blob) bad(path, `not bytes of at most ${f.blob}`);
    w.blob(v);
  } else if ("str" in f) {
    if (typeof v !== "string") bad(path, "not a string");
    w.str(v);
  } else if ("nullable" in f) {
    w.u8(v === null || v === undefined ? 0 : 1);
    if (v !== null && v !== undefined) writeValue(w, f.nullable, v, path);
  } else if ("list" in f) {
    if (!Array.isArray(v) || v.length > f.max) bad(path, `not a list of at most ${f.max}`);
    w.u32(v.length);
    v.forEach((x, i) => writeValue(w, f.list, x, `${path}[${i}]`));
  } else if ("record" in f) {
    if (typeof v !== "object" || v === null) bad(path, "not a record");
    for (const [k, ff] of Object.entries(f.record)) writeValue(w, ff, prop(v, k), `${path}.${k}`);
  } else if ("children" in f) {
    if (!Array.isArray(v) || v.length !== f.children) bad(path, `not ${f.children} components`);
    v.forEach((c, i) => saveState(w, c as Stateful, `${path}[${i}]`));
  }
}

/** Read one value of `f`; `into` is the current value for fields loaded in place. */
function readValue(r: StateReader, f: Field, into: unknown, path: string): unknown {
  if (typeof f === "string") {
    switch (f) {
      case "u8": return r.u8(path);
      case "u16": return r.u16(path);
      case "u32": return r.u32(path);
      case "i32": return r.i32(path);
      case "f64": {
        const v = r.f64(path);
        if (Number.isNaN(v)) bad(path, "NaN");
        return v;
      }
      case "bool": {
        const b = r.u8(path);
        if (b > 1) bad(path, `${b} is not a boolean`);
        return b === 1;
      }
      case "u64": return r.u64(path);
      case "child": loadState(r, into as Stateful, path); return into;
    }
  }
  if ("upTo" in f) {
    const v = r.u32(path);
    if (v > f.upTo) bad(path, `${v} is not in 0..${f.upTo}`);
    return v;
  }
  if ("u8s" in f) {
    (into as Uint8Array).set(r.bytes(f.u8s, path));
    return into;
  }
  if ("u32s" in f) {
    const a = into as Uint32Array;
    for (let i = 0; i < f.u32s; i++) a[i] = r.u32(path);
    return into;
  }
  if ("blob" in f) return r.blob(f.blob, path).slice();
  if ("str" in f) return r.str(f.str, path);
  if ("nullable" in f) {
    const tag = r.u8(path);
    if (tag > 1) bad(path, `presence byte ${tag}`);
    return tag === 0 ? null : readValue(r, f.nullable, into, path);
  }
  if ("list" in f) {
    const n = r.u32(path);
    // Every element takes at least a byte: a count beyond what is left is damage, found before allocating.
    if (n > f.max || n > r.left) bad(path, `list of ${n} (at most ${Math.min(f.max, r.left)})`);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(readValue(r, f.list, undefined, `${path}[${i}]`));
    return out;
  }
  if ("record" in f) {
    const o: Obj = {};
    for (const [k, ff] of Object.entries(f.record)) o[k] = readValue(r, ff, undefined, `${path}.${k}`);
    return o;
  }
  const arr = into as Stateful[];
  arr.forEach((c, i) => loadState(r, c, `${path}[${i}]`));
  return into;
}

const inPlace = (f: Field): boolean => f === "child" || (typeof f === "object" && ("u8s" in f || "u32s" in f || "children" in f));

/** Write every field of `c`'s table, in table order. */
export function saveState(w: StateWriter, c: Stateful, path = "state"): void {
  for (const [k, f] of Object.entries(c.stateTable)) writeValue(w, f, prop(c, k), `${path}.${k}`);
}

/**
 * Read every field of `c`'s table and store it; then c.stateLoaded(). Fields loaded in place
 * (typed arrays, nested components) must already exist on `c` with the table's shape.
 */
export function loadState(r: StateReader, c: Stateful, path = "state"): void {
  const values: [string, unknown][] = [];
  for (const [k, f] of Object.entries(c.stateTable)) {
    const cur = prop(c, k);
    if (inPlace(f) && (cur === null || cur === undefined)) bad(`${path}.${k}`, "the component has no such part");
    if (typeof f === "object" && "children" in f && (!Array.isArray(cur) || cur.length !== f.children)) bad(`${path}.${k}`, `not ${f.children} components`);
    values.push([k, readValue(r, f, cur, `${path}.${k}`)]);
  }
  // Stored only once all of them read well, so a damaged field leaves plain fields untouched.
  for (const [k, v] of values) if (!inPlace(c.stateTable[k]!)) (c as unknown as Obj)[k] = v;
  c.stateLoaded?.();
}

/** The shape of `c`'s state (its table, nested tables resolved) as text: a section's schema. */
export function stateShape(c: Stateful): string {
  const one = (f: Field, v: unknown): unknown => {
    if (f === "child") return stateShape(v as Stateful);
    if (typeof f === "object" && "children" in f) return (v as Stateful[]).map(stateShape);
    return f;
  };
  return JSON.stringify(Object.entries(c.stateTable).map(([k, f]) => [k, one(f, prop(c, k))]));
}
