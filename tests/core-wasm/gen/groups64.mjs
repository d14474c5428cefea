// Cases recorded with runner64.c (64-bit mode) because this project's host cannot run 32-bit
// code: only encodings whose 32-bit-mode meaning equals their 64-bit-mode meaning (no REX-range
// opcodes, no stack, memory through [ebx] / [ebx+disp8] with EBX in the window, see runner64.c).
// Both groups are about results the Intel SDM leaves undefined, so every case compares ALL
// status flags and every register: the expected values are this host's CPU's (the file's
// "host"). Vireo matches that CPU; a vector from another vendor would differ on purpose.
import { Group } from "./groups.mjs";
import {
  ALL, BUF, EAX, EBX, ECX, EDI, EDX, ESI, ESP, edges, home, imm, le32, mask, modrm, osz, setOp, values, w,
} from "./x86.mjs";

/** Two registers with different homes, neither ESP's nor in `avoid`. */
function twoRegs(rng, size, avoid = []) {
  for (;;) {
    const a = rng.below(8), b = rng.below(8);
    const ha = home(size, a), hb = home(size, b);
    if (ha === hb || [ESP, ...avoid].includes(ha) || [ESP, ...avoid].includes(hb)) continue;
    return [a, b];
  }
}
function oneReg(rng, size, avoid = []) {
  for (;;) {
    const a = rng.below(8);
    if (![ESP, ...avoid].includes(home(size, a))) return a;
  }
}
const randBytes = (rng, n) => Array.from({ length: n }, () => rng.u32() & 0xff);
function putLE(mem, off, size, v) {
  for (let i = 0; i < size / 8; i++) mem[off + i] = (v >>> (8 * i)) & 0xff;
}
/** Random status flags and sometimes DF. */
const flagsIn = (rng) => rng.flags() | (rng.below(8) === 0 ? 0x400 : 0);

// ---- SHLD / SHRD: every count 0-31 (and a few above), 16 and 32 bits, reg and memory, CL and imm
export function shiftd() {
  const g = new Group("shiftd", "SHLD/SHRD every count 0-31 (and 32, 33, 63, 255), 16/32-bit, register and [ebx] memory, CL and imm8; undefined results and flags included", 0x5d5d0020);
  const rng = g.rng;
  const COUNTS = [...Array.from({ length: 32 }, (_, i) => i), 32, 33, 48, 63, 255];
  for (const [op, opc] of [["SHLD", 0xa4], ["SHRD", 0xac]]) {
    for (const size of [16, 32]) {
      const p = osz(size), e = edges(size);
      const pair = (i) => [i < 3 ? e[(i * 7) % e.length] : rng.operand(size), i < 2 ? rng.operand(size) : i === 2 ? mask(size) : rng.operand(size)];
      let t = g.test(`${op} r${size}, r${size}, CL (0f ${(opc + 1).toString(16)})`, ALL);
      for (const count of COUNTS) for (let i = 0; i < 6; i++) {
        const [a, b] = pair(i), [dst, src] = twoRegs(rng, size, [ECX]);
        t.add([...p, 0x0f, opc + 1, modrm(3, src, dst)], (r) => { setOp(r, size, dst, a); setOp(r, size, src, b); setOp(r, 8, 1, count); }, flagsIn(rng));
      }
      t = g.test(`${op} r${size}, r${size}, imm8 (0f ${opc.toString(16)})`, ALL);
      for (const count of COUNTS) for (let i = 0; i < 6; i++) {
        const [a, b] = pair(i), [dst, src] = twoRegs(rng, size);
        t.add([...p, 0x0f, opc, modrm(3, src, dst), count], (r) => { setOp(r, size, dst, a); setOp(r, size, src, b); }, flagsIn(rng));
      }
      t = g.test(`${op} m${size}, r${size}, CL (0f ${(opc + 1).toString(16)} [ebx])`, ALL);
      for (const count of COUNTS) for (let i = 0; i < 2; i++) {
        const [a, b] = pair(i + 3), src = oneReg(rng, size, [ECX, EBX]), mem = randBytes(rng, 8), off = rng.below(4);
        putLE(mem, off, size, a);
        t.add([...p, 0x0f, opc + 1, modrm(0, src, EBX)], (r) => { r[EBX] = BUF + off; setOp(r, size, src, b); setOp(r, 8, 1, count); }, flagsIn(rng), { mem });
      }
      t = g.test(`${op} m${size}, r${size}, imm8 (0f ${opc.toString(16)} [ebx+disp8])`, ALL);
      for (const count of COUNTS) for (let i = 0; i < 2; i++) {
        const [a, b] = pair(i + 3), src = oneReg(rng, size, [EBX]), mem = randBytes(rng, 8), off = rng.below(4);
        putLE(mem, off, size, a);
        t.add([...p, 0x0f, opc, modrm(1, src, EBX), off, count], (r) => { r[EBX] = BUF; setOp(r, size, src, b); }, flagsIn(rng), { mem });
      }
    }
  }
  return g;
}

