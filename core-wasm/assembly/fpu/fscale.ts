// FSCALE on the 80-bit images (SDM Vol. 2 FSCALE): ST(0) · 2^trunc(ST(1)). Multiplying by a
// power of two only moves the exponent, so the result is exact unless it overflows or goes
// below the normal range; then it is rounded once under the control word's RC, at the full
// 64-bit significand (FSCALE is not one of the instructions precision control affects, SDM
// Vol. 1 §8.1.5.2). The result goes to fsSexp/fsMant, flags to fsFlags, C1 to fsUp.

import { EXP_BIAS, INDEF_MANT, INDEF_SEXP, INT_BIT, rawIsDenormal } from "./float80";
import { nanOperands2, opFlags, opUp, resMant, resSexp } from "./arith";

const F_IE: u32 = 0x01;
const F_DE: u32 = 0x02;
const F_OE: u32 = 0x08;
const F_UE: u32 = 0x10;
const F_PE: u32 = 0x20;
/** Beyond any exponent an 80-bit value can be moved by: clamp trunc(ST(1)) here. */
const SCALE_LIMIT: i64 = 0x10_0000;

export let fsFlags: u32 = 0;
export let fsUp: bool = false;
export let fsSexp: u32 = 0;
export let fsMant: u64 = 0;

/** trunc(v) of a finite value, clamped to ±SCALE_LIMIT. */
function truncClamped(sexp: u32, mant: u64): i64 {
  const e = <i32>(sexp & 0x7FFF) - EXP_BIAS; // unbiased; a denormal's is far below 0
  if (mant == 0 || e < 0) return 0;
  const mag: i64 = e >= 20 ? SCALE_LIMIT : <i64>(mant >> <u64>(63 - e));
  return (sexp & 0x8000) != 0 ? -mag : mag;
}

/** Finite nonzero ST(0) times 2^n: exact, or rounded below the normal range, or overflowed. */
function scaleFinite(sexp: u32, mant: u64, n: i64, rc: u32): void {
  const neg = (sexp & 0x8000) != 0;
  const sign: u32 = sexp & 0x8000;
  const lz = <i32>clz<u64>(mant);
  const e = <i32>(sexp & 0x7FFF);
  const m = mant << <u64>lz;
  const ex: i64 = <i64>(e == 0 ? 1 : e) - <i64>lz + n; // biased exponent of m
  if (ex >= 0x7FFF) {
    // Masked overflow: ∞ when rounding goes that way, else the largest finite value.
    fsFlags |= F_OE | F_PE;
    fsUp = rc == 0 || (rc == 1 && neg) || (rc == 2 && !neg);
    fsSexp = sign | (fsUp ? 0x7FFF : 0x7FFE);
    fsMant = fsUp ? INT_BIT : 0xFFFF_FFFF_FFFF_FFFF;
    return;
  }
  if (ex >= 1) {
    fsSexp = sign | <u32>ex;
    fsMant = m;
    return;
  }
  // Below the normal range: a denormal with the significand shifted right by 1 − ex.
  const shift: i64 = 1 - ex;
  const kept: u64 = shift >= 64 ? 0 : m >> <u64>shift;
  const lost: u64 = shift >= 64 ? m : m << <u64>(64 - shift); // the discarded bits, left-aligned
  let inc = false;
  if (lost != 0 || shift > 64) {
    const half = INT_BIT;
    const above = shift > 64 ? false : lost > half;
    const tie = shift > 64 ? false : lost == half;
    if (rc == 0) inc = above || (tie && (kept & 1) != 0);
    else if (rc == 1) inc = neg;
    else if (rc == 2) inc = !neg;
    fsFlags |= F_UE | F_PE;
  }
  const r = inc ? kept + 1 : kept;
  fsUp = inc;
  // A carry into bit 63 makes it the smallest normal (exponent field 1).
  fsSexp = sign | ((r & INT_BIT) != 0 ? 1 : 0);
  fsMant = r;
}

/** FSCALE of ST(0) = (sa, ma) by ST(1) = (sb, mb) under rounding control rc. */
export function fscale(sa: u32, ma: u64, sb: u32, mb: u64, rc: u32): void {
  fsFlags = 0;
  fsUp = false;
  if (nanOperands2(sa, ma, sb, mb)) {
    fsFlags = opFlags;
    fsSexp = resSexp;
    fsMant = resMant;
    return;
  }
  if (rawIsDenormal(sa, ma) || rawIsDenormal(sb, mb)) fsFlags |= F_DE;
  const infA = (sa & 0x7FFF) == 0x7FFF;
  fsSexp = sa;
  fsMant = ma;
  if ((sb & 0x7FFF) == 0x7FFF) {
    // ST(1) = ±∞: 0 · 2^+∞ and ∞ · 2^−∞ are invalid; otherwise ±∞ or ±0 with ST(0)'s sign.
    const up = (sb & 0x8000) == 0;
    if (up ? ma == 0 : infA) {
      fsFlags |= F_IE;
      fsSexp = INDEF_SEXP;
      fsMant = INDEF_MANT;
    } else if (ma != 0 && !infA) {
      fsSexp = (sa & 0x8000) | (up ? 0x7FFF : 0);
      fsMant = up ? INT_BIT : 0;
    }
    return;
  }
  if (ma == 0 || infA) return;
  scaleFinite(sa, ma, truncClamped(sb, mb), rc);
}
