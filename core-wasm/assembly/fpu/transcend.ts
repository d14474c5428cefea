// The transcendentals (SDM Vol. 2 F2XM1, FYL2X, FYL2XP1, FPATAN, FSIN, FCOS, FSINCOS, FPTAN)
// on the 80-bit images: special operands per the SDM's tables, finite ones computed in
// double-double (dd.ts, ~106 bits) on the significand with the 80-bit exponent kept apart, and
// rounded once to 64 bits under RC (precision control does not apply, SDM Vol. 1 §8.1.5.2), so
// C1 says which way the result was rounded. Results go to tSexp/tMant (and t2Sexp/t2Mant for
// the second result of FSINCOS and FPTAN), flags to tFlags, "rounded up" (C1) to tUp.

import { EXP_BIAS, INDEF_MANT, INDEF_SEXP, INT_BIT, rawIsDenormal } from "./float80";
import { dE, dH, dL, decode, nanOperands2, opFlags, opUp, resMant, resSexp, roundTo64 } from "./arith";
import {
  LN2_H, LN2_L, LOG2E_H, LOG2E_L, PI_H, PI_L, PI2_H, PI2_L,
  ddAdd, ddAtan, ddAtanh, ddDiv, ddExpm1, ddH, ddL, ddLog, ddMul, ddSinCos,
} from "./dd";
import { reduce, redQ } from "./reduce";

const F_IE: u32 = 0x01;
const F_DE: u32 = 0x02;
const F_ZE: u32 = 0x04;
const F_UE: u32 = 0x10;
const F_PE: u32 = 0x20;

export let tFlags: u32 = 0;
export let tSexp: u32 = 0;
export let tMant: u64 = 0;
export let tUp: bool = false;
export let t2Sexp: u32 = 0;
export let t2Mant: u64 = 0;

@inline function exp(sexp: u32): i32 {
  return <i32>(sexp & 0x7FFF);
}
@inline function isInf(sexp: u32, mant: u64): bool {
  return exp(sexp) == 0x7FFF && (mant << 1) == 0;
}
@inline function neg(sexp: u32): bool {
  return (sexp & 0x8000) != 0;
}
@inline function signOf(n: bool): u32 {
  return n ? 0x8000 : 0;
}

function put(sexp: u32, mant: u64): void {
  tSexp = sexp;
  tMant = mant;
  tUp = false;
}
/** #IA: takes precedence over #D (this host reports only #I for, e.g., FYL2X of a negative
 *  denormal). */
function invalid(): void {
  tFlags = (tFlags & ~F_DE) | F_IE;
  put(INDEF_SEXP, INDEF_MANT);
}
/** Round (hi + lo) · 2^eoff into the result. */
function round(hi: f64, lo: f64, eoff: i32, rc: u32): void {
  roundTo64(hi, lo, eoff, rc);
  tFlags |= opFlags;
  tSexp = resSexp;
  tMant = resMant;
  tUp = opUp;
}
/** Round (hi + lo) · 2^eoff where the exact result is that value times (1 + s·δ) for a δ far
 *  below 2^-64 that double-double cannot hold (sin x = x(1 − x²/6) for a tiny x): when
 *  (hi + lo) is itself on the 64-bit grid, s (the sign of |exact| − |hi + lo|) decides the
 *  rounding, and the result is inexact. */
function roundSticky(hi: f64, lo: f64, eoff: i32, rc: u32, s: i32): void {
  round(hi, lo, eoff, rc);
  if (s == 0 || (opFlags & F_PE) != 0) return;
  tFlags |= F_PE;
  const n = neg(tSexp);
  if (rc == 0) tUp = s < 0;
  else if ((rc == 1 && n) || (rc == 2 && !n)) {
    tUp = true;
    if (s > 0) magnitudeStep(true);
  } else {
    tUp = false;
    if (s < 0) magnitudeStep(false);
  }
  if (exp(tSexp) == 0) tFlags |= F_UE;
}