// ---- the corners the SDM calls undefined ------------------------------------------------------
const SHIFTS = [["ROL", 0], ["ROR", 1], ["RCL", 2], ["RCR", 3], ["SHL", 4], ["SHR", 5], ["SAL", 6], ["SAR", 7]];

export function undefinedCorners() {
  const g = new Group("undefined", "what the SDM leaves undefined, as this host's CPU does it: shift/rotate flags for counts 0-31 per size, BSF/BSR of zero, flags after MUL/IMUL/DIV/IDIV, logic ops' AF, BT*'s flags, x87 C0-C3 after each instruction", 0x0def0021);
  const rng = g.rng;
  for (const [op, d] of SHIFTS) {
    for (const size of [8, 16, 32]) {
      const p = osz(size);
      let t = g.test(`${op} r${size}, CL (${w(0xd2, size).toString(16)} /${d}), counts 0-31`, ALL);
      for (let count = 0; count < 32; count++) {
        for (const a of [...[0, 1, mask(size), 1 << (size - 1)].slice(count % 4, count % 4 + 1), rng.operand(size), rng.operand(size)]) {
          const dst = oneReg(rng, size, [ECX]);
          t.add([...p, w(0xd2, size), modrm(3, d, dst)], (r) => { setOp(r, size, dst, a >>> 0); setOp(r, 8, 1, count); }, flagsIn(rng));
        }
      }
      t = g.test(`${op} m${size}, imm8 (${w(0xc0, size).toString(16)} /${d} [ebx]), counts 0-31`, ALL);
      for (let count = 0; count < 32; count++) {
        const mem = randBytes(rng, 4);
        t.add([...p, w(0xc0, size), modrm(0, d, EBX), count], (r) => { r[EBX] = BUF; }, flagsIn(rng), { mem });
      }
    }
  }
  for (const size of [16, 32]) {
    const p = osz(size);
    for (const [op, opc] of [["BSF", 0xbc], ["BSR", 0xbd]]) {
      const t = g.test(`${op} r${size}, r/m${size} (0f ${opc.toString(16)}): zero source (destination and flags), and the flags of a nonzero one`, ALL);
      for (let i = 0; i < 48; i++) {
        const v = i < 24 ? 0 : rng.operand(size), [dst, src] = twoRegs(rng, size);
        t.add([...p, 0x0f, opc, modrm(3, dst, src)], (r) => { setOp(r, size, src, v); setOp(r, size, dst, rng.operand(size)); }, flagsIn(rng));
      }
    }
  }
  for (const size of [8, 16, 32]) {
    const p = osz(size);
    for (const [op, d] of [["MUL", 4], ["IMUL", 5]]) {
      const t = g.test(`${op} r/m${size} (${w(0xf6, size).toString(16)} /${d}): SF ZF AF PF`, ALL);
      for (const a of values(rng, size, 40)) {
        const src = oneReg(rng, size, [EAX, EDX]), b = rng.operand(size);
        t.add([...p, w(0xf6, size), modrm(3, d, src)], (r) => { setOp(r, size, EAX, a); setOp(r, size, src, b); }, flagsIn(rng));
      }
    }
    if (size !== 8) {
      let t = g.test(`IMUL r${size}, r/m${size} (0f af) and r${size}, r/m${size}, imm (69, 6b): SF ZF AF PF`, ALL);
      for (const a of values(rng, size, 40)) {
        const [dst, src] = twoRegs(rng, size), b = rng.operand(size), k = rng.below(3);
        const code = k === 0 ? [...p, 0x0f, 0xaf, modrm(3, dst, src)] : k === 1 ? [...p, 0x69, modrm(3, dst, src), ...imm(size, b)] : [...p, 0x6b, modrm(3, dst, src), b & 0xff];
        t.add(code, (r) => { setOp(r, size, src, a); setOp(r, size, dst, b); }, flagsIn(rng));
      }
    }
    for (const [op, d] of [["DIV", 6], ["IDIV", 7]]) {
      const t = g.test(`${op} r/m${size} (${w(0xf6, size).toString(16)} /${d}): all six flags`, ALL);
      for (let i = 0; i < 48; i++) {
        // A quotient that fits: high half below the divisor (DIV) or a sign extension (IDIV).
        const dv = rng.operand(size) || 3, src = oneReg(rng, size, [EAX, EDX]);
        const lo = rng.operand(size), hi = op === "DIV" ? (rng.u32() % dv) >>> 0 : (lo & (1 << (size - 1)) ? mask(size) : 0);
        t.add([...p, w(0xf6, size), modrm(3, d, src)], (r) => {
          if (size === 8) { setOp(r, 8, 0, lo); setOp(r, 8, 4, hi); } else { setOp(r, size, EAX, lo); setOp(r, size, EDX, hi); }
          setOp(r, size, src, dv);
        }, flagsIn(rng), { fault: true });
      }
    }
    const t = g.test(`AND/OR/XOR/TEST r${size}, r${size}: AF`, ALL);
    for (let i = 0; i < 32; i++) {
      const [a, b] = twoRegs(rng, size), opc = rng.pick([0x20, 0x08, 0x30, 0x84]);
      t.add([...p, w(opc, size), modrm(3, b, a)], (r) => { setOp(r, size, a, rng.operand(size)); setOp(r, size, b, rng.operand(size)); }, flagsIn(rng));
    }
  }
  // The flags MUL/IMUL keep come from the instruction before: here an ADD (a translated block
  // must not drop them as if the multiply overwrote all six).
  for (const size of [16, 32]) {
    const t = g.test(`ADD r${size}, r${size}; IMUL r${size}, r/m${size} (0f af) / MUL r/m${size}: SF ZF AF PF from the ADD`, ALL);
    for (let i = 0; i < 48; i++) {
      const code = [...osz(size), 0x01, modrm(3, EBX, ESI), ...osz(size), ...(i & 1 ? [0x0f, 0xaf, modrm(3, ECX, EDI)] : [0xf7, modrm(3, 4, EDI)])];
      t.add(code, (r) => { for (const x of [EBX, ESI, ECX, EDI, EAX]) setOp(r, size, x, rng.operand(size)); }, flagsIn(rng));
    }
  }
  for (const size of [16, 32]) {
    const t = g.test(`BT/BTS/BTR/BTC r${size}, imm8 (0f ba): OF SF AF PF`, ALL);
    for (let i = 0; i < 48; i++) {
      const dst = oneReg(rng, size), k = 4 + rng.below(4);
      t.add([...osz(size), 0x0f, 0xba, modrm(3, k, dst), rng.below(64)], (r) => setOp(r, size, dst, rng.operand(size)), flagsIn(rng));
    }
  }
  x87Status(g, rng);
  return g;
}

