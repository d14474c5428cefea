// The transcendentals (SDM Vol. 2 F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS) on the f64 working values: f64 accuracy,
// not the x87's 64 bits. Flags go to tFlags.

import { INDEF_F64 } from "./float80";

const F_IE: u32 = 0x01;
const F_ZE: u32 = 0x04;
const F_OE: u32 = 0x08;
const F_UE: u32 = 0x10;
const F_PE: u32 = 0x20;

export let tFlags: u32 = 0;

@inline function indefinite(): f64 {
  return reinterpret<f64>(INDEF_F64);
}
@inline export function isNaN64(v: f64): bool {
  return v != v;
}
@inline function isSNaN64(v: f64): bool {
  return v != v && (reinterpret<u64>(v) & 0x0008_0000_0000_0000) == 0;
}
@inline function quiet(v: f64): f64 {
  return reinterpret<f64>(reinterpret<u64>(v) | 0x0008_0000_0000_0000);
}

/** NaN result for f64 operands, at least one a NaN (SDM Vol. 1 Table 4-7). */
function nanResult(a: f64, b: f64): f64 {
  const an = isNaN64(a);
  const bn = isNaN64(b);
  if ((an && isSNaN64(a)) || (bn && isSNaN64(b))) tFlags |= F_IE;
  if (an && bn) {
    const as = isSNaN64(a);
    const bs = isSNaN64(b);
    if (as != bs) return quiet(as ? b : a);
    const am = reinterpret<u64>(a) & 0x000F_FFFF_FFFF_FFFF;
    const bm = reinterpret<u64>(b) & 0x000F_FFFF_FFFF_FFFF;
    if (am != bm) return quiet(am > bm ? a : b);
    return quiet(<i64>reinterpret<u64>(a) < 0 ? b : a);
  }
  return quiet(an ? a : b);
}

const TWO63: f64 = 9223372036854775808.0;
const LOG2E: f64 = 1.4426950408889634;
const LN2: f64 = 0.6931471805599453;

/** Common tail of the unary transcendentals: invalid → indefinite, otherwise #P. */
function tail(x: f64, r: f64): f64 {
  if (isNaN64(r)) {
    tFlags |= F_IE;
    return indefinite();
  }
  if (x != 0) tFlags |= F_PE; // cos(±0) = 1 is exact
  return r;
}

/** FSIN (op 0), FCOS (op 1), FPTAN (op 2) for |x| < 2^63 (caller checks C2). */
export function trig(x: f64, op: u32): f64 {
  tFlags = 0;
  if (isNaN64(x)) return nanResult(x, x);
  if (x == 0 && op != 1) return x; // sin/tan of ±0 is exact ±0
  const r = op == 0 ? Math.sin(x) : op == 1 ? Math.cos(x) : Math.tan(x);
  return tail(x, r);
}

@inline export function trigInRange(x: f64): bool {
  return !(Math.abs(x) >= TWO63);
}

/** F2XM1: 2^x − 1 (defined for −1 ≤ x ≤ 1). */
export function f2xm1(x: f64): f64 {
  tFlags = 0;
  if (isNaN64(x)) return nanResult(x, x);
  if (x == 0) return x;
  if (x == -Infinity) return -1.0;
  if (x == Infinity) return x;
  return tail(x, Math.expm1(x * LN2));
}

/** FYL2X: y · log2(x); FYL2XP1 (p1): y · log2(x + 1). */
export function fyl2x(x: f64, y: f64, p1: bool): f64 {
  tFlags = 0;
  if (isNaN64(x) || isNaN64(y)) return nanResult(x, y);
  const lim: f64 = p1 ? -1.0 : 0.0;
  if (x < lim) {
    tFlags |= F_IE;
    return indefinite();
  }
  const l = p1 ? Math.log1p(x) * LOG2E : Math.log2(x);
  if (!p1 && x == 0 && y != 0 && isFinite(y)) tFlags |= F_ZE;
  if (p1 && x == 0) {
    // y · (±0): exact signed zero, invalid for y = ±∞.
    if (!isFinite(y)) { tFlags |= F_IE; return indefinite(); }
    return y * x;
  }
  const r = y * l;
  if (isNaN64(r)) {
    tFlags |= F_IE;
    return indefinite();
  }
  if (isFinite(r) && r != 0) tFlags |= F_PE;
  return r;
}

/** FPATAN: atan2(y, x). */
export function fpatan(x: f64, y: f64): f64 {
  tFlags = 0;
  if (isNaN64(x) || isNaN64(y)) return nanResult(x, y);
  const r = Math.atan2(y, x);
  if (r != 0) tFlags |= F_PE;
  return r;
}