/** The next 64-bit value up or down in magnitude from tSexp/tMant (finite, nonzero). */
function magnitudeStep(up: bool): void {
  const sign = tSexp & 0x8000;
  let e = exp(tSexp);
  let m = tMant;
  if (up) {
    m++;
    if (m == 0) { m = INT_BIT; e++; } // 1.11…1 → 10.0
    else if (e == 0 && (m & INT_BIT) != 0) e = 1; // the largest denormal → the smallest normal
  } else if (m == INT_BIT && e > 1) {
    m = 0xFFFF_FFFF_FFFF_FFFF;
    e--;
  } else {
    m--;
    if (e == 1 && (m & INT_BIT) == 0) e = 0;
  }
  tSexp = sign | <u32>e;
  tMant = m;
}

/** 1 = x exactly? (sexp without sign) */
@inline function isOne(sexp: u32, mant: u64): bool {
  return exp(sexp) == EXP_BIAS && mant == INT_BIT;
}
/** |x| < 1 for a finite value. */
@inline function belowOne(sexp: u32): bool {
  return exp(sexp) < EXP_BIAS;
}

/** Common start: NaN/unsupported operands (true = done), and #D. */
function start(sa: u32, ma: u64, sb: u32, mb: u64): bool {
  tFlags = 0;
  tUp = false;
  if (nanOperands2(sa, ma, sb, mb)) {
    tFlags = opFlags;
    put(resSexp, resMant);
    return true;
  }
  if (rawIsDenormal(sa, ma) || rawIsDenormal(sb, mb)) tFlags |= F_DE;
  return false;
}

// ---- F2XM1 ------------------------------------------------------------------------------------

/** F2XM1: 2^x − 1 (SDM: defined for −1 ≤ x ≤ +1). */
export function f2xm1(s: u32, m: u64, rc: u32): void {
  if (start(s, m, s, m)) return;
  if (m == 0) { put(s, 0); return; }
  if (isInf(s, m)) {
    if (neg(s)) put(0x8000 | EXP_BIAS, INT_BIT); // −1
    else put(s, m);
    return;
  }
  if (isOne(s & 0x7FFF, m)) {
    // x = ±1: this host gives −1/2 flagged inexact, and for +1 a result rounded from just
    // below 1 (1 with C1 = 1 to nearest or up, 1 − 2^-64 down or toward zero).
    if (neg(s)) {
      put(0x8000 | (EXP_BIAS - 1), INT_BIT);
      tFlags |= F_PE;
    } else roundSticky(1, 0, 0, rc, -1);
    return;
  }
  if (!belowOne(s)) {
    // |x| > 1, outside the documented range: this host leaves the operand and sets #P.
    put(s, m);
    tFlags |= F_PE;
    return;
  }
  decode(s, m);
  if (dE < -80) {
    // 2^x − 1 = x·ln2·(1 + x·ln2/2 + …): the correction is far below 64 bits.
    ddMul(dH, dL, LN2_H, LN2_L);
    round(ddH, ddL, dE, rc);
    return;
  }
  ddMul(dH * pow2(dE), dL * pow2(dE), LN2_H, LN2_L);
  ddExpm1(ddH, ddL);
  round(ddH, ddL, 0, rc);
}

@inline function pow2(n: i32): f64 {
  return reinterpret<f64>(<u64>(n + 1023) << 52);
}

// ---- FYL2X, FYL2XP1 ------------------------------------------------------------------------

/** y · l where l = (lh + ll) is a finite nonzero log2 and y = (sy, my) finite nonzero. */
function timesY(lh: f64, ll: f64, sy: u32, my: u64, rc: u32): void {
  decode(sy, my);
  const ey = dE;
  ddMul(dH, dL, lh, ll);
  round(ddH, ddL, ey, rc);
  // Inexact (and so #U when tiny) also for an exact y·k, x = 2^k, as this host does.
  tFlags |= F_PE;
  if (exp(tSexp) == 0) tFlags |= F_UE;
}

/** log2((h + l) · 2^e) for a positive double-double (h a normal f64). */
function log2Scaled(h: f64, l: f64, e: i32): void {
  const k = <i32>((reinterpret<u64>(h) >> 52) & 0x7FF) - 1023;
  let mh = h * pow2(-k), ml = l * pow2(-k);
  let ex = e + k;
  if (mh > 1.4142135623730951) {
    mh *= 0.5;
    ml *= 0.5;
    ex++;
  }
  ddLog(mh, ml);
  ddMul(ddH, ddL, LOG2E_H, LOG2E_L);
  ddAdd(<f64>ex, 0, ddH, ddL);
}

