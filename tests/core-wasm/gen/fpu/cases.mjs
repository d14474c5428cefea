// x87 test cases: nasm bodies (x87 instructions, FWAIT, LAHF, `mov [ebx+n], ax`) run after FNINIT with EBX = a 512-byte buffer whose first 256
// bytes are `mem`; the runner then does FNSAVE [ebx+256]. Memory operands must be [ebx+n].
// `skip` lists [from, to) byte ranges not compared: the pointer fields (FIP, FCS, FOP, FDP,
// FDS) of environments the case stores itself, which depend on where the host code ran.

const CW = 248; // a control word to load, as a u16 at [ebx+248]

class Mem {
  constructor() { this.b = Buffer.alloc(256); }
  f64(off, x) { this.b.writeDoubleLE(x, off); return this; }
  f64bits(off, bits) { this.b.writeBigUInt64LE(BigInt.asUintN(64, bits), off); return this; }
  f32(off, x) { this.b.writeFloatLE(x, off); return this; }
  f32bits(off, bits) { this.b.writeUInt32LE(bits >>> 0, off); return this; }
  i16(off, x) { this.b.writeInt16LE(x, off); return this; }
  u16(off, x) { this.b.writeUInt16LE(x & 0xffff, off); return this; }
  i32(off, x) { this.b.writeInt32LE(x | 0, off); return this; }
  i64(off, x) { this.b.writeBigInt64LE(BigInt.asIntN(64, BigInt(x)), off); return this; }
  t80(off, sexp, mant) { this.b.writeBigUInt64LE(BigInt.asUintN(64, mant), off); this.b.writeUInt16LE(sexp, off + 8); return this; }
  bytes(off, arr) { Buffer.from(arr).copy(this.b, off); return this; }
}
const M = () => new Mem();

export const cases = [];
function add(name, code, mem = M(), opts = {}) {
  cases.push({ name, code: Array.isArray(code) ? code : code.split("\n"), mem: mem.b, eflags: opts.eflags ?? 0x202, skip: opts.skip });
}

// Deterministic xorshift for random operands.
let seed = 0x2545f491;
function rnd() {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed;
}
function rndF64(expSpan = 60) {
  const e = 1023 + (rnd() % (2 * expSpan + 1)) - expSpan;
  const hi = (BigInt(rnd() & 1) << 63n) | (BigInt(e) << 52n) | (BigInt(rnd() & 0xfffff) << 32n) | BigInt(rnd());
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(hi);
  return b.readDoubleLE(0);
}
function rndMant() {
  return (1n << 63n) | (BigInt(rnd() & 0x7fffffff) << 32n) | BigInt(rnd());
}

const RC = [0x000, 0x400, 0x800, 0xc00];
const RCN = ["near", "down", "up", "chop"];

// ---- control and status ---------------------------------------------------------------------
add("fninit state", ["fnstcw [ebx+0]", "fnstsw [ebx+2]", "fnstsw ax"]);
for (const cw of [0x0000, 0xffff, 0x137f, 0x027f, 0x0c40, 0x1f3f]) {
  add(`fldcw ${cw.toString(16)}`, [`fldcw [ebx+${CW}]`, "fnstcw [ebx+0]"], M().u16(CW, cw));
}
add("fnclex after flags", ["fld1", "fldz", "fdivp st1, st0", "fnstsw [ebx+0]", "fnclex", "fnstsw [ebx+2]"]);

// ---- constants under each rounding mode -----------------------------------------------------
const consts = ["fld1", "fldl2t", "fldl2e", "fldpi", "fldlg2", "fldln2", "fldz"];
for (let r = 0; r < 4; r++) {
  add(`constants rc=${RCN[r]}`, [`fldcw [ebx+${CW}]`, ...consts.map((c, i) => `${c}\nfstp tword [ebx+${i * 10}]`)], M().u16(CW, 0x037f | RC[r]));
}

