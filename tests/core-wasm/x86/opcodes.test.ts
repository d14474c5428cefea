// The x86 opcode table (core-wasm/x86/opcodes.ts): its rows are consistent, the interpreter's
// generated tables (core-wasm/build/opcode-tables.ts) are what the table derives, and both
// agree with the tables that were written by hand before it — except where listed, with why.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { OPCODES, PREFIXES } from "../../../core-wasm/x86/opcodes.ts";
import {
  opInfo, opLock, rowFor, rowsOf, immOf, continuesBlock, KNOWN, MODRM, renderAssemblyScript,
  OPI_MODRM, OPI_IMM_SHIFT, OPI_PRECISE, OPI_BRANCH, OPI_PREFIX, IMM_CODES,
} from "../../../core-wasm/x86/derive.ts";
import * as old from "./legacy-tables.ts";

const fromRanges = (r: [number, number][]) => {
  const t = new Uint8Array(256);
  for (const [a, b] of r) for (let i = a; i <= b; i++) t[i] = 1;
  return t;
};
const hex = (i: number) => "0x" + i.toString(16);

test("every opcode of both maps has a row (or is a prefix / the escape), each reg at most once", () => {
  const prefixes = new Set(PREFIXES.map((p) => p.byte));
  for (let i = 0; i < 512; i++) {
    const rows = rowsOf(i);
    if (i < 0x100 && (prefixes.has(i) || i === 0x0f)) { assert.equal(rows.length, 0, hex(i)); continue; }
    assert.ok(rows.length > 0, `no row for ${hex(i)}`);
    if (rows.length > 1) {
      const regs = rows.map((r) => r.reg).sort();
      assert.deepEqual(regs, [0, 1, 2, 3, 4, 5, 6, 7], `group ${hex(i)} covers every reg once`);
      assert.ok(rows.every((r) => r.modrm), `group ${hex(i)} has ModRM`);
    }
  }
  assert.equal(OPCODES.filter((r) => r.jit === "inline" && !r.impl).length, 0, "nothing unimplemented is inline");
});

test("the generated AssemblyScript tables are the table's derivation", () => {
  const text = readFileSync(new URL("../../../core-wasm/build/opcode-tables.ts", import.meta.url), "utf8");
  assert.equal(text, renderAssemblyScript(), "core-wasm/build/opcode-tables.ts is stale: npm run build:core");
  const data = (name: string) => {
    const m = new RegExp(`export const ${name}: usize = memory.data<u8>\\(\\[([^\\]]*)\\]\\);`).exec(text)!;
    return Uint8Array.from(m[1]!.split(",").map((s) => s.trim()).filter(Boolean).map(Number));
  };
  assert.deepEqual(data("OP_INFO"), opInfo());
  assert.deepEqual(data("OP_LOCK"), opLock());
});

test("prefix bytes agree with run.ts's PREFIX_TABLE", () => {
  const info = opInfo();
  for (let b = 0; b < 256; b++) assert.equal((info[b]! & OPI_PREFIX) !== 0, old.PREFIX_TABLE[b] === 1, hex(b));
});

test("control transfers agree with run.ts's BRANCH_TABLE, plus INT1", () => {
  const info = opInfo();
  for (let b = 0; b < 256; b++) {
    const was = old.BRANCH_TABLE[b] === 1;
    const now = (info[b]! & OPI_BRANCH) !== 0;
    // INT1 (F1) enters its handler like INT3: the run loop now looks for a block there too.
    if (b === 0xf1) { assert.ok(now && !was); continue; }
    assert.equal(now, was, hex(b));
  }
});

test("ModRM and immediate kinds agree with oplen.ts's ONE_BYTE and TWO_BYTE", () => {
  const info = opInfo();
  for (let i = 0; i < 512; i++) {
    const was = i < 0x100 ? old.ONE_BYTE[i]! : old.TWO_BYTE[i & 0xff]!;
    if (i === 0x0f) continue; // the escape: oplen.ts never looks it up
    const now = info[i]! & (OPI_MODRM | (7 << OPI_IMM_SHIFT));
    assert.equal(now, was, `${hex(i)}: ${rowsOf(i)[0]?.name}`);
  }
});

test("LOCK validity agrees with run.ts's lockValid", () => {
  const lock = opLock();
  for (let i = 0; i < 512; i++) {
    for (let reg = 0; reg < 8; reg++) assert.equal(((lock[i]! >> reg) & 1) === 1, old.lockValid(i, reg), `${hex(i)} /${reg}`);
  }
});

