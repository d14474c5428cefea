// A minimal WebAssembly binary writer (core spec §5 "Binary Format"): LEB128 numbers, the
// instructions the translator emits, and a module with one exported function. Only what the
// JIT needs; no validation beyond what WebAssembly.Module does.

/** Opcodes used by the translator (core spec §5.4). */
export const enum Op {
  unreachable = 0x00, block = 0x02, loop = 0x03, if = 0x04, else = 0x05, end = 0x0b, br = 0x0c, br_if = 0x0d, br_table = 0x0e,
  return = 0x0f, call = 0x10, call_indirect = 0x11, drop = 0x1a, select = 0x1b,
  local_get = 0x20, local_set = 0x21, local_tee = 0x22, global_get = 0x23, global_set = 0x24,
  i32_load = 0x28, i32_load8_s = 0x2c, i32_load8_u = 0x2d, i32_load16_s = 0x2e, i32_load16_u = 0x2f,
  i32_store = 0x36, i64_store = 0x37, i32_store8 = 0x3a, i32_store16 = 0x3b,
  i32_const = 0x41, i64_const = 0x42,
  i32_eqz = 0x45, i32_eq = 0x46, i32_ne = 0x47, i32_lt_s = 0x48, i32_lt_u = 0x49, i32_gt_s = 0x4a,
  i32_gt_u = 0x4b, i32_le_s = 0x4c, i32_le_u = 0x4d, i32_ge_s = 0x4e, i32_ge_u = 0x4f,
  i32_popcnt = 0x69, i32_add = 0x6a, i32_sub = 0x6b, i32_mul = 0x6c, i32_and = 0x71, i32_or = 0x72,
  i32_xor = 0x73, i32_shl = 0x74, i32_shr_s = 0x75, i32_shr_u = 0x76, i32_rotl = 0x77, i32_rotr = 0x78,
  i64_mul = 0x7e, i64_shr_s = 0x87, i64_shr_u = 0x88, i32_wrap_i64 = 0xa7, i64_extend_i32_s = 0xac, i64_extend_i32_u = 0xad,
  i64_add = 0x7c, i32_extend8_s = 0xc0, i32_extend16_s = 0xc1,
}

export const I32 = 0x7f, I64 = 0x7e, VOID = 0x40;

/** A growable byte buffer with the encodings of §5.2. */
export class Bytes {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  length = 0;

  byte(b: number): this {
    if (this.length === this.buf.length) {
      const n = new Uint8Array(this.buf.length * 2);
      n.set(this.buf);
      this.buf = n;
    }
    this.buf[this.length++] = b;
    return this;
  }
  bytes(bs: ArrayLike<number>): this {
    const n = bs.length;
    if (this.length + n > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      grown.set(this.buf);
      this.buf = grown;
    }
    if (bs instanceof Uint8Array) this.buf.set(bs, this.length);
    else for (let i = 0; i < n; i++) this.buf[this.length + i] = bs[i]!;
    this.length += n;
    return this;
  }
  u32(v: number): this { // unsigned LEB128
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
    return this;
  }
  s32(v: number): this { // signed LEB128
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { this.byte(b); return this; }
      this.byte(b | 0x80);
    }
  }
  s64(v: bigint): this { // signed LEB128 of an i64 constant
    v = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) { this.byte(b); return this; }
      this.byte(b | 0x80);
    }
  }
  name(s: string): this {
    const e = new TextEncoder().encode(s);
    return this.u32(e.length).bytes(e);
  }
  /** A length-prefixed copy of another buffer (a section or a function body). */
  sized(b: Bytes): this { return this.u32(b.length).bytes(b.view()); }
  view(): Uint8Array<ArrayBuffer> { return this.buf.subarray(0, this.length); }
}

export interface FuncType { params: number[]; results: number[] }
export type Import =
  | { module: string; name: string; kind: "func"; type: number }
  | { module: string; name: string; kind: "global"; valType: number; mutable: boolean }
  | { module: string; name: string; kind: "memory"; min: number; max: number; shared: boolean }
  | { module: string; name: string; kind: "table"; min: number };

/** The part of a module before its code section: header, types, imports, `nFuncs` functions
 *  of type `funcType` exported as "0", "1", ..., and mutable globals of its own (types
 *  `ownGlobals`, zero at start, indexed after the imported ones). The same for every batch of
 *  a size, so it is built once per size. */
export function modulePrefix(types: FuncType[], imports: Import[], funcType: number, nFuncs: number, ownGlobals: readonly number[] = []): Uint8Array {
  const out = new Bytes();
  out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const section = (id: number, content: Bytes) => { out.byte(id).sized(content); };

  const t = new Bytes().u32(types.length);
  for (const ft of types) t.byte(0x60).u32(ft.params.length).bytes(ft.params).u32(ft.results.length).bytes(ft.results);
  section(1, t);

  const im = new Bytes().u32(imports.length);
  for (const i of imports) {
    im.name(i.module).name(i.name);
    if (i.kind === "func") im.byte(0x00).u32(i.type);
    else if (i.kind === "global") im.byte(0x03).byte(i.valType).byte(i.mutable ? 1 : 0);
    else if (i.kind === "table") im.byte(0x01).byte(0x70).byte(0x00).u32(i.min); // funcref, no maximum
    else im.byte(0x02).byte(i.shared ? 0x03 : 0x01).u32(i.min).u32(i.max);
  }
  section(2, im);

  const fs = new Bytes().u32(nFuncs);
  for (let k = 0; k < nFuncs; k++) fs.u32(funcType);
  section(3, fs);
  if (ownGlobals.length) {
    const gs = new Bytes().u32(ownGlobals.length);
    for (const t of ownGlobals) gs.byte(t).byte(1).byte(t === I64 ? Op.i64_const : Op.i32_const).byte(0).byte(Op.end);
    section(6, gs);
  }
  const nImportedFuncs = imports.filter((i) => i.kind === "func").length;
  const ex = new Bytes().u32(nFuncs);
  for (let k = 0; k < nFuncs; k++) ex.name(String(k)).byte(0x00).u32(nImportedFuncs + k);
  section(7, ex);
  return out.view().slice();
}

export interface FuncBody {
  /** Types of the locals beyond the parameters. */
  locals: number[];
  /** The instructions, without the final `end`. */
  body: Bytes;
}

/** A whole module: `prefix` (modulePrefix for funcs.length), then the code section, and a
 *  name section when `names` are given (function k is called names[k] in profiles). */
export function buildModule(prefix: Uint8Array, funcs: FuncBody[], names?: readonly string[]): Uint8Array<ArrayBuffer> {
  const code = new Bytes().u32(funcs.length);
  for (const fn of funcs) {
    const f = new Bytes();
    // Locals, run-length grouped by type.
    const groups: [number, number][] = [];
    for (const l of fn.locals) {
      const g = groups[groups.length - 1];
      if (g && g[1] === l) g[0]++;
      else groups.push([1, l]);
    }
    f.u32(groups.length);
    for (const [n, ty] of groups) f.u32(n).byte(ty);
    f.bytes(fn.body.view()).byte(Op.end);
    code.sized(f);
  }
  const out = new Bytes();
  out.bytes(prefix).byte(10).sized(code);
  if (names) { // custom section "name", subsection 1: function names (appendix 7.4.1)
    const map = new Bytes().u32(names.length);
    names.forEach((n, k) => map.u32(k).name(n));
    out.byte(0).sized(new Bytes().name("name").byte(1).sized(map));
  }
  return out.view().slice();
}