// ---- 80-bit images ----------------------------------------------------------------------------
const t80s = [
  [0x3fff, 1n << 63n], [0xbfff, 0xc000000000000001n], [0x4000, 0xc90fdaa22168c235n], [0x0000, 0n], [0x8000, 0n],
  [0x7fff, 1n << 63n], [0xffff, 1n << 63n], [0x7fff, 0xc000000000000000n], [0xffff, 0xc000000000000000n],
  [0x7fff, 0x8000000000000001n], [0x7fff, 0xa000000000000000n], [0x0000, 0x0000000000000001n],
  [0x0000, 0x4000000000000000n], [0x0000, 0x8000000000000000n], [0x8000, 0xffffffffffffffffn],
  [0x3fff, 0x4000000000000000n], [0x7fff, 0x4000000000000000n], [0x7ffe, 0xffffffffffffffffn],
  [0x0001, 0x8000000000000000n], [0x43fe, 0x8000000000000000n], [0x3c00, 0x8000000000000000n],
  [0x3bcc, 0x8000000000000000n], [0x407e, 0xffffff8000000000n], [0x43ff, 0xfffffffffffff800n],
];
for (let k = 0; k < t80s.length; k += 4) {
  const m = M();
  const code = [];
  const group = t80s.slice(k, k + 4);
  group.forEach(([se, mant], j) => { m.t80(j * 10, se, mant); code.push(`fld tword [ebx+${j * 10}]`); });
  // store back in reverse, also as m64 and m32, and classify with FXAM
  group.forEach((_, j) => {
    code.push("fxam", "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`);
    code.push(`fst qword [ebx+${80 + j * 8}]`, `fst dword [ebx+${120 + j * 4}]`, `fstp tword [ebx+${140 + j * 10}]`);
  });
  code.push("fnstsw [ebx+240]");
  add(`m80 images ${k}`, code, m);
}
// rounding 80 → 64/32 under each RC, random significands around interesting exponents
for (let r = 0; r < 4; r++) {
  for (const base of [0x3fff, 0x43fe, 0x3c01, 0x3bcd, 0x407e, 0x3f81, 0x3f6a, 0x4400, 0x3bb0]) {
    const m = M().u16(CW, 0x037f | RC[r]);
    const code = [`fldcw [ebx+${CW}]`];
    for (let j = 0; j < 4; j++) {
      const se = (rnd() & 1 ? 0x8000 : 0) | (base + (j & 1));
      let mant = rndMant();
      if (j == 3) mant = (mant & ~0x7ffn) | 0x400n; // exact half for f64
      m.t80(j * 10, se, mant);
      code.push(`fld tword [ebx+${j * 10}]`, `fst qword [ebx+${40 + j * 8}]`, "fnstsw ax", `mov [ebx+${72 + j * 2}], ax`, "fnclex", `fstp dword [ebx+${80 + j * 4}]`, "fnstsw ax", `mov [ebx+${96 + j * 2}], ax`, "fnclex");
    }
    add(`round 80 to 64/32 ${RCN[r]} ${base.toString(16)}`, code, m);
  }
}
// m32 / m64 loads (denormal, SNaN) to m80
{
  const f32s = [1.5, -0, 1e-40, 3.4e38, Infinity];
  const f32b = [0x7f800001, 0xffc00001, 0x00000001, 0x80400000];
  const f64b = [0x7ff0000000000001n, 0xfff8000000000123n, 0x0000000000000001n, 0x800fffffffffffffn, 0x7fefffffffffffffn];
  let m = M();
  let code = [];
  let o = 0;
  for (const x of f32s) { m.f32(o, x); code.push(`fld dword [ebx+${o}]`, `fstp tword [ebx+${100 + o * 2}]`); o += 4; }
  add("fld m32 values", code, m);
  m = M(); code = []; o = 0;
  for (const x of f32b) { m.f32bits(o, x); code.push(`fld dword [ebx+${o}]`, "fnstsw ax", `mov [ebx+${80 + o}], ax`, `fstp tword [ebx+${100 + o * 3}]`); o += 4; }
  add("fld m32 specials", code, m);
  m = M(); code = []; o = 0;
  for (const x of f64b) { m.f64bits(o, x); code.push(`fld qword [ebx+${o}]`, "fnstsw ax", `mov [ebx+${80 + o}], ax`, `fstp tword [ebx+${130 + o * 2 - o / 4}]`); o += 8; }
  add("fld m64 specials", code, m);
}

// ---- integers -----------------------------------------------------------------------------------
add("fild all widths", [
  "fild word [ebx+0]", "fstp tword [ebx+40]", "fild dword [ebx+2]", "fstp tword [ebx+50]",
  "fild qword [ebx+8]", "fstp tword [ebx+60]", "fild qword [ebx+16]", "fstp tword [ebx+70]",
  "fild word [ebx+24]", "fstp tword [ebx+80]", "fild qword [ebx+26]", "fstp tword [ebx+90]",
], M().i16(0, -32768).i32(2, 0x7fffffff).i64(8, 0x7fffffffffffffffn).i64(16, -0x8000000000000000n).i16(24, 0).i64(26, 0x123456789abcdef1n));
{
  const vals = [2.5, -2.5, 3.5, -0.5, 0.5, 1.4999, -1e-300, 32767.5, -32768.5, 32768, -32769, 2147483647.5, -2147483648.5,
    9.2233720368547758e18, -9.2233720368547758e18, 1e19, Infinity, NaN, 123456789.75, -0.0];
  for (let r = 0; r < 4; r++) {
    for (let k = 0; k < vals.length; k += 5) {
      const m = M().u16(CW, 0x037f | RC[r]);
      const code = [`fldcw [ebx+${CW}]`];
      vals.slice(k, k + 5).forEach((x, j) => {
        m.f64(j * 8, x);
        code.push(`fld qword [ebx+${j * 8}]`, `fist word [ebx+${40 + j * 2}]`, `fist dword [ebx+${52 + j * 4}]`, "fnstsw ax", `mov [ebx+${180 + j * 2}], ax`, "fnclex", `fistp qword [ebx+${80 + j * 8}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
      });
      add(`fist ${RCN[r]} ${k}`, code, m);
    }
  }
  // FISTP from exact 80-bit values (64-bit integers through the stack)
  const m = M();
  const code = [];
  [0x7ffffffffffffffdn, -0x7fffffffffffff01n, 0x0123456789abcdefn].forEach((v, j) => {
    m.i64(j * 8, v);
    code.push(`fild qword [ebx+${j * 8}]`, `fistp qword [ebx+${40 + j * 8}]`);
  });
  add("fild/fistp m64 exact", code, m);
}

// ---- random arithmetic, PC = double, all rounding modes --------------------------------------
const ops = ["fadd", "fsub", "fsubr", "fmul", "fdiv", "fdivr"];
for (let r = 0; r < 4; r++) {
  for (const op of ops) {
    for (let k = 0; k < 2; k++) {
      const m = M().u16(CW, 0x027f | RC[r]);
      const code = [`fldcw [ebx+${CW}]`];
      for (let j = 0; j < 6; j++) {
        const a = rndF64(k ? 300 : 30);
        const b = j == 5 ? a * (1 + 2 ** -40) : rndF64(k ? 300 : 30);
        m.f64(j * 16, a).f64(j * 16 + 8, b);
        // memory form, then the register forms ST(0),ST(i) and ST(i),ST(0) and the pop form
        code.push(`fld qword [ebx+${j * 16}]`, `${op} qword [ebx+${j * 16 + 8}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
        code.push(`fld qword [ebx+${j * 16 + 8}]`, `fld qword [ebx+${j * 16}]`, `${op} st0, st1`);
        code.push(`fld qword [ebx+${j * 16}]`, `fld qword [ebx+${j * 16 + 8}]`, `${op} st1, st0`, "fstp st0");
        code.push(`${op}p st2, st0`, "fstp st0");
        code.push(`fstp qword [ebx+${j * 16}]`, "fnstsw ax", `mov [ebx+${212 + j * 2}], ax`, "fnclex");
      }
      add(`${op} ${RCN[r]} ${k}`, code, m);
    }
  }
  const m = M().u16(CW, 0x027f | RC[r]);
  const code = [`fldcw [ebx+${CW}]`];
  for (let j = 0; j < 10; j++) {
    m.f64(j * 8, Math.abs(rndF64(200)));
    code.push(`fld qword [ebx+${j * 8}]`, "fsqrt", `fstp qword [ebx+${j * 8}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
  }
  add(`fsqrt ${RCN[r]}`, code, m);
}
// integer operands and single precision
for (const op of ["fiadd", "fisub", "fisubr", "fimul", "fidiv", "fidivr"]) {
  const m = M().u16(CW, 0x027f).f64(0, 1234.5678).i16(8, -77).i32(12, 1000003);
  add(`${op} m16/m32`, [`fldcw [ebx+${CW}]`, "fld qword [ebx+0]", `${op} word [ebx+8]`, `${op} dword [ebx+12]`, "fstp qword [ebx+16]", "fnstsw [ebx+24]"], m);
}
for (const op of ops) {
  const m = M().u16(CW, 0x027f).f64(0, 1234.5678).f32(8, -0.1);
  add(`${op} m32`, [`fldcw [ebx+${CW}]`, "fld qword [ebx+0]", `${op} dword [ebx+8]`, "fstp qword [ebx+16]", "fnstsw [ebx+24]"], m);
}
add("pc single", [`fldcw [ebx+${CW}]`, "fld qword [ebx+0]", "fdiv qword [ebx+8]", "fstp qword [ebx+16]", "fnstsw [ebx+24]"],
  M().u16(CW, 0x007f).f64(0, 1).f64(8, 3));

// ---- special operands ---------------------------------------------------------------------
{
  const specials = [
    ["inf-inf", "fsub", Infinity, Infinity], ["0*inf", "fmul", 0, -Infinity], ["0/0", "fdiv", 0, -0], ["1/0", "fdiv", 1, 0],
    ["-1/-0", "fdiv", -1, -0], ["inf/inf", "fdiv", Infinity, -Infinity], ["x-x", "fsub", 5, 5], ["-0+-0", "fadd", -0, -0],
    ["-0+0", "fadd", -0, 0], ["inf/0", "fdiv", Infinity, 0],
  ];
  for (let r = 0; r < 4; r += 1) {
    const m = M().u16(CW, 0x027f | RC[r]);
    const code = [`fldcw [ebx+${CW}]`];
    specials.forEach(([, op, a, b], j) => {
      m.f64(j * 16, a).f64(j * 16 + 8, b);
      code.push(`fld qword [ebx+${j * 16}]`, `${op} qword [ebx+${j * 16 + 8}]`, `fstp qword [ebx+${j * 16}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
    });
    add(`specials ${RCN[r]}`, code, m);
  }
  const nans = [
    [0x7ff8000000000001n, 0x7ff8000000000002n], [0xfff8000000000002n, 0x7ff8000000000001n], [0x7ff0000000000005n, 0x7ff8000000000001n],
    [0x7ff8000000000005n, 0x7ff0000000000009n], [0x7ff0000000000001n, 0x3ff0000000000000n], [0x3ff0000000000000n, 0xfff4000000000000n],
    [0xfff8000000000000n, 0x7ff8000000000000n], [0x7ff8000000000000n, 0xfff8000000000000n],
  ];
  for (const op of ["fadd", "fmul", "fdivr"]) {
    const m = M();
    const code = [];
    nans.forEach(([a, b], j) => {
      m.f64bits(j * 16, a).f64bits(j * 16 + 8, b);
      code.push(`fld qword [ebx+${j * 16}]`, `fld qword [ebx+${j * 16 + 8}]`, `${op} st0, st1`, `fstp tword [ebx+${j * 16}]`, "fstp st0", "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
    });
    add(`nan propagation ${op}`, code, m);
  }
}

// ---- comparisons ------------------------------------------------------------------------------
{
  const pairs = [[1, 2], [2, 1], [3, 3], [NaN, 1], [-0, 0], [-Infinity, 5], [1e-310, 0]];
  const snan = 0x7ff0000000000001n;
  for (const [fam, pops] of [["fcom", 0], ["fcomp", 1], ["fucom", 0], ["fucomp", 1]]) {
    const m = M();
    const code = [];
    pairs.forEach(([a, b], j) => {
      m.f64(j * 16, a).f64(j * 16 + 8, b);
      code.push(`fld qword [ebx+${j * 16 + 8}]`, `fld qword [ebx+${j * 16}]`, `${fam} st1`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
      code.push(...(pops ? ["fstp st0"] : ["fstp st0", "fstp st0"]));
    });
    m.f64bits(120, snan);
    code.push("fld1", "fld qword [ebx+120]", `${fam} st1`, "fnstsw ax", "mov [ebx+230], ax");
    add(`${fam} st(i)`, code, m);
  }
  const m = M();
  const code = [];
  pairs.forEach(([a, b], j) => {
    m.f64(j * 16, a).f64(j * 16 + 8, b);
    code.push(`fld qword [ebx+${j * 16}]`, `fcom qword [ebx+${j * 16 + 8}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex", "ftst", "fnstsw ax", `mov [ebx+${216 + j * 2}], ax`, "fnclex", "fstp st0");
  });
  add("fcom m64 and ftst", code, m);
  add("fcompp fucompp ficom", ["fld1", "fldpi", "fcompp", "fnstsw [ebx+200]", "fldpi", "fld1", "fucompp", "fnstsw [ebx+202]",
    "fld1", "ficom word [ebx+0]", "fnstsw [ebx+204]", "ficomp dword [ebx+2]", "fnstsw [ebx+206]", "fcom st1", "fnstsw [ebx+208]"],
  M().i16(0, 1).i32(2, -5));
  for (const [ins, quiet] of [["fcomi", 0], ["fucomi", 1], ["fcomip", 0], ["fucomip", 1]]) {
    pairs.forEach(([a, b], j) => {
      const mm = M().f64(0, a).f64(8, b);
      add(`${ins} ${a} ${b}`, ["fld qword [ebx+8]", "fld qword [ebx+0]", `${ins} st0, st1`, "fnstsw [ebx+200]"], mm, { eflags: 0x8d5 | 0x202 });
    });
  }
}

// ---- FXAM of every class, stack manipulation ----------------------------------------------
add("fxam empty and zero", ["fxam", "fnstsw [ebx+0]", "fldz", "fchs", "fxam", "fnstsw [ebx+2]", "ffree st0", "fxam", "fnstsw [ebx+4]"]);
add("fxch fld st fst st", ["fld1", "fldpi", "fldl2e", "fxch st2", "fld st1", "fst st3", "fstp st1", "fdecstp", "fdecstp", "fincstp", "fnstsw [ebx+0]",
  "ffree st2", "fnstsw [ebx+2]"]);
add("stack overflow masked", ["fld1", "fld1", "fld1", "fld1", "fld1", "fld1", "fld1", "fld1", "fldpi", "fnstsw [ebx+0]", "fstp tword [ebx+10]"]);
add("stack underflow masked", ["fadd st0, st1", "fnstsw [ebx+0]", "fnclex", "fld1", "faddp st1, st0", "fnstsw [ebx+2]", "fnclex", "fstp qword [ebx+8]", "fnstsw [ebx+4]",
  "fnclex", "fist dword [ebx+16]", "fnstsw [ebx+6]", "fnclex", "fxch st3", "fnstsw [ebx+20]"]);
add("fchs fabs", ["fld qword [ebx+0]", "fchs", "fst qword [ebx+8]", "fabs", "fst qword [ebx+16]", "fchs", "fstp qword [ebx+24]"], M().f64(0, 2.75));
add("ffreep alias", ["fld1", "fldpi", "db 0xdf, 0xc1", "fnstsw [ebx+0]"]);
for (const [cc, bits] of [["b", 1], ["e", 0x40], ["be", 0x41], ["u", 4], ["b", 0], ["e", 0], ["be", 0], ["u", 0]]) {
  add(`fcmov${cc}/n${cc} eflags=${bits}`, ["fld1", "fldz", `fcmov${cc} st0, st1`, "fstp qword [ebx+0]", "fld1", "fldz", `fcmovn${cc} st0, st1`, "fstp qword [ebx+8]", "fnstsw [ebx+16]"],
    M(), { eflags: 0x202 | bits });
}

// ---- environment and save area -----------------------------------------------------------------
add("fnstenv 32", ["fld1", "fldpi", "fld qword [ebx+0]", "fld1", "fdiv qword [ebx+8]", "fnstenv [ebx+100]", "fnstcw [ebx+140]"],
  M().f64bits(0, 0x7ff8000000000000n).f64(8, 0), { skip: [[112, 128]] });
add("fnstenv 16", ["fld1", "fldz", "db 0x66", "fnstenv [ebx+100]"], M(), { skip: [[106, 114]] });
add("fldenv 32", ["fldenv [ebx+0]", "fnstsw [ebx+100]", "fnstcw [ebx+102]", "fnstenv [ebx+120]"],
  M().u16(0, 0x0b7f).u16(4, 0x3a81).u16(8, 0x5fff), { skip: [[132, 148]] });
add("fldenv 16", ["db 0x66", "fldenv [ebx+0]", "fnstsw [ebx+100]", "fnstcw [ebx+102]"], M().u16(0, 0x0f7e).u16(2, 0x1801).u16(4, 0xfff3));
{
  const m = M();
  // a save image: TOP = 5, registers with 80-bit values, some tagged empty
  m.u16(0, 0x037f).u16(4, 0x2800).u16(8, 0x3f30);
  t80s.slice(0, 8).forEach(([se, mant], j) => m.t80(28 + j * 10, se, mant));
  add("frstor/fnsave 32", ["frstor [ebx+0]", "fnsave [ebx+128]"], m, { skip: [[140, 156]] });
  const m16 = M();
  m16.u16(0, 0x037f).u16(2, 0x0800).u16(4, 0xfff0);
  t80s.slice(8, 16).forEach(([se, mant], j) => m16.t80(14 + j * 10, se, mant));
  add("frstor/fnsave 16", ["db 0x66", "frstor [ebx+0]", "fnstsw [ebx+100]", "fstp tword [ebx+110]", "fstp tword [ebx+120]"], m16);
}

// ---- unmasked exceptions and #MF ----------------------------------------------------------------
add("unmasked zero-divide sets ES", [`fldcw [ebx+${CW}]`, "fld1", "fldz", "fdivp st1, st0", "fnstsw [ebx+0]", "fnstcw [ebx+2]"], M().u16(CW, 0x037b));
add("unmasked zero-divide then fld: #MF", [`fldcw [ebx+${CW}]`, "fld1", "fldz", "fdivp st1, st0", "fnstsw [ebx+0]", "fld1"], M().u16(CW, 0x037b));
add("unmasked invalid then fwait: #MF", [`fldcw [ebx+${CW}]`, "fld qword [ebx+0]", "fsqrt", "fnstsw [ebx+8]", "fwait"], M().u16(CW, 0x037e).f64(0, -1));
add("fldcw unmasks pending flag", ["fld1", "fldz", "fdivp st1, st0", `fldcw [ebx+${CW}]`, "fnstsw [ebx+0]", "fnclex", "fnstsw [ebx+2]", "fld1"], M().u16(CW, 0x037b));
add("fnstenv masks", [`fldcw [ebx+${CW}]`, "fld1", "fldz", "fdivp st1, st0", "fnstenv [ebx+100]", "fnstsw [ebx+0]", "fnstcw [ebx+2]"], M().u16(CW, 0x037b), { skip: [[112, 128]] });

// ---- FPREM, FSCALE, FXTRACT, FRNDINT ----------------------------------------------------------
{
  const pr = [[10, 3], [-10, 3], [10, -3], [7, 2], [5.5, 1.25], [1e20, 3], [1e300, 7], [-0, 1], [3, Infinity], [Infinity, 1], [1, 0], [2 ** 70 + 2 ** 20, 3], [6, 4], [5, 2], [7, 2]];
  for (const ins of ["fprem", "fprem1"]) {
    const m = M();
    const code = [];
    pr.forEach(([a, b], j) => {
      m.f64(j * 16, a).f64(j * 16 + 8, b);
      code.push(`fld qword [ebx+${j * 16 + 8}]`, `fld qword [ebx+${j * 16}]`, ins, "fnstsw ax", `mov [ebx+${j * 16}], ax`, "fnclex", `fstp qword [ebx+${j * 16 + 8}]`, "fstp st0");
    });
    add(ins, code, m);
  }
  const sc = [[1.5, 3.9], [1.5, -3.9], [1, 1e6], [1, -1e6], [0, Infinity], [3, -Infinity], [Infinity, -Infinity], [-2, 0], [1, -1070]];
  const m = M().u16(CW, 0x027f);
  const code = [`fldcw [ebx+${CW}]`];
  sc.forEach(([a, b], j) => {
    m.f64(j * 16, a).f64(j * 16 + 8, b);
    code.push(`fld qword [ebx+${j * 16 + 8}]`, `fld qword [ebx+${j * 16}]`, "fscale", `fstp qword [ebx+${j * 16}]`, "fstp st0", "fnstsw ax", `mov [ebx+${j * 16 + 8}], ax`, "fnclex");
  });
  add("fscale", code, m);
  const xt = [[0x3fff, 0xc000000000000000n], [0xc005, 0x8000000000000001n], [0x0000, 0n], [0xffff, 1n << 63n], [0x0000, 0x0000000000001234n], [0x7fff, 0xc000000000000001n]];
  const mx = M();
  const cx = [];
  xt.forEach(([se, mant], j) => {
    mx.t80(j * 10, se, mant);
    cx.push(`fld tword [ebx+${j * 10}]`, "fxtract", "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex", `fstp tword [ebx+${60 + j * 20}]`, `fstp tword [ebx+${70 + j * 20}]`);
  });
  add("fxtract", cx, mx);
  const ri = [2.5, -2.5, 3.5, 0.49, -0.51, 1e20, -0.0, 4503599627370495.5];
  for (let r = 0; r < 4; r++) {
    const m = M().u16(CW, 0x037f | RC[r]);
    const code = [`fldcw [ebx+${CW}]`];
    ri.forEach((x, j) => {
      m.f64(j * 8, x);
      code.push(`fld qword [ebx+${j * 8}]`, "frndint", `fstp qword [ebx+${j * 8}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
    });
    add(`frndint ${RCN[r]}`, code, m);
  }
}

// ---- transcendentals (compared exactly: results, register images, C1 and PE) -----------------
{
  const xs = [0.5, -1.25, 3, 100.5, 1e-5, -0.0];
  for (const ins of ["fsin", "fcos", "f2xm1"]) {
    const m = M().u16(CW, 0x027f);
    const code = [`fldcw [ebx+${CW}]`];
    xs.forEach((x, j) => {
      m.f64(j * 8, ins === "f2xm1" ? x / 128 : x);
      code.push(`fld qword [ebx+${j * 8}]`, ins, `fstp qword [ebx+${j * 8}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
    });
    add(ins, code, m);
  }
  const m = M().u16(CW, 0x027f).f64(0, 0.7).f64(8, 2 ** 64);
  add("fsincos fptan", [`fldcw [ebx+${CW}]`, "fld qword [ebx+0]", "fsincos", "fstp qword [ebx+16]", "fstp qword [ebx+24]", "fld qword [ebx+0]", "fptan", "fstp qword [ebx+32]", "fstp qword [ebx+40]",
    "fld qword [ebx+8]", "fsin", "fnstsw [ebx+48]", "fstp qword [ebx+56]"], m);
  const pairs = [[2, 8], [3, 0.1], [-1.5, 1e10], [1, -0.25]];
  for (const ins of ["fyl2x", "fyl2xp1", "fpatan"]) {
    const m = M().u16(CW, 0x027f);
    const code = [`fldcw [ebx+${CW}]`];
    pairs.forEach(([y, x], j) => {
      m.f64(j * 16, y).f64(j * 16 + 8, ins === "fyl2xp1" ? x / 1e11 : x);
      code.push(`fld qword [ebx+${j * 16}]`, `fld qword [ebx+${j * 16 + 8}]`, ins, `fstp qword [ebx+${j * 16}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
    });
    add(ins, code, m);
  }
  add("fyl2x invalid/zero", ["fld1", "fld qword [ebx+0]", "fyl2x", "fstp qword [ebx+16]", "fnstsw [ebx+24]", "fnclex", "fld1", "fldz", "fyl2x", "fstp qword [ebx+32]", "fnstsw [ebx+40]"],
    M().f64(0, -2));
}

// ---- packed BCD ----------------------------------------------------------------------------------
add("fbld fbstp", ["fbld [ebx+0]", "fst qword [ebx+32]", "fbstp [ebx+12]", "fld qword [ebx+48]", "fbstp [ebx+64]", "fld qword [ebx+56]", "fbstp [ebx+80]", "fnstsw [ebx+96]"],
  M().bytes(0, [0x89, 0x67, 0x45, 0x23, 0x01, 0x89, 0x67, 0x45, 0x23, 0x80]).f64(48, -1234.5).f64(56, 1e19));

// ---- exact 80-bit comparisons, conversions of 64-bit integers ----------------------------------
for (let k = 0; k < 4; k++) {
  const m = M();
  const code = [];
  for (let j = 0; j < 6; j++) {
    const se = (rnd() & 1 ? 0x8000 : 0) | (0x3fff + (rnd() % 3) - 1);
    const mant = rndMant();
    // b differs from a in the last bits (invisible in f64), or in sign/exponent
    const d = BigInt(rnd() % 5) - 2n;
    const seB = j === 5 ? se ^ 0x8000 : se;
    m.t80(j * 20, se, mant).t80(j * 20 + 10, seB, mant + d);
    const ins = ["fcom st1", "fucom st1", "fcomi st0, st1", "fucomi st0, st1"][k];
    code.push(`fld tword [ebx+${j * 20 + 10}]`, `fld tword [ebx+${j * 20}]`, ins, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`);
    if (k >= 2) code.push("lahf", `mov [ebx+${220 + j * 2}], ax`);
    code.push("fstp st0", "fstp st0");
  }
  add(`80-bit compare ${k}`, code, m);
}
for (let r = 0; r < 4; r++) {
  const m = M().u16(CW, 0x037f | RC[r]);
  const code = [`fldcw [ebx+${CW}]`];
  for (let j = 0; j < 6; j++) {
    const big = (BigInt(rnd()) << 32n | BigInt(rnd())) >> BigInt(rnd() % 12);
    m.i64(j * 8, j & 1 ? -big : big);
    code.push(`fild qword [ebx+${j * 8}]`, `fst qword [ebx+${j * 8 + 48}]`, `fst dword [ebx+${j * 4 + 96}]`, `fistp dword [ebx+${j * 4 + 120}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
  }
  add(`fild m64 rounding ${RCN[r]}`, code, m);
  const m2 = M().u16(CW, 0x037f | RC[r]);
  const code2 = [`fldcw [ebx+${CW}]`];
  for (let j = 0; j < 6; j++) {
    m2.t80(j * 10, (rnd() & 1 ? 0x8000 : 0) | (0x3fff + 10 + (rnd() % 54)), rndMant());
    code2.push(`fld tword [ebx+${j * 10}]`, `fist word [ebx+${80 + j * 2}]`, `fist dword [ebx+${100 + j * 4}]`, `fistp qword [ebx+${130 + j * 8}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
  }
  add(`fist m80 random ${RCN[r]}`, code2, m2);
}

// ---- extended precision (the default PC) and single precision, 80-bit operands -------------
function rndT80(span) {
  const e = 0x3fff + (rnd() % (2 * span + 1)) - span;
  let mant = rndMant();
  if (rnd() % 4 === 0) mant &= ~((1n << BigInt(rnd() % 40)) - 1n); // some short significands
  return [(rnd() & 1 ? 0x8000 : 0) | e, mant];
}
for (const [pcName, pc] of [["ext", 0x300], ["single", 0x000]]) {
  for (let r = 0; r < 4; r++) {
    for (const op of ["fadd", "fsub", "fmul", "fdiv", "fsqrt"]) {
      for (const span of [40, 16000]) {
        const m = M().u16(CW, 0x007f | pc | RC[r]);
        const code = [`fldcw [ebx+${CW}]`];
        for (let j = 0; j < 5; j++) {
          let [sa, ma] = rndT80(span);
          let [sb, mb] = rndT80(op === "fadd" || op === "fsub" ? 3 : span);
          if (op === "fadd" || op === "fsub") sb = (sb & 0x8000) | ((sa & 0x7fff) + (sb & 0x7fff) - 0x3fff) & 0x7fff;
          if (op === "fsqrt") sa &= 0x7fff;
          if (j === 4 && op !== "fsqrt") { sb = sa ^ (op === "fadd" ? 0x8000 : 0); mb = ma - 1n - BigInt(rnd() % 3); } // cancellation
          m.t80(j * 20, sa, ma).t80(j * 20 + 10, sb, mb);
          if (op === "fsqrt") code.push(`fld tword [ebx+${j * 20}]`, "fsqrt");
          else code.push(`fld tword [ebx+${j * 20 + 10}]`, `fld tword [ebx+${j * 20}]`, `${op} st0, st1`);
          code.push(`fstp tword [ebx+${j * 20}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
          if (op !== "fsqrt") code.push("fstp st0");
        }
        add(`${op} ${pcName} ${RCN[r]} span ${span}`, code, m);
      }
    }
  }
}
// extended results stored to m64/m32 (double rounding as on the x87), chains of operations
for (let r = 0; r < 4; r++) {
  const m = M().u16(CW, 0x037f | RC[r]);
  const code = [`fldcw [ebx+${CW}]`];
  for (let j = 0; j < 6; j++) {
    m.f64(j * 16, rndF64(20)).f64(j * 16 + 8, rndF64(20));
    code.push(`fld qword [ebx+${j * 16}]`, `fmul qword [ebx+${j * 16 + 8}]`, `fadd qword [ebx+${j * 16}]`, `fdiv qword [ebx+${j * 16 + 8}]`, "fsqrt",
      `fst dword [ebx+${100 + j * 4}]`, `fstp qword [ebx+${j * 16}]`, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex");
  }
  add(`extended chains ${RCN[r]}`, code, m);
}

// ---- results below the 80-bit normal range (masked underflow: denormals) -------------------------
for (let r = 0; r < 4; r++) {
  for (const pc of [0x300, 0x200]) {
    const m = M().u16(CW, 0x007f | pc | RC[r]);
    const code = [`fldcw [ebx+${CW}]`];
    for (let j = 0; j < 6; j++) {
      const sa = (rnd() & 1 ? 0x8000 : 0) | (0x0010 + (rnd() % 40));
      const sb = 0x3fff + (j & 1 ? -1 : 1) * (20 + j * 7 + (rnd() % 8));
      m.t80(j * 20, sa, rndMant()).t80(j * 20 + 10, sb, rndMant());
      code.push(`fld tword [ebx+${j * 20 + 10}]`, `fld tword [ebx+${j * 20}]`, j & 1 ? "fmul st0, st1" : "fdiv st0, st1", `fstp tword [ebx+${j * 20}]`,
        "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, "fnclex", "fstp st0");
    }
    add(`denormal results ${pc === 0x300 ? "ext" : "double"} ${RCN[r]}`, code, m);
  }
}

// ---- FPREM/FPREM1 on 80-bit operands, looping to completion as libm does ----------------------
for (const ins of ["fprem", "fprem1"]) {
  for (const span of [3, 70, 300]) {
    const m = M();
    const code = [];
    for (let j = 0; j < 6; j++) {
      const sa = (rnd() & 1 ? 0x8000 : 0) | (0x3fff + (rnd() % span));
      const sb = (rnd() & 1 ? 0x8000 : 0) | (0x3fff - (rnd() % 3));
      let mb = rndMant();
      if (j === 5) mb = 0x8000000000000000n; // power of two: exact halves for FPREM1
      m.t80(j * 20, sa, rndMant()).t80(j * 20 + 10, sb, mb);
      code.push(`fld tword [ebx+${j * 20 + 10}]`, `fld tword [ebx+${j * 20}]`, ins, "fnstsw ax", `mov [ebx+${200 + j * 2}], ax`, ins, ins, ins, ins, ins, ins, ins, ins, ins, ins,
        "fnstsw ax", `mov [ebx+${212 + j * 2}], ax`, "fnclex", `fstp tword [ebx+${j * 20}]`, "fstp st0");
    }
    add(`${ins} 80-bit span ${span}`, code, m);
  }
}
add("fprem exact zero and halves", ["fld qword [ebx+8]", "fld qword [ebx+0]", "fprem", "fnstsw [ebx+200]", "fstp qword [ebx+16]", "fstp st0",
  "fld qword [ebx+8]", "fld qword [ebx+0]", "fprem1", "fnstsw [ebx+202]", "fstp qword [ebx+24]", "fstp st0",
  "fld qword [ebx+40]", "fld qword [ebx+32]", "fprem1", "fnstsw [ebx+204]", "fstp qword [ebx+48]", "fstp st0"],
  M().f64(0, -10).f64(8, 5).f64(32, 7.5).f64(40, 5));
