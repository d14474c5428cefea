// Double-double arithmetic (a value is hi + lo, |lo| ≤ ulp(hi)/2, ~106 significant bits) and
// the series the x87 transcendentals are built from (transcend.ts). 106 bits leave ~40 bits
// of margin over the x87's 64-bit significand, so a result rounded once from these is the
// correctly rounded one except within ~2^-100 relative of a rounding boundary. Values stay
// in a moderate f64 range here; transcend.ts keeps the 80-bit exponents apart.
// Functions return hi in ddH and lo in ddL (no allocation).
import { prodErr } from "./arith";

export let ddH: f64 = 0;
export let ddL: f64 = 0;

// Constants as hi + lo (~107 bits): ln 2, log2 e, π, π/2.
export const LN2_H: f64 = 0.6931471805599453;
export const LN2_L: f64 = 2.3190468138462996e-17;
export const LOG2E_H: f64 = 1.4426950408889634;
export const LOG2E_L: f64 = 2.0355273740931033e-17;
export const PI_H: f64 = 3.141592653589793;
export const PI_L: f64 = 1.2246467991473532e-16;
export const PI2_H: f64 = 1.5707963267948966;
export const PI2_L: f64 = 6.123233995736766e-17;

@inline function set(h: f64, l: f64): void {
  const s = h + l;
  ddL = l - (s - h);
  ddH = s;
}

/** a + b, with the error terms of both halves (accurate under cancellation). */
export function ddAdd(ah: f64, al: f64, bh: f64, bl: f64): void {
  let s = ah + bh;
  let v = s - ah;
  let e = (ah - (s - v)) + (bh - v);
  const t = al + bl;
  v = t - al;
  const f = (al - (t - v)) + (bl - v);
  e += t;
  const s2 = s + e;
  e = e - (s2 - s);
  s = s2;
  set(s, e + f);
}

export function ddMul(ah: f64, al: f64, bh: f64, bl: f64): void {
  const p = ah * bh;
  set(p, prodErr(ah, bh, p) + (ah * bl + al * bh));
}

/** a / b: three quotient digits, each from the remainder so far. */
export function ddDiv(ah: f64, al: f64, bh: f64, bl: f64): void {
  const q1 = ah / bh;
  ddMul(q1, 0, bh, bl);
  ddAdd(ah, al, -ddH, -ddL);
  const rh = ddH, rl = ddL;
  const q2 = rh / bh;
  ddMul(q2, 0, bh, bl);
  ddAdd(rh, rl, -ddH, -ddL);
  const q3 = ddH / bh;
  set(q1, q2);
  ddAdd(ddH, ddL, q3, 0);
}

export function ddSqrt(ah: f64, al: f64): void {
  const q = Math.sqrt(ah);
  const p = q * q;
  const r = ((ah - p) - prodErr(q, q, p)) + al;
  set(q, r / (2 * q));
}

// ---- series --------------------------------------------------------------------------------

/** e^u − 1 for |u| ≤ 0.7: Taylor at u/256, then expm1(2v) = expm1(v)·(expm1(v) + 2) eight times. */
export function ddExpm1(uh: f64, ul: f64): void {
  const vh = uh * 0.00390625, vl = ul * 0.00390625;
  // expm1(v) = v(1 + v/2(1 + v/3(1 + ...)))
  let th: f64 = 1, tl: f64 = 0;
  for (let k = 13; k >= 2; k--) {
    ddMul(vh, vl, th, tl);
    ddDivSmall(ddH, ddL, <f64>k);
    ddAdd(1, 0, ddH, ddL);
    th = ddH; tl = ddL;
  }
  ddMul(vh, vl, th, tl);
  for (let i = 0; i < 8; i++) {
    const mh = ddH, ml = ddL;
    ddAdd(mh, ml, 2, 0);
    ddMul(mh, ml, ddH, ddL);
  }
}

/** a / n for a small integer n (exact in f64). */
export function ddDivSmall(ah: f64, al: f64, n: f64): void {
  const q1 = ah / n;
  const p = q1 * n;
  const r = ((ah - p) - prodErr(q1, n, p)) + al;
  set(q1, r / n);
}

/** 1 + x/3 + x²/5 + ... + x^(n−1)/(2n − 1), by Horner: the series of atanh (x = s²) and
 *  atan (x = −t²) after their first factor. */
function ddOddSeries(xh: f64, xl: f64, n: i32): void {
  let th: f64 = 0, tl: f64 = 0;
  for (let k = n - 1; k >= 0; k--) {
    ddMul(xh, xl, th, tl);
    const ph = ddH, pl = ddL;
    ddDivSmall(1, 0, <f64>(2 * k + 1));
    ddAdd(ddH, ddL, ph, pl);
    th = ddH; tl = ddL;
  }
}

/** atanh(s) for |s| ≤ 0.18: s(1 + s²/3 + s⁴/5 + ...). */
export function ddAtanh(sh: f64, sl: f64): void {
  ddMul(sh, sl, sh, sl);
  ddOddSeries(ddH, ddL, 24);
  ddMul(sh, sl, ddH, ddL);
}

/** ln(m) for m in [√½, √2]: 2·atanh((m − 1)/(m + 1)). */
export function ddLog(mh: f64, ml: f64): void {
  ddAdd(mh, ml, 1, 0);
  const dh = ddH, dl = ddL;
  ddAdd(mh, ml, -1, 0);
  ddDiv(ddH, ddL, dh, dl);
  ddAtanh(ddH, ddL);
  ddH *= 2;
  ddL *= 2;
}

/** atan(t) for 0 ≤ t ≤ 1: t ← t/(1 + √(1 + t²)) three times (atan halves), then the series.
 *  A small t skips the halving, so t·(1 − t²/3 …) keeps the correction's sign exactly. */
export function ddAtan(th0: f64, tl0: f64): void {
  let th = th0, tl = tl0;
  const halvings = th0 > 0.0009765625 ? 3 : 0;
  for (let i = 0; i < halvings; i++) {
    ddMul(th, tl, th, tl);
    ddAdd(ddH, ddL, 1, 0);
    ddSqrt(ddH, ddL);
    ddAdd(ddH, ddL, 1, 0);
    ddDiv(th, tl, ddH, ddL);
    th = ddH; tl = ddL;
  }
  ddMul(th, tl, th, tl);
  ddOddSeries(-ddH, -ddL, 21);
  ddMul(th, tl, ddH, ddL);
  const f = <f64>(1 << halvings);
  ddH *= f;
  ddL *= f;
}

/** sin(r) (cosine = false) or cos(r) for |r| ≤ 0.8, nested Horner form
 *  sin r = r(1 − r²/(2·3)(1 − r²/(4·5)(…))), cos r = 1 − r²/(1·2)(1 − r²/(3·4)(…)). */
export function ddSinCos(rh: f64, rl: f64, cosine: bool): void {
  ddMul(rh, rl, rh, rl);
  const r2h = ddH, r2l = ddL;
  let th: f64 = 1, tl: f64 = 0;
  const base: i32 = cosine ? 1 : 2;
  for (let k = 17; k >= 0; k--) {
    const a = <f64>(2 * k + base);
    ddMul(r2h, r2l, th, tl);
    ddDivSmall(ddH, ddL, a * (a + 1));
    ddAdd(1, 0, -ddH, -ddL);
    th = ddH; tl = ddL;
  }
  if (!cosine) ddMul(rh, rl, th, tl);
}
