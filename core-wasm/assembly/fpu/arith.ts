// Basic arithmetic on 80-bit operands (SDM Vol. 2 FADD/FSUB/FMUL/FDIV/FSQRT).
// A finite operand is split into an exponent and a double-double significand in [1, 2):
// H = its top 53 bits, L = its low 11 bits, both exact. Error-free transforms (TwoSum,
// Dekker's product, exact remainders) on these give the result as hi + lo to ~106 bits,
// which ddToRaw rounds once to the precision control's 24/53/64 bits under the rounding
// control, with the x87's own exponent range. So results are the x87's bit for bit, except
// that the last ~40 bits of lo only approximate the sticky bit for operands using all 64 bits.
// NaN propagation follows SDM Vol. 1 Table 4-7. The result is left in resSexp/resMant.

import {
  EXP_BIAS, INT_BIT, QUIET_BIT, INDEF_SEXP, INDEF_MANT, rawSexp, rFlags, rUp, ddToRaw,
  rawIsNaN, rawIsSNaN, rawIsUnsupported, rawIsDenormal,
} from "./float80";

const F_IE: u32 = 0x01;
const F_DE: u32 = 0x02;
const F_ZE: u32 = 0x04;
const F_OE: u32 = 0x08;
const F_UE: u32 = 0x10;
const F_PE: u32 = 0x20;

/** Exception flags of the last operation (status word bits). */
export let opFlags: u32 = 0;
/** The last result was rounded up in magnitude (C1). */
export let opUp: bool = false;
/** The last result as an 80-bit image. */
export let resSexp: u32 = 0;
export let resMant: u64 = 0;

export const OP_ADD: u32 = 0;
export const OP_MUL: u32 = 1;
export const OP_SUB: u32 = 4; // x − y
export const OP_SUBR: u32 = 5; // y − x
export const OP_DIV: u32 = 6; // x / y
export const OP_DIVR: u32 = 7; // y / x

@inline function emitRaw(sexp: u32, mant: u64): void {
  resSexp = sexp;
  resMant = mant;
}

function emitIndefinite(): void {
  opFlags |= F_IE;
  emitRaw(INDEF_SEXP, INDEF_MANT);
}

@inline function isInf(sexp: u32, mant: u64): bool {
  return (sexp & 0x7FFF) == 0x7FFF && (mant << 1) == 0;
}

/** NaN result when an operand is a NaN or unsupported (SDM Vol. 1 Table 4-7): returns false
 *  if neither is. */
function nanOperands(sa: u32, ma: u64, sb: u32, mb: u64): bool {
  if (rawIsUnsupported(sa, ma) || rawIsUnsupported(sb, mb)) {
    emitIndefinite();
    return true;
  }
  const an = rawIsNaN(sa, ma);
  const bn = rawIsNaN(sb, mb);
  if (!an && !bn) return false;
  const as = an && rawIsSNaN(sa, ma);
  const bs = bn && rawIsSNaN(sb, mb);
  if (as || bs) opFlags |= F_IE;
  let useA = an;
  if (an && bn) {
    if (as != bs) useA = bs; // SNaN and QNaN: the QNaN
    else if (ma != mb) useA = ma > mb; // the larger significand
    else useA = (sa & 0x8000) == 0; // equal significands: the positive one
  }
  if (useA) emitRaw(sa, ma | QUIET_BIT);
  else emitRaw(sb, mb | QUIET_BIT);
  return true;
}

/** nanOperands for the other two-operand instructions (FSCALE, the transcendentals): clears
 *  opFlags first; the result is in resSexp/resMant and #IA in opFlags when it returns true. */
export function nanOperands2(sa: u32, ma: u64, sb: u32, mb: u64): bool {
  opFlags = 0;
  return nanOperands(sa, ma, sb, mb);
}

// ---- operand decoding: value = (H + L) · 2^E with H ∈ [1, 2) --------------------------------

export let dE: i32 = 0;
export let dH: f64 = 0;
export let dL: f64 = 0;
const TWO_M52: f64 = 2.220446049250313e-16; // 2^-52
const TWO_M63: f64 = 1.0842021724855044e-19; // 2^-63

/** Decode a finite nonzero raw value (denormals normalised) into dE/dH/dL (signed). */
export function decode(sexp: u32, mant: u64): void {
  let e = <i32>(sexp & 0x7FFF);
  if (e == 0) e = 1;
  const lz = <i32>clz<u64>(mant);
  const m = mant << <u64>lz;
  dE = e - EXP_BIAS - lz;
  let h = <f64>(m >> 11) * TWO_M52;
  let l = <f64>(m & 0x7FF) * TWO_M63;
  if ((sexp & 0x8000) != 0) {
    h = -h;
    l = -l;
  }
  dH = h;
  dL = l;
}