// x87: FNINIT, an instruction under test with operands from [ebx], then FNSTSW AX: C0-C3 (and
// every other status bit) as the host leaves them. FNINIT clears the stack faults' state first.
// FSCALE (exact but for its rounding below the normal range or on overflow) is recorded with
// 80-bit operands and its 80-bit result. Left out: the transcendentals (FSIN, FCOS, FPTAN,
// F2XM1, FYL2X, FYL2XP1, FPATAN), which this host does not always round correctly (their C1
// and last bit follow its internal approximation): the native differential test
// (cpu-native.fuzz.test.ts, x87-native-gen.ts) checks them against the host within 1 ulp.
function x87Status(g, rng) {
  const f64 = (x) => { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, x, true); return [...b]; };
  const VALS = [0, -0, 1, -1, 0.5, 3, -7.25, 1e300, 5e-324, Infinity, -Infinity, NaN, Math.PI, 1e-5, 2 ** 70, -(2 ** 63)];
  const rand = () => (rng.below(3) === 0 ? rng.pick(VALS) : (rng.u32() / 65536 - 32768) * 2 ** (rng.below(40) - 20));
  const FNINIT = [0xdb, 0xe3], FNSTSW_AX = [0xdf, 0xe0];
  const LD_A = [0xdd, 0x03], LD_B = [0xdd, 0x43, 8]; // fld qword [ebx], fld qword [ebx+8]
  const OPS = [
    ["FLD m64", [...LD_A]],
    ["FLD m64 x2", [...LD_B, ...LD_A]],
    ["FLD1", [0xd9, 0xe8]], ["FLDZ", [0xd9, 0xee]], ["FLDPI", [0xd9, 0xeb]],
    ["FLD m64; FST m64", [...LD_A, 0xdd, 0x53, 16]],
    ["FLD m64; FSTP m64", [...LD_A, 0xdd, 0x5b, 16]],
    ["FLD m64; FSTP m32", [...LD_A, 0xd9, 0x5b, 16]],
    ["FLD m64; FISTP m32", [...LD_A, 0xdb, 0x5b, 16]],
    ["FLD m64; FISTP m16", [...LD_A, 0xdf, 0x5b, 16]],
    ["FLD; FLD; FADD st1", [...LD_B, ...LD_A, 0xd8, 0xc1]],
    ["FLD; FLD; FSUB st1", [...LD_B, ...LD_A, 0xd8, 0xe1]],
    ["FLD; FLD; FMUL st1", [...LD_B, ...LD_A, 0xd8, 0xc9]],
    ["FLD; FLD; FDIV st1", [...LD_B, ...LD_A, 0xd8, 0xf1]],
    ["FLD; FADD m64", [...LD_A, 0xdc, 0x43, 8]],
    ["FLD; FDIV m64", [...LD_A, 0xdc, 0x73, 8]],
    ["FLD; FSQRT", [...LD_A, 0xd9, 0xfa]],
    ["FLD; FCHS", [...LD_A, 0xd9, 0xe0]], ["FLD; FABS", [...LD_A, 0xd9, 0xe1]],
    ["FLD; FTST", [...LD_A, 0xd9, 0xe4]], ["FLD; FXAM", [...LD_A, 0xd9, 0xe5]], ["FXAM (empty)", [0xd9, 0xe5]],
    ["FLD; FRNDINT", [...LD_A, 0xd9, 0xfc]],
    ["FLD; FLD; FCOM st1", [...LD_B, ...LD_A, 0xd8, 0xd1]],
    ["FLD; FLD; FUCOM st1", [...LD_B, ...LD_A, 0xdd, 0xe1]],
    ["FLD; FLD; FXCH", [...LD_B, ...LD_A, 0xd9, 0xc9]],
    ["FLD; FLD; FPREM", [...LD_B, ...LD_A, 0xd9, 0xf8]],
    ["FLD; FLD; FPREM1", [...LD_B, ...LD_A, 0xd9, 0xf5]],
    ["FLD; FXTRACT", [...LD_A, 0xd9, 0xf4]],
    ["FLD; FINCSTP", [...LD_A, 0xd9, 0xf7]], ["FLD; FDECSTP", [...LD_A, 0xd9, 0xf6]],
    ["FLD; FFREE st0", [...LD_A, 0xdd, 0xc0]],
    ["FADD st0, st1 (empty: stack underflow)", [0xd8, 0xc1]],
    ["FLD x9 (stack overflow)", [...Array(9).fill(LD_A).flat()]],
    ["FSTP m64 (empty)", [0xdd, 0x5b, 16]],
  ];
  // A NaN operand takes precedence over a denormal one: no #D (DE) with either order.
  const t = g.test("x87 status word: QNaN/SNaN with a denormal m64 operand (FADD, FDIV, FCOM m64) and the reverse; FNSTSW AX", ALL);
  const nanBits = [[0, 0x7ff80000], [0, 0xfff80000], [1, 0x7ff00000]], den = [[1, 0], [0, 0x80000], [5, 0x80000000]];
  const q = ([lo, hi]) => [...le32(lo), ...le32(hi)];
  for (const [a, b] of [...nanBits.flatMap((n) => den.map((d) => [n, d])), ...den.flatMap((d) => nanBits.map((n) => [d, n]))]) {
    for (const op of [[0xdc, 0x43, 8], [0xdc, 0x73, 8], [0xdc, 0x53, 8]]) {
      t.add([...FNINIT, ...LD_A, ...op, ...FNSTSW_AX], (r) => { r[EBX] = BUF; r[EAX] = rng.u32(); }, flagsIn(rng), { mem: [...q(a), ...q(b), ...Array(16).fill(0xcc)] });
    }
  }
  for (const [name, code] of OPS) {
    const t = g.test(`x87 status word after ${name}; FNSTSW AX`, ALL);
    for (let i = 0; i < 10; i++) {
      const mem = [...f64(rand()), ...f64(rand()), ...Array(16).fill(0xcc)];
      t.add([...FNINIT, ...code, ...FNSTSW_AX], (r) => { r[EBX] = BUF; r[EAX] = rng.u32(); }, flagsIn(rng), { mem });
    }
  }
  fscaleCases(g, rng);
}