/** FYL2X: ST(1) · log2(ST(0)); x = ST(0), y = ST(1). */
export function fyl2x(sx: u32, mx: u64, sy: u32, my: u64, rc: u32): void {
  if (start(sx, mx, sy, my)) return;
  const yInf = isInf(sy, my), yZero = my == 0;
  if (mx == 0) {
    // log2(±0) = −∞: y·(−∞), #Z for finite y, invalid for y = 0.
    if (yZero) invalid();
    else {
      if (!yInf) tFlags = (tFlags & ~F_DE) | F_ZE; // #Z over #D, as #I (this host)
      put(signOf(!neg(sy)) | 0x7FFF, INT_BIT);
    }
    return;
  }
  if (neg(sx)) { invalid(); return; }
  if (isInf(sx, mx)) {
    if (yZero) invalid();
    else put((sy & 0x8000) | 0x7FFF, INT_BIT);
    return;
  }
  // x finite positive: the sign of log2(x) is that of x − 1.
  const one = isOne(sx, mx);
  const lneg = belowOne(sx);
  if (yZero || yInf) {
    if (one && yInf) { invalid(); return; }
    put(signOf(neg(sy) != (lneg && !one)) | (yInf ? 0x7FFF : 0), yInf ? INT_BIT : 0);
    return;
  }
  if (one) { put(sy & 0x8000, 0); return; }
  decode(sx, mx);
  log2Scaled(dH, dL, dE);
  timesY(ddH, ddL, sy, my, rc);
}

/** FYL2XP1: ST(1) · log2(ST(0) + 1) (SDM: defined for |x| < 1 − √2/2). */
export function fyl2xp1(sx: u32, mx: u64, sy: u32, my: u64, rc: u32): void {
  if (start(sx, mx, sy, my)) return;
  const yInf = isInf(sy, my), yZero = my == 0;
  if (mx == 0) {
    // y · (±0): a signed zero; ∞ · 0 is invalid.
    if (yInf) invalid();
    else put((sx ^ sy) & 0x8000, 0);
    return;
  }
  if (isInf(sx, mx)) {
    if (neg(sx) || yZero) invalid();
    else put((sy & 0x8000) | 0x7FFF, INT_BIT);
    return;
  }
  if (yZero || yInf) {
    put(signOf(neg(sy) != neg(sx)) | (yInf ? 0x7FFF : 0), yInf ? INT_BIT : 0);
    return;
  }
  if (neg(sx) && !belowOne(sx)) {
    // x ≤ −1, outside the documented range: this host gives x itself, flagged inexact.
    put(sx, mx);
    tFlags |= F_PE;
    return;
  }
  decode(sx, mx);
  if (dE < -110) {
    // log2(1 + x) = x·log2(e)·(1 − x/2 + …): the correction is far below 64 bits.
    const xh = dH, xl = dL, ex = dE;
    ddMul(xh, xl, LOG2E_H, LOG2E_L);
    const lh = ddH, ll = ddL;
    decode(sy, my);
    const ey = dE;
    ddMul(dH, dL, lh, ll);
    round(ddH, ddL, ex + ey, rc);
    return;
  }
  if (dE >= -1) {
    // |x| ≥ 1/2 (beyond the documented range from 1 − √2/2 up): log2 of 1 + x formed exactly
    // as (x·2^-e + 2^-e)·2^e (the 2^-e vanishes below any rounding for a huge x).
    ddAdd(dH, dL, dE > 1000 ? 0 : pow2(-dE), 0);
    log2Scaled(ddH, ddL, dE);
    timesY(ddH, ddL, sy, my, rc);
    return;
  }
  const xh = dH * pow2(dE), xl = dL * pow2(dE);
  // ln(1 + x) = 2·atanh(x / (2 + x)).
  ddAdd(2, 0, xh, xl);
  ddDiv(xh, xl, ddH, ddL);
  const sh = ddH, sl = ddL;
  ddLog1pFromS(sh, sl);
  ddMul(ddH, ddL, LOG2E_H, LOG2E_L);
  timesY(ddH, ddL, sy, my, rc);
}

function ddLog1pFromS(sh: f64, sl: f64): void {
  ddAtanh(sh, sl);
  ddMul(ddH, ddL, 2, 0);
}