test("the decoder's ModRM, known-opcode and immediate facts agree with x86-decode.ts's", () => {
  const m1 = fromRanges(old.MODRM1), m2 = fromRanges(old.MODRM2), k2 = fromRanges(old.KNOWN2);
  for (let b = 0; b < 256; b++) {
    assert.equal(MODRM[b], m1[b], `modrm ${hex(b)}`);
    if (!k2[b]) continue; // x86-decode.ts had no ModRM facts for 0F opcodes it did not know
    assert.equal(MODRM[0x100 | b], m2[b], `modrm 0F ${hex(b)}`);
  }
  // Known 0F opcodes: the table adds the ones the interpreter runs that x86-decode.ts left out
  // (0F 0D prefetch NOP, UD1, UD0); the translator now steps them instead of declining the block.
  // And drops 0F AA (RSM), which this CPU does not execute (#UD, as the interpreter raises).
  const added = new Set([0x0d, 0xb9, 0xff]), dropped = new Set([0xaa]);
  const known: string[] = [];
  for (let b = 0; b < 256; b++) {
    if ((KNOWN[0x100 | b] === 1) !== ((k2[b] === 1 || added.has(b)) && !dropped.has(b))) known.push(hex(b));
  }
  assert.deepEqual(known, []);
  const imm = { none: 0, ib: 1, iw: 2, iz: "z", iwib: "iwib", ptr: "ptr", moffs: "moffs" } as const;
  for (let b = 0; b < 256; b++) {
    if (rowsOf(b).length === 0) continue;
    for (let reg = 0; reg < 8; reg++) assert.equal(imm[immOf(b, reg)], old.imm1(b, reg), `imm ${hex(b)} /${reg}`);
  }
  assert.equal(KNOWN[0xd6], 0, "SALC is left to the interpreter");
  assert.equal(KNOWN[0xf1], 0, "INT1 is left to the interpreter");
});

test("which instructions a block goes on after agrees with translate.ts's CONT1/CONT2, except where listed", () => {
  const c1 = fromRanges(old.CONT1), c2 = fromRanges(old.CONT2);
  // Changes nothing a block assumes, so the table lets a block go on; translate.ts was stricter:
  const more = new Set([
    0x62, 0x63, // BOUND (#BR is a fault like any other), ARPL (ZF)
    0x80, 0x81, 0x82, 0x83, // group 1, stepped when the translator declines a form
    0xa6, 0xa7, // CMPS, like SCAS (an unfinished REP leaves EIP on itself)
    0x06, 0x0e, 0x16, 0x1e, // PUSH of a segment register reads the selector only
    0xd6, // SALC: never asked, the decoder leaves it to the interpreter
  ]);
  const diffs: string[] = [];
  for (let i = 0; i < 512; i++) {
    if (rowsOf(i).length === 0) continue;
    for (let reg = 0; reg < 8; reg++) {
      const was = old.continues(i, reg, c1, c2);
      const now = continuesBlock(i, reg);
      if (was === now) continue;
      if (now && more.has(i)) continue;
      diffs.push(`${hex(i)} /${reg} ${rowFor(i, reg)?.name}: was ${was}, now ${now}`);
    }
  }
  assert.deepEqual(diffs, []);
});

test("rows the step loop runs without a snapshot are ones that fault before writing state", () => {
  const info = opInfo();
  // String instructions fold their progress into the snapshot: they must always get one.
  for (const b of [0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0x6c, 0x6d, 0x6e, 0x6f]) {
    assert.equal(info[b]! & OPI_PRECISE, 0, hex(b));
  }
  // Multi-write instructions and those that move ESP before a later access.
  for (const b of [0x60, 0x61, 0x8f, 0x9d, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0x9a, 0xea]) {
    assert.equal(info[b]! & OPI_PRECISE, 0, hex(b));
  }
  assert.equal(IMM_CODES.grp3, (info[0xf6]! >> OPI_IMM_SHIFT) & 7);
});

test("undefined flags (UNDEFINED_FLAGS) are set on the rows the SDM names, and only arithmetic flags", () => {
  for (const r of OPCODES) if (r.undef !== undefined) assert.equal(r.undef & ~0x8d5, 0, `${r.name}: undef ${hex(r.undef)}`);
  // BT* leave OF SF AF PF undefined by the SDM; Vireo (as the AMD host) does not change them.
  assert.deepEqual([rowFor(0x1a3)!.undef, rowFor(0x1a3)!.write], [0x894, 0x1], "BT: undefined, yet not written");
  const undefOf = (i: number, reg = 0) => rowFor(i, reg)?.undef ?? 0;
  assert.equal(undefOf(0xf7, 4), 0xd4, "MUL: SF ZF AF PF");
  assert.equal(undefOf(0xf7, 6), 0x8d5, "DIV: all six");
  assert.equal(undefOf(0x1bc), 0x895, "BSF: all but ZF");
  assert.equal(undefOf(0x21), 0x10, "AND: AF");
  assert.equal(undefOf(0x01), 0, "ADD: none");
});
