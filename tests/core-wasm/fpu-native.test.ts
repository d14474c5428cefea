// The x87 FPU (core-wasm/assembly/fpu) against the host CPU: tests/core-wasm/gen/fpu/gen.mjs ran
// each case natively and recorded memory, the final FNSAVE image, EFLAGS, AX and #MF into
// fpu-vectors.json. Here the same instruction bytes run through fpuExecute in a standalone
// harness build (fpu/ + a stand-in cpu/access.ts), so no CPU is needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { buildHarness } from "./gen/fpu/build-harness.ts";
import { loadVectors, checkVector, SAVE } from "./gen/fpu/vectors.ts";

interface Harness {
  memory: WebAssembly.Memory;
  fpuExecute(op: number, modrm: number, seg: number, ea: number, o32: number, pm: number, cs: number, ip: number): void;
  fpuWait(): void;
  fpuReset(): void;
  hMemBase(): number;
  hSetFault(lo: number, hi: number): void;
  hBegin(): void;
  hException(): number;
  hEflags(): number;
  hSetEflags(v: number): void;
  hAX(): number;
  hSetAX(v: number): void;
}

const vectors = loadVectors();
const harnessPath = buildHarness();
const wasm = new WebAssembly.Module(readFileSync(harnessPath));
rmSync(dirname(harnessPath), { recursive: true, force: true });
const h = new WebAssembly.Instance(wasm, {
  env: { abort: () => { throw new Error("abort"); } },
}).exports as unknown as Harness;
const mem = () => new Uint8Array(h.memory.buffer, h.hMemBase(), 0x10000);

const DS = 3;
/** The runner's prologue (gen.mjs): eight FLDZ and FNINIT, so empty registers hold +0. */
const PROLOGUE = new Uint8Array([0xd9, 0xee, 0xd9, 0xee, 0xd9, 0xee, 0xd9, 0xee, 0xd9, 0xee, 0xd9, 0xee, 0xd9, 0xee, 0xd9, 0xee, 0xdb, 0xe3]);

/** Run x87 bytes (plus 66 prefixes, FWAIT, LAHF and `mov [ebx+d], ax`) with EBX = 0.
 *  Returns the exception vector that stopped it, or -1. */
function run(code: Uint8Array): number {
  let pc = 0;
  let o16 = false;
  while (pc < code.length) {
    const at = pc;
    const b = code[pc++]!;
    if (b === 0x66) { o16 = true; continue; }
    h.hBegin();
    if (b === 0x9b) {
      h.fpuWait();
    } else if (b === 0x9f) {
      h.hSetAX((h.hAX() & 0xff) | (((h.hEflags() & 0xd5) | 2) << 8)); // lahf
    } else {
      const modrm = code[pc++]!;
      let ea = 0;
      const mod = modrm >> 6;
      if (mod !== 3) {
        assert.equal(modrm & 7, 3, "harness decodes only [ebx+disp]");
        if (mod === 1) ea = (code[pc++]! << 24) >> 24;
        else if (mod === 2) { ea = code[pc]! | (code[pc + 1]! << 8) | (code[pc + 2]! << 16) | (code[pc + 3]! << 24); pc += 4; }
      }
      if (b === 0x89) {
        assert.ok(o16 && (modrm & 0x38) === 0, "only mov m16, ax");
        const m = mem();
        m[ea & 0xffff] = h.hAX() & 0xff;
        m[(ea + 1) & 0xffff] = h.hAX() >> 8;
      } else {
        assert.ok(b >= 0xd8 && b <= 0xdf, `opcode ${b.toString(16)}`);
        h.fpuExecute(b, modrm, DS, ea >>> 0, o16 ? 0 : 1, 1, 0x23, 0x1000 + at);
      }
    }
    o16 = false;
    const e = h.hException();
    if (e >= 0) return e;
  }
  return -1;
}

function f64At(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset + off, 8).getFloat64(0, true);
}

for (const v of vectors) {
  test(`x87 native: ${v.name}`, () => {
    h.fpuReset();
    h.hSetFault(0xffffffff, 0xffffffff);
    const m = mem();
    m.fill(0, 0, 512);
    m.set(Buffer.from(v.mem, "hex"), 0);
    h.hSetEflags(v.eflags);
    h.hSetAX(0);
    assert.equal(run(PROLOGUE), -1);
    const exc = run(Buffer.from(v.code, "hex"));
    assert.equal(exc === 16, v.mf, v.mf ? "expected #MF" : `unexpected exception ${exc}`);
    if (!v.mf) {
      assert.equal(exc, -1);
      h.hBegin();
      h.fpuExecute(0xdd, 0xb3, DS, SAVE, 1, 1, 0x23, 0); // fnsave [ebx+256]
    }
    checkVector(v, m.slice(0, 512), h.hEflags(), h.hAX());
  });
}

