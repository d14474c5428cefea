// FPREM and FPREM1 on 80-bit images, exactly (SDM Vol. 2 FPREM, FPREM1): a shift-subtract
// division of the 64-bit significands. A partial remainder (exponent difference ≥ 64)
// reduces the exponent by a multiple of 32 as the host does, leaving N = 32..63 (the SDM
// allows 32..63), and sets C2. Results go to fpSexp/fpMant, flags to fpFlags and the
// condition codes to fpCC (C3 C2 C1 C0 as bits 3..0: C0 = Q2, C1 = Q0, C3 = Q1).

import {
  EXP_BIAS, INDEF_SEXP, INDEF_MANT, QUIET_BIT, rawIsNaN, rawIsSNaN, rawIsUnsupported, rawIsDenormal,
} from "./float80";

export let fpSexp: u32 = 0;
export let fpMant: u64 = 0;
export let fpFlags: u32 = 0;
export let fpCC: u32 = 0;

const F_IE: u32 = 0x01;
const F_DE: u32 = 0x02;

function result(sexp: u32, mant: u64): void {
  fpSexp = sexp;
  fpMant = mant;
}

/** ST(0) = (sa, ma) rem ST(1) = (sb, mb); ieee selects FPREM1 (nearest quotient). */
export function fprem(sa: u32, ma: u64, sb: u32, mb: u64, ieee: bool): void {
  fpFlags = 0;
  fpCC = 0;
  const ea0 = <i32>(sa & 0x7FFF);
  const eb0 = <i32>(sb & 0x7FFF);
  if (rawIsUnsupported(sa, ma) || rawIsUnsupported(sb, mb)) {
    fpFlags = F_IE;
    result(INDEF_SEXP, INDEF_MANT);
    return;
  }
  if (rawIsNaN(sa, ma) || rawIsNaN(sb, mb)) {
    // The NaN operand, quieted; of two NaNs the QNaN, else the larger significand (Table 4-7).
    const an = rawIsNaN(sa, ma);
    const bn = rawIsNaN(sb, mb);
    const as = an && rawIsSNaN(sa, ma);
    const bs = bn && rawIsSNaN(sb, mb);
    if (as || bs) fpFlags = F_IE;
    let useA = an;
    if (an && bn) useA = as != bs ? bs : ma != mb ? ma > mb : (sa & 0x8000) == 0;
    if (useA) result(sa, ma | QUIET_BIT);
    else result(sb, mb | QUIET_BIT);
    return;
  }
  if (ea0 == 0x7FFF || mb == 0) {
    fpFlags = F_IE; // ∞ rem y, x rem 0
    result(INDEF_SEXP, INDEF_MANT);
    return;
  }
  if (rawIsDenormal(sa, ma) || rawIsDenormal(sb, mb)) fpFlags = F_DE;
  if (eb0 == 0x7FFF || ma == 0) {
    result(sa, ma); // x rem ∞ = x, ±0 rem y = ±0
    return;
  }
  // Normalise: value = M · 2^(E − 63).
  const la = <i32>clz<u64>(ma);
  const lb = <i32>clz<u64>(mb);
  const Ma = ma << <u64>la;
  const Mb = mb << <u64>lb;
  const Ea = (ea0 == 0 ? 1 : ea0) - EXP_BIAS - la;
  let Eb = (eb0 == 0 ? 1 : eb0) - EXP_BIAS - lb;
  let d = Ea - Eb;
  if (d >= 64) {
    const k = (d - 32) & ~31; // partial remainder against ST(1) · 2^k
    Eb += k;
    d -= k;
    fpCC = 0b0100;
  }
  let r: u64;
  let q: u32 = 0;
  let neg = (sa & 0x8000) != 0;
  if (d < 0) {
    r = Ma; // quotient 0; the remainder is a itself, in units of 2^(Ea − 63)
    Eb = Ea;
    if (ieee && d == -1 && Ma > Mb) {
      // |a| > |b|/2: the nearest quotient is 1, remainder |b| − |a| with flipped sign.
      // In units of 2^(Ea − 63): |b| = 2·Mb, so the result is 2·Mb − Ma (< 2^64).
      r = (Mb << 1) - Ma;
      q = 1;
      neg = !neg;
    }
  } else {
    r = Ma;
    if (r >= Mb) { r -= Mb; q = 1; }
    for (let i = 0; i < d; i++) {
      const carry = (r >> 63) != 0;
      r <<= 1;
      q <<= 1;
      if (carry || r >= Mb) { r -= Mb; q |= 1; }
    }
    if (ieee && fpCC == 0) {
      const rest = Mb - r;
      if (r > rest || (r == rest && (q & 1) != 0)) {
        r = rest;
        q++;
        neg = !neg;
      }
    }
  }
  if (fpCC == 0) fpCC = ((q >> 2) & 1) | ((q & 1) << 1) | (((q >> 1) & 1) << 3);
  const sign: u32 = neg ? 0x8000 : 0;
  if (r == 0) {
    result(sa & 0x8000, 0); // an exact zero keeps the dividend's sign
    return;
  }
  const lz = <i32>clz<u64>(r);
  let e = Eb + EXP_BIAS - lz;
  let m = r << <u64>lz;
  if (e <= 0) {
    // A denormal remainder: exact, it sits on ST(1)'s grid.
    m >>= <u64>(1 - e);
    e = 0;
  }
  result(sign | <u32>e, m);
}