const SPLIT: f64 = 134217729.0; // 2^27 + 1

/** Exact error of p = fl(a·b) for |a|, |b| in a moderate range (Dekker): a·b = p + e. */
@inline export function prodErr(a: f64, b: f64, p: f64): f64 {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** x · 2^n for |n| ≤ 1000 (exact in range). */
@inline function pow2(n: i32): f64 {
  return reinterpret<f64>(<u64>(n + 1023) << 52);
}

/** Round (hi + lo) · 2^eoff to the precision control's width under rc, with the masked
 *  responses to overflow (∞ or the largest finite) and underflow (a denormal, rounded once
 *  at its own last bit; #U only when inexact) of the 80-bit exponent range. */
function roundDD(hi: f64, lo: f64, eoff: i32, rc: u32, pc: u32): void {
  const bits: i32 = pc == 3 ? 64 : pc == 0 ? 24 : 53;
  const m = ddToRaw(hi, lo, rc, bits);
  opFlags |= rFlags;
  opUp = rUp;
  const neg = (rawSexp & 0x8000) != 0;
  const e = <i32>(rawSexp & 0x7FFF) + eoff;
  if (e >= 0x7FFF) {
    opFlags |= F_OE | F_PE;
    const toInf = rc == 0 || (rc == 1 && neg) || (rc == 2 && !neg);
    opUp = toInf;
    if (toInf) emitRaw((neg ? 0x8000 : 0) | 0x7FFF, INT_BIT);
    else emitRaw((neg ? 0x8000 : 0) | 0x7FFE, 0xFFFF_FFFF_FFFF_FFFF << <u64>(64 - bits));
    return;
  }
  if (e <= 0) {
    const sign: u32 = neg ? 0x8000 : 0;
    const b2 = bits - (1 - e); // significant bits left on the denormal grid
    opFlags &= ~F_PE;
    if (b2 < 1) {
      // Below half the smallest denormal's unit (approximately): 0, or it under up/down.
      opFlags |= F_UE | F_PE;
      opUp = (rc == 2 && !neg) || (rc == 1 && neg);
      emitRaw(sign, opUp ? 1 : 0);
      return;
    }
    const m2 = ddToRaw(hi, lo, rc, b2);
    opUp = rUp;
    if (rFlags != 0) opFlags |= F_UE | F_PE;
    const e2 = <i32>(rawSexp & 0x7FFF) + eoff;
    if (e2 >= 1) emitRaw(sign | <u32>e2, m2); // rounded up to the smallest normal
    else emitRaw(sign, m2 >> <u64>(1 - e2)); // exact: the low bits are zero
    return;
  }
  emitRaw((rawSexp & 0x8000) | <u32>e, m);
}

/** Round (hi + lo) · 2^eoff to 64 bits under rc, as roundDD: for the instructions precision
 *  control does not affect (the transcendentals). Clears opFlags/opUp first. */
export function roundTo64(hi: f64, lo: f64, eoff: i32, rc: u32): void {
  opFlags = 0;
  opUp = false;
  roundDD(hi, lo, eoff, rc, 3);
}

/** x op y for op in OP_* on 80-bit images; the result goes to resSexp/resMant. */
export function arith(op: u32, sx: u32, mx: u64, sy: u32, my: u64, rc: u32, pc: u32): void {
  opFlags = 0;
  opUp = false;
  let sa = sx, ma = mx, sb = sy, mb = my;
  if (op == OP_SUBR || op == OP_DIVR) {
    sa = sy; ma = my; sb = sx; mb = mx;
  }
  if (nanOperands(sa, ma, sb, mb)) return;
  if (rawIsDenormal(sa, ma) || rawIsDenormal(sb, mb)) opFlags |= F_DE;
  if (op == OP_SUB || op == OP_SUBR) sb ^= 0x8000;
  if (op == OP_ADD || op == OP_SUB || op == OP_SUBR) add(sa, ma, sb, mb, rc, pc);
  else if (op == OP_MUL) mul(sa, ma, sb, mb, rc, pc);
  else div(sa, ma, sb, mb, rc, pc);
}

function add(sa: u32, ma: u64, sb: u32, mb: u64, rc: u32, pc: u32): void {
  const ia = isInf(sa, ma);
  const ib = isInf(sb, mb);
  if (ia || ib) {
    if (ia && ib && ((sa ^ sb) & 0x8000) != 0) emitIndefinite(); // ∞ − ∞
    else if (ia) emitRaw(sa, ma);
    else emitRaw(sb, mb);
    return;
  }
  if (ma == 0 && mb == 0) {
    // Exact zero sum: −0 only for (−0)+(−0) or under round-down (IEEE 754 §6.3).
    if ((sa & 0x8000) == (sb & 0x8000)) emitRaw(sa & 0x8000, 0);
    else emitRaw(rc == 1 ? 0x8000 : 0, 0);
    return;
  }
  if (mb == 0 || ma == 0) {
    // x ± 0: x rounded to the precision control.
    if (ma == 0) { sa = sb; ma = mb; }
    decode(sa, ma);
    roundDD(dH, dL, dE, rc, pc);
    return;
  }
  decode(sa, ma);
  let ea = dE, ah = dH, al = dL;
  decode(sb, mb);
  let eb = dE, bh = dH, bl = dL;
  if (ea < eb) {
    const te = ea; ea = eb; eb = te;
    const th = ah; ah = bh; bh = th;
    const tl = al; al = bl; bl = tl;
  }
  const d = ea - eb;
  if (d > 200) {
    // Only a sticky contribution below every rounding position.
    bh = bh < 0 ? -pow2(-200) : pow2(-200);
    bl = 0;
  } else if (d > 0) {
    bh *= pow2(-d);
    bl *= pow2(-d);
  }
  const s = ah + bh;
  const bb = s - ah;
  const e = (ah - (s - bb)) + (bh - bb); // TwoSum: ah + bh = s + e exactly
  const t = e + (al + bl);
  const hi = s + t;
  const lo = t - (hi - s);
  if (hi == 0 && lo == 0) {
    emitRaw(rc == 1 ? 0x8000 : 0, 0);
    return;
  }
  roundDD(hi, lo, ea, rc, pc);
}

function mul(sa: u32, ma: u64, sb: u32, mb: u64, rc: u32, pc: u32): void {
  const sign = (sa ^ sb) & 0x8000;
  const ia = isInf(sa, ma);
  const ib = isInf(sb, mb);
  if (ia || ib) {
    if (ma == 0 || mb == 0) emitIndefinite(); // 0 · ∞
    else emitRaw(sign | 0x7FFF, INT_BIT);
    return;
  }
  if (ma == 0 || mb == 0) {
    emitRaw(sign, 0);
    return;
  }
  decode(sa, ma);
  const ea = dE, ah = dH, al = dL;
  decode(sb, mb);
  const p = ah * dH;
  const c1 = ah * dL;
  const c2 = al * dH;
  const t = prodErr(ah, dH, p) + ((c1 + c2) + (prodErr(ah, dL, c1) + prodErr(al, dH, c2) + al * dL));
  const hi = p + t;
  roundDD(hi, t - (hi - p), ea + dE, rc, pc);
}

function div(sa: u32, ma: u64, sb: u32, mb: u64, rc: u32, pc: u32): void {
  const sign = (sa ^ sb) & 0x8000;
  const ia = isInf(sa, ma);
  const ib = isInf(sb, mb);
  if (ia || ib) {
    if (ia && ib) emitIndefinite(); // ∞/∞
    else if (ia) emitRaw(sign | 0x7FFF, INT_BIT);
    else emitRaw(sign, 0);
    return;
  }
  if (mb == 0) {
    if (ma == 0) emitIndefinite(); // 0/0
    else {
      opFlags |= F_ZE;
      emitRaw(sign | 0x7FFF, INT_BIT);
    }
    return;
  }
  if (ma == 0) {
    emitRaw(sign, 0);
    return;
  }
  decode(sa, ma);
  const ea = dE, ah = dH, al = dL;
  decode(sb, mb);
  const bh = dH, bl = dL;
  const q = ah / bh;
  // Remainder (ah + al) − q·(bh + bl), exactly where it matters (ah − p is exact, Sterbenz).
  const p = q * bh;
  const c = q * bl;
  const r = (((ah - p) - prodErr(q, bh, p)) + (al - c)) - prodErr(q, bl, c);
  const q2 = r / (bh + bl);
  const hi = q + q2;
  roundDD(hi, q2 - (hi - q), ea - dE, rc, pc);
}

/** FSQRT of an 80-bit image. */
export function sqrt(sa: u32, ma: u64, rc: u32, pc: u32): void {
  opFlags = 0;
  opUp = false;
  if (nanOperands(sa, ma, sa, ma)) return;
  if (ma == 0) { emitRaw(sa, 0); return; } // ±0
  if ((sa & 0x8000) != 0) { emitIndefinite(); return; }
  if (isInf(sa, ma)) { emitRaw(sa, ma); return; }
  if (rawIsDenormal(sa, ma)) opFlags |= F_DE;
  decode(sa, ma);
  let e = dE, h = dH, l = dL;
  if ((e & 1) != 0) {
    h *= 2;
    l *= 2;
    e -= 1;
  }
  const q = Math.sqrt(h);
  const p = q * q;
  const r = ((h - p) - prodErr(q, q, p)) + l;
  const q2 = r / (2 * q);
  const hi = q + q2;
  roundDD(hi, q2 - (hi - q), e >> 1, rc, pc);
}