test("FSTP m64 across a faulting page leaves memory and the stack unchanged", () => {
  h.fpuReset();
  const m = mem();
  m.fill(0xaa, 0, 64);
  h.hBegin();
  h.fpuExecute(0xd9, 0xe8, DS, 0, 1, 1, 0, 0); // fld1
  h.hSetFault(20, 21); // one byte of the 8-byte store faults
  h.hBegin();
  h.fpuExecute(0xdd, 0x9b, DS, 16, 1, 1, 0, 0); // fstp qword [ebx+16]
  assert.equal(h.hException(), 14);
  assert.deepEqual([...m.slice(16, 24)], Array(8).fill(0xaa));
  h.hSetFault(0xffffffff, 0xffffffff);
  h.hBegin();
  h.fpuExecute(0xdd, 0x9b, DS, 16, 1, 1, 0, 0); // retried: now the value is stored and popped
  assert.equal(h.hException(), -1);
  assert.equal(f64At(m, 16), 1);
});

test("FRSTOR that faults halfway changes no FPU state", () => {
  h.fpuReset();
  const m = mem();
  m.fill(0, 0, 256);
  m[0] = 0x7f; m[1] = 0x0c; // control word 0x0c7f in the image
  h.hSetFault(100, 101);
  h.hBegin();
  h.fpuExecute(0xdd, 0xa3, DS, 0, 1, 1, 0, 0); // frstor [ebx]
  assert.equal(h.hException(), 14);
  h.hSetFault(0xffffffff, 0xffffffff);
  h.hBegin();
  h.fpuExecute(0xd9, 0xbb, DS, 200, 1, 1, 0, 0); // fnstcw [ebx+200]
  assert.equal(m[200]! | (m[201]! << 8), 0x037f);
});

test("unknown encodings raise #UD", () => {
  for (const [op, modrm] of [[0xd9, 0xd1], [0xd9, 0x08], [0xdd, 0x08], [0xdb, 0xe5], [0xde, 0xd8], [0xdf, 0xe1], [0xdb, 0x20]]) {
    h.fpuReset();
    h.hBegin();
    h.fpuExecute(op!, modrm!, DS, 0, 1, 1, 0, 0);
    assert.equal(h.hException(), 6, `${op!.toString(16)} ${modrm!.toString(16)}`);
  }
});

// Real-mode environment layouts cannot run natively here; these follow SDM Vol. 1 Figures 8-10
// and 8-12 (FIP as the linear address CS·16 + IP, FOP beside its top bits).
test("FNSTENV/FLDENV real-mode layouts (SDM Vol. 1 Fig. 8-10, 8-12)", () => {
  const m = mem();
  m.fill(0, 0, 512);
  const dv = new DataView(m.buffer, m.byteOffset);
  dv.setFloat64(0x40, 2, true);
  h.fpuReset();
  h.hSetFault(0xffffffff, 0xffffffff);
  h.hBegin();
  h.fpuExecute(0xd9, 0xe8, DS, 0, 0, 0, 0x1234, 0x0010); // fld1
  h.fpuExecute(0xdc, 0xb3, DS, 0x40, 0, 0, 0x1234, 0x0020); // fdiv qword [ebx+0x40]
  h.fpuExecute(0xd9, 0xb3, DS, 0x100, 0, 0, 0x1234, 0x0030); // fnstenv (16-bit)
  h.fpuExecute(0xd9, 0xb3, DS, 0x120, 1, 0, 0x1234, 0x0040); // fnstenv (32-bit)
  assert.equal(h.hException(), -1);
  const w = (o: number) => dv.getUint16(o, true);
  assert.equal(w(0x100), 0x037f);
  assert.equal(w(0x102), 0x3800); // TOP = 7, 1/2 is exact
  assert.equal(w(0x104), 0x3fff); // ST(0) valid, the rest empty
  assert.equal(w(0x106), 0x2360); // FIP 15..0 of 0x12360
  assert.equal(w(0x108), 0x1000 | 0x4b3); // FIP 19..16, FOP (DC B3)
  assert.equal(w(0x10a), 0x40); // FDP 15..0
  assert.equal(w(0x10c), 0x0000); // FDP 19..16
  // fnstenv masked all exceptions: the second image shows CW 0x037f again (already masked)
  assert.equal(w(0x120), 0x037f);
  assert.equal(w(0x12c), 0x2360);
  assert.equal(dv.getUint32(0x130, true), (0x0001 << 12) | 0x4b3);
  assert.equal(w(0x134), 0x40);
  assert.equal(dv.getUint32(0x138, true), 0);
  // Load the 16-bit real-mode image, store it in protected-mode 32-bit format.
  h.fpuReset();
  h.fpuExecute(0xd9, 0xa3, DS, 0x100, 0, 0, 0, 0); // fldenv (16-bit real)
  h.fpuExecute(0xd9, 0xb3, DS, 0x180, 1, 1, 0, 0); // fnstenv (32-bit protected)
  assert.equal(h.hException(), -1);
  assert.equal(dv.getUint32(0x18c, true), 0x12360); // FIP
  assert.equal(dv.getUint32(0x190, true), 0x4b3 << 16); // FOP, FCS = 0
  assert.equal(dv.getUint32(0x194, true), 0x40); // FDP
  assert.equal(w(0x184), 0x3800);
  assert.equal(w(0x188), 0x3fff);
});