// ---- FPATAN ----------------------------------------------------------------------------------

/** Round ±(a·π + b·π/2 + (th + tl)) for the small multiples FPATAN needs. */
function piSum(nPi: f64, nHalf: f64, th: f64, tl: f64, negative: bool, rc: u32): void {
  ddAdd(nPi * PI_H + nHalf * PI2_H, nPi * PI_L + nHalf * PI2_L, th, tl);
  round(negative ? -ddH : ddH, negative ? -ddL : ddL, 0, rc);
}

/** FPATAN: arctan(ST(1)/ST(0)) in the quadrant of (x = ST(0), y = ST(1)). */
export function fpatan(sx: u32, mx: u64, sy: u32, my: u64, rc: u32): void {
  if (start(sx, mx, sy, my)) return;
  const ny = neg(sy), nx = neg(sx);
  const xInf = isInf(sx, mx), yInf = isInf(sy, my);
  if (my == 0) {
    // atan2(±0, x): ±0 for x ≥ +0, ±π for x ≤ −0.
    if (nx) piSum(1, 0, 0, 0, ny, rc);
    else put(sy & 0x8000, 0);
    return;
  }
  if (yInf) {
    // ±π/2, or ±π/4 / ±3π/4 against an infinite x.
    if (!xInf) piSum(0, 1, 0, 0, ny, rc);
    else piSum(nx ? 0.75 : 0, nx ? 0 : 0.5, 0, 0, ny, rc);
    return;
  }
  if (mx == 0) { piSum(0, 1, 0, 0, ny, rc); return; }
  if (xInf) {
    if (nx) piSum(1, 0, 0, 0, ny, rc);
    else put(sy & 0x8000, 0);
    return;
  }
  decode(sx & 0x7FFF, mx);
  const ex = dE, xh = dH, xl = dL;
  decode(sy & 0x7FFF, my);
  const ey = dE, yh = dH, yl = dL;
  // t = min/max of |x|, |y| as (th + tl)·2^d, d ≤ 0 after the swap.
  const swap = ey > ex || (ey == ex && (yh > xh || (yh == xh && yl > xl)));
  if (swap) ddDiv(xh, xl, yh, yl);
  else ddDiv(yh, yl, xh, xl);
  const d = swap ? ex - ey : ey - ex;
  let th = ddH, tl = ddL;
  if (d < -50) {
    // atan(t) = t·(1 − t²/3 + …) for a tiny t: the correction only decides the rounding.
    if (!swap && !nx) {
      roundSticky(ny ? -th : th, ny ? -tl : tl, d, rc, -1);
      return;
    }
    const t = d < -1000 ? 0 : th * pow2(d);
    // x < 0: π − t; |y| > |x|: π/2 ∓ t.
    if (!swap) piSum(1, 0, -t, 0, ny, rc);
    else piSum(0, 1, nx ? t : -t, 0, ny, rc);
    return;
  }
  ddAtan(th * pow2(d), tl * pow2(d));
  th = ddH;
  tl = ddL;
  if (!swap) {
    if (nx) piSum(1, 0, -th, -tl, ny, rc);
    // t − t³/3 can sit on the grid for a short t < 2^-20, t⁵/5 beyond reach (as for FSIN).
    else roundSticky(ny ? -th : th, ny ? -tl : tl, 0, rc, d < -20 ? 1 : 0);
  } else piSum(0, 1, nx ? th : -th, nx ? tl : -tl, ny, rc);
}

// ---- FSIN, FCOS, FSINCOS, FPTAN --------------------------------------------------------------

export const TRIG_SIN: u32 = 0;
export const TRIG_COS: u32 = 1;
export const TRIG_TAN: u32 = 2; // tan in t, 1.0 in t2
export const TRIG_SINCOS: u32 = 3; // sin in t, cos in t2

/** |x| < 2^63, the range FSIN & co. accept (otherwise C2 = 1 and ST(0) stays). */
export function trigInRange(sexp: u32, mant: u64): bool {
  return exp(sexp) < EXP_BIAS + 63 || exp(sexp) == 0x7FFF || (mant & INT_BIT) == 0;
}

