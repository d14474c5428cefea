// The native x87 vectors (gen/fpu/fpu-vectors.json) run as guest code through the whole core:
// CPU decode, ModRM/segment handling, #MF delivery, FCOMI/FCMOV flags and FNSTSW AX, with
// the FPU behind them. Flat 32-bit mode, EBX = BUF, then FNSAVE [ebx+256] and HLT (IF=0).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as L from "../../core-wasm/build/layout.ts";
import { instantiateCore } from "../../core-wasm/loader.ts";
import { loadVectors, checkVector } from "./gen/fpu/vectors.ts";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const core = instantiateCore(wasm, 1 << 20, { trap() {}, intack: () => 0, rdtsc: () => 0n });
const ex = core.exports as unknown as {
  setupFlat32(eip: number): void;
  setReg(i: number, v: number): void;
  getReg(i: number): number;
  run(budget: number): number;
};

const CODE = 0x1000;
const IDTR = 0x7000; // 6-byte IDT pseudo-descriptor
const GDTR = 0x7008; // 6-byte GDT pseudo-descriptor
const GDT = 0x7100; // null, null, flat code 0x10, flat data 0x18 (setupFlat32's selectors)
const IDT = 0x8000; // 17 gates; only #MF (16) is present
const MF_HANDLER = 0x9000;
const MF_FLAG = 0x9100;
const BUF = 0x20000;

function setupIdt(): void {
  const ram = core.ram;
  ram.fill(0, IDT, IDT + 17 * 8);
  const dv = new DataView(ram.buffer, ram.byteOffset);
  dv.setUint16(IDTR, 17 * 8 - 1, true);
  dv.setUint32(IDTR + 2, IDT, true);
  const g = IDT + 16 * 8; // 32-bit interrupt gate, selector 0x10 (setupFlat32's CS)
  dv.setUint16(g, MF_HANDLER & 0xffff, true);
  dv.setUint16(g + 2, 0x10, true);
  dv.setUint16(g + 4, 0x8e00, true);
  dv.setUint16(g + 6, MF_HANDLER >>> 16, true);
  dv.setUint16(GDTR, 4 * 8 - 1, true);
  dv.setUint32(GDTR + 2, GDT, true);
  dv.setBigUint64(GDT, 0n, true);
  dv.setBigUint64(GDT + 8, 0n, true);
  dv.setBigUint64(GDT + 16, 0x00cf9a000000ffffn, true);
  dv.setBigUint64(GDT + 24, 0x00cf92000000ffffn, true);
  // mov dword [MF_FLAG], 1 ; hlt
  ram.set([0xc7, 0x05, MF_FLAG & 0xff, MF_FLAG >> 8, 0, 0, 1, 0, 0, 0, 0xf4], MF_HANDLER);
}

for (const v of loadVectors()) {
  test(`x87 through the CPU: ${v.name}`, () => {
    const ram = core.ram;
    setupIdt();
    ram.fill(0, MF_FLAG, MF_FLAG + 4);
    ram.fill(0, BUF, BUF + 512);
    ram.set(Buffer.from(v.mem, "hex"), BUF);
    const body = Buffer.from(v.code, "hex");
    const prog = [
      0x0f, 0x01, 0x15, ...le32(GDTR), // lgdt [GDTR]
      0x0f, 0x01, 0x1d, ...le32(IDTR), // lidt [IDTR]
      0xbb, ...le32(BUF), // mov ebx, BUF
      0xdb, 0xe3, // fninit
      ...Array(8).fill([0xd9, 0xee]).flat(), 0xdb, 0xe3, // fldz ×8, fninit: empty registers hold +0
      ...body,
      0xdd, 0xb3, ...le32(256), // fnsave [ebx+256]
      0xf4, // hlt
    ];
    ram.set(prog, CODE);
    ex.setupFlat32(CODE);
    ex.setReg(0, 0);
    ex.setReg(4, 0x80000); // ESP for the #MF frame
    ex.setReg(9, (v.eflags & ~0x200) | 2); // IF=0: HLT powers off
    const exit = ex.run(1_000_000);
    assert.equal(exit, L.EXIT_POWEROFF, "the program ends in HLT");
    const mf = ram[MF_FLAG] === 1;
    assert.equal(mf, v.mf, v.mf ? "expected #MF" : "unexpected #MF");
    checkVector(v, ram.slice(BUF, BUF + 512), ex.getReg(9), ex.getReg(0) & 0xffff);
  });
}

function le32(x: number): number[] {
  return [x & 0xff, (x >> 8) & 0xff, (x >> 16) & 0xff, x >>> 24];
}