// FSCALE on 80-bit operands: FLDCW [ebx+32]; FLD tword [ebx+16] (ST1, the scale); FLD tword
// [ebx] (ST0); FSCALE; FNSTSW AX; FSTP tword [ebx+48]; FSTP tword [ebx+64]. Every pairing of
// edge values (zeros, infinities, NaNs, denormals, pseudo-denormals, unnormals, the extremes)
// with edge scale factors (±0, fractions, ±1, values whose trunc is a huge/tiny shift, ±∞,
// NaN), under each rounding control, plus random normal operands with random shifts near the
// exponent limits.
function fscaleCases(g, rng) {
  const t80 = (se, m) => [...Array.from({ length: 8 }, (_, i) => Number((m >> BigInt(8 * i)) & 0xffn)), se & 0xff, se >> 8];
  const mant = () => (1n << 63n) | (BigInt(rng.u32() & 0x7fffffff) << 32n) | BigInt(rng.u32());
  const int80 = (n) => { // an integer (or with a fraction) as an 80-bit value
    const neg = n < 0, a = BigInt(Math.abs(Math.trunc(n))), bl = a.toString(2).length;
    return [(neg ? 0x8000 : 0) | (16383 + bl - 1), a << BigInt(64 - bl)];
  };
  const X = [
    [0, 0n], [0x8000, 0n], [0x7fff, 1n << 63n], [0xffff, 1n << 63n], [0x7fff, 3n << 62n], [0xffff, (1n << 63n) | 5n],
    [0x0000, 0x0000_0000_0000_0001n], [0x8000, 0x4000_0000_0000_0003n], [0x0000, 0x8000_0000_0000_0001n],
    [0x3fff, 1n << 63n], [0xbfff, 0xffff_ffff_ffff_ffffn], [0x0001, 1n << 63n], [0x7ffe, 0xffff_ffff_ffff_ffffn],
    [0x4000, 0x4000_0000_0000_0000n], // unnormal
    [0x0010, 0xc000_0000_0000_0001n], [0x7ff0, 0x8000_0000_0000_0001n],
  ];
  const S = [
    [0, 0n], [0x8000, 0n], [0x3ffe, 1n << 63n], [0xbffe, 0xc000_0000_0000_0000n], int80(1), int80(-1), int80(63), int80(-64),
    int80(-16383), int80(-16446), int80(-16445), int80(16383), int80(32766), int80(-32766), [0x401e, 0xa000_0000_0000_0001n],
    [0x7fff, 1n << 63n], [0xffff, 1n << 63n], [0x7fff, 3n << 62n], [0x0000, 0x0000_0000_0000_0007n], [0x40ff, 1n << 63n], [0xc0ff, 1n << 63n],
  ];
  const body = [0xd9, 0x6b, 32, 0xdb, 0x6b, 16, 0xdb, 0x2b, 0xd9, 0xfd, ...FNSTSW_AX_, 0xdb, 0x7b, 48, 0xdb, 0x7b, 64, 0xdb, 0xe3];
  const add = (t, x, sc, rc) => {
    const cw = 0x037f | (rc << 10);
    const mem = [...t80(...x), 0, 0, 0, 0, 0, 0, ...t80(...sc), 0, 0, 0, 0, 0, 0, cw & 0xff, cw >> 8, ...Array(46).fill(0xcc)];
    t.add([0xdb, 0xe3, ...body], (r) => { r[EBX] = BUF; r[EAX] = rng.u32(); }, flagsIn(rng), { mem });
  };
  let t = g.test("x87 FSCALE, 80-bit edge operands x edge scale factors, each rounding control: result (FSTP m80) and status word", ALL);
  for (const x of X) for (const sc of S) add(t, x, sc, rng.below(4));
  t = g.test("x87 FSCALE, random operands shifted out of range (denormal results, overflow) under each rounding control", ALL);
  for (let i = 0; i < 160; i++) {
    const tiny = i % 2 === 0;
    const x = [(rng.below(2) ? 0x8000 : 0) | (tiny ? 1 + rng.below(80) : 0x7ffe - rng.below(80)), rng.below(4) ? mant() : mant() & ~0xffffffn];
    add(t, x, int80(tiny ? -(1 + rng.below(140)) : 1 + rng.below(90)), i % 4);
  }
}
const FNSTSW_AX_ = [0xdf, 0xe0];

export const GROUPS64 = { shiftd, undefined: undefinedCorners };