/** FPTAN's second result: 1.0 pushed above the tangent (its C1 stays). */
function oneAbove(): void {
  t2Sexp = EXP_BIAS;
  t2Mant = INT_BIT;
}
function second(): void {
  t2Sexp = tSexp;
  t2Mant = tMant;
}
function putBoth(sexp: u32, mant: u64, sexp2: u32, mant2: u64): void {
  put(sexp2, mant2);
  second();
  put(sexp, mant);
}

/** The trigonometric instructions on x = (s, m), |x| < 2^63 (the caller checks trigInRange). */
export function trig(s: u32, m: u64, op: u32, rc: u32): void {
  if (start(s, m, s, m)) {
    second();
    return;
  }
  const ONE: u32 = EXP_BIAS;
  if (isInf(s, m)) {
    invalid();
    second();
    return;
  }
  if (m == 0) {
    // sin ±0 = ±0, cos ±0 = 1, tan ±0 = ±0 (and FPTAN's 1).
    if (op == TRIG_COS) put(ONE, INT_BIT);
    else putBoth(s, 0, ONE, INT_BIT);
    return;
  }
  const nx = neg(s);
  decode(s & 0x7FFF, m);
  let rh: f64, rl: f64;
  let q: u32 = 0;
  if (dE < -50) {
    // sin x = x(1 − x²/6), cos x = 1 − x²/2, tan x = x(1 + x²/3): the corrections are below
    // 2^-100 and only decide the rounding.
    const e = dE, h = nx ? -dH : dH, l = nx ? -dL : dL;
    if (op == TRIG_COS) { roundSticky(1, 0, 0, rc, -1); return; }
    if (op == TRIG_SINCOS) {
      roundSticky(1, 0, 0, rc, -1);
      second();
      const f = tFlags;
      roundSticky(h, l, e, rc, -1);
      tFlags |= f;
      return;
    }
    roundSticky(h, l, e, rc, op == TRIG_TAN ? 1 : -1);
    if (op == TRIG_TAN) oneAbove();
    return;
  }
  if (dE < 0 && dH * pow2(dE) <= 0.7853981633974483) {
    rh = dH * pow2(dE);
    rl = dL * pow2(dE);
  } else {
    reduce(m, dE);
    rh = ddH;
    rl = ddL;
    q = redQ;
  }
  // sin(r + qπ/2) and cos(r + qπ/2) from sin r, cos r.
  let sh: f64 = 0, sl: f64 = 0, ch: f64 = 0, cl: f64 = 0;
  if (op != TRIG_COS || (q & 1) != 0) {
    ddSinCos(rh, rl, false);
    sh = ddH; sl = ddL;
  }
  if (op != TRIG_SIN || (q & 1) != 0) {
    ddSinCos(rh, rl, true);
    ch = ddH; cl = ddL;
  }
  // Quadrant q: sin → (s, c, −s, −c)[q], cos → (c, −s, −c, s)[q].
  let sinH = (q & 1) != 0 ? ch : sh, sinL = (q & 1) != 0 ? cl : sl;
  if ((q & 2) != 0) { sinH = -sinH; sinL = -sinL; }
  let cosH = (q & 1) != 0 ? sh : ch, cosL = (q & 1) != 0 ? sl : cl;
  if (((q + 1) & 2) != 0) { cosH = -cosH; cosL = -cosL; }
  if (nx) { sinH = -sinH; sinL = -sinL; }
  // For a small x with a short significand, x − x³/6, x + x³/3 or 1 − x²/2 can sit exactly
  // on the 64-bit grid while the next term (x⁵/120, 2x⁵/15, x⁴/24, all positive) is below
  // double-double's reach; for |x| ≥ 2^-20 the terms that reach the grid are all within it.
  const up: i32 = dE < -20 ? 1 : 0;
  if (op == TRIG_SIN) { roundSticky(sinH, sinL, 0, rc, up); return; }
  if (op == TRIG_COS) { roundSticky(cosH, cosL, 0, rc, up); return; }
  if (op == TRIG_TAN) {
    ddDiv(sinH, sinL, cosH, cosL);
    roundSticky(ddH, ddL, 0, rc, up);
    oneAbove();
    return;
  }
  roundSticky(cosH, cosL, 0, rc, up);
  second();
  const f = tFlags;
  roundSticky(sinH, sinL, 0, rc, up);
  tFlags |= f;
}
