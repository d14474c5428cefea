// Exact conversions between the x87 80-bit format (SDM Vol. 1 §4.2.2, §8.2.2) and f32/f64/
// integers, with IEEE rounding under the control word's RC. A raw value is
// sexp = sign<<15 | biased exponent (bias 16383) and a 64-bit significand whose bit 63 is the
// explicit integer bit. Functions returning a significand leave sexp in `rawSexp`, and the
// rounding ones leave their exception flags in `rFlags` and "rounded up" (C1) in `rUp`.

export const EXP_BIAS: i32 = 16383;
export const INT_BIT: u64 = 0x8000_0000_0000_0000;
export const QUIET_BIT: u64 = 0x4000_0000_0000_0000;
/** QNaN floating-point indefinite (SDM Vol. 1 §4.8.3.7). */
export const INDEF_SEXP: u32 = 0xFFFF;
export const INDEF_MANT: u64 = 0xC000_0000_0000_0000;
export const INDEF_F64: u64 = 0xFFF8_0000_0000_0000;

// Flag values shared with state.ts (status word bits).
const F_IE: u32 = 0x01;
const F_OE: u32 = 0x08;
const F_UE: u32 = 0x10;
const F_PE: u32 = 0x20;

export let rawSexp: u32 = 0;
export let rFlags: u32 = 0;
export let rUp: bool = false;
/** Set by rawToInt when the value is NaN, infinite, unsupported or out of range. */
export let intInvalid: bool = false;

// ---- classification ---------------------------------------------------------------------

@inline export function rawIsNaN(sexp: u32, mant: u64): bool {
  return (sexp & 0x7FFF) == 0x7FFF && (mant << 1) != 0;
}
@inline export function rawIsSNaN(sexp: u32, mant: u64): bool {
  return rawIsNaN(sexp, mant) && (mant & QUIET_BIT) == 0;
}
/** Unnormals, pseudo-NaNs and pseudo-infinities: invalid operands since the 387. */
@inline export function rawIsUnsupported(sexp: u32, mant: u64): bool {
  return (sexp & 0x7FFF) != 0 && (mant & INT_BIT) == 0;
}
@inline export function rawIsDenormal(sexp: u32, mant: u64): bool {
  return (sexp & 0x7FFF) == 0 && mant != 0;
}

/** Tag for FNSTENV/FNSAVE: 0 valid, 1 zero, 2 special (NaN, ∞, denormal, unsupported). */
export function rawClassTag(sexp: u32, mant: u64): u32 {
  const e = sexp & 0x7FFF;
  if (e == 0) return mant == 0 ? 1 : 2;
  if (e == 0x7FFF) return 2;
  return (mant & INT_BIT) != 0 ? 0 : 2;
}

/** FXAM class as C3 C2 C0 in bits 2,1,0 (SDM Vol. 2 FXAM). */
export function rawFxamClass(sexp: u32, mant: u64): u32 {
  const e = sexp & 0x7FFF;
  if (e == 0x7FFF) {
    if ((mant & INT_BIT) == 0) return 0b000; // unsupported
    return (mant << 1) == 0 ? 0b011 : 0b001; // infinity : NaN
  }
  if (e == 0) return mant == 0 ? 0b100 : 0b110; // zero : denormal
  return (mant & INT_BIT) != 0 ? 0b010 : 0b000; // normal : unsupported
}

// ---- rounding ---------------------------------------------------------------------------

/** Compare the bits below `shift` of m with half an ulp: -1 below, 0 equal, 1 above. Also
 *  leaves `lostBits` (nonzero if anything is discarded). */
let lostBits: bool = false;
function cmpHalf(m: u64, shift: i32): i32 {
  if (shift <= 0) {
    lostBits = false;
    return -1;
  }
  if (shift > 64) {
    lostBits = m != 0;
    return -1;
  }
  const lost: u64 = shift == 64 ? m : m & ((<u64>1 << <u64>shift) - 1);
  const half: u64 = <u64>1 << <u64>(shift - 1);
  lostBits = lost != 0;
  return lost > half ? 1 : lost == half ? 0 : -1;
}

@inline function roundInc(rc: u32, neg: bool, cmp: i32, lsbOdd: bool): bool {
  if (!lostBits) return false;
  if (rc == 0) return cmp > 0 || (cmp == 0 && lsbOdd);
  if (rc == 1) return neg;
  if (rc == 2) return !neg;
  return false;
}

/** Round the nonzero finite value (-1)^neg · m · 2^(e−63), m normalised (bit 63 set), to a
 *  binary format with p significand bits (hidden integer bit), exponent `bias` and all-ones
 *  exponent field `fmax`; returns the format's bit pattern (sign at bit `signPos`). Tininess
 *  is detected after rounding, as x86 does. */
export function roundPack(neg: bool, e: i32, m: u64, p: i32, bias: i32, fmax: u32, signPos: i32, rc: u32): u64 {
  rFlags = 0;
  rUp = false;
  const sign: u64 = neg ? <u64>1 << <u64>signPos : 0;
  let eb = e + bias;
  const shiftN: i32 = 64 - p;
  let tiny = false;
  if (eb <= 0) {
    tiny = true;
    if (eb == 0) {
      // Tiny after rounding only if rounding at full precision stays below 2^emin.
      const c = cmpHalf(m, shiftN);
      const k: u64 = m >> <u64>shiftN;
      if (roundInc(rc, neg, c, (k & 1) != 0) && k + 1 == <u64>1 << <u64>p) tiny = false;
    }
  }
  if (eb > 0 && <u32>eb >= fmax) return overflowResult(sign, p, fmax, rc, neg);
  const shift: i32 = eb > 0 ? shiftN : shiftN + 1 - eb;
  const c = cmpHalf(m, shift);
  let kept: u64 = shift >= 64 ? 0 : m >> <u64>shift;
  const inc = roundInc(rc, neg, c, (kept & 1) != 0);
  if (inc) kept++;
  let bits: u64 = eb > 0 ? (<u64>(eb - 1) << <u64>(p - 1)) + kept : kept;
  if (<u32>(bits >> <u64>(p - 1)) >= fmax) return overflowResult(sign, p, fmax, rc, neg);
  if (lostBits) {
    rFlags |= F_PE;
    if (tiny) rFlags |= F_UE;
  }
  rUp = inc;
  return sign | bits;
}

function overflowResult(sign: u64, p: i32, fmax: u32, rc: u32, neg: bool): u64 {
  rFlags = F_OE | F_PE;
  const inf: u64 = <u64>fmax << <u64>(p - 1);
  // Round to nearest and toward the overflow's direction give ∞, the others the largest finite.
  const toInf = rc == 0 || (rc == 1 && neg) || (rc == 2 && !neg);
  rUp = toInf;
  return sign | (toInf ? inf : inf - 1);
}

// ---- float80 ← f64/f32/integers (exact) ---------------------------------------------------

/** f64 → 80-bit, exactly. Returns the significand; sexp in rawSexp. */
export function f64ToRaw(v: f64): u64 {
  const b = reinterpret<u64>(v);
  const s: u32 = <u32>(b >> 48) & 0x8000;
  const e: u32 = <u32>(b >> 52) & 0x7FF;
  const f: u64 = b & 0x000F_FFFF_FFFF_FFFF;
  if (e == 0x7FF) {
    rawSexp = s | 0x7FFF;
    return INT_BIT | (f << 11);
  }
  if (e == 0) {
    if (f == 0) {
      rawSexp = s;
      return 0;
    }
    const lz = <i32>clz<u64>(f);
    rawSexp = s | <u32>(EXP_BIAS - 1011 - lz);
    return f << <u64>lz;
  }
  rawSexp = s | (e - 1023 + <u32>EXP_BIAS);
  return INT_BIT | (f << 11);
}

/** f32 bit pattern → 80-bit, exactly. */
export function f32BitsToRaw(b: u32): u64 {
  const s: u32 = (b >> 16) & 0x8000;
  const e: u32 = (b >> 23) & 0xFF;
  const f: u64 = <u64>(b & 0x7F_FFFF);
  if (e == 0xFF) {
    rawSexp = s | 0x7FFF;
    return INT_BIT | (f << 40);
  }
  if (e == 0) {
    if (f == 0) {
      rawSexp = s;
      return 0;
    }
    const lz = <i32>clz<u64>(f);
    rawSexp = s | <u32>(EXP_BIAS - 86 - lz);
    return f << <u64>lz;
  }
  rawSexp = s | (e - 127 + <u32>EXP_BIAS);
  return INT_BIT | (f << 40);
}

/** Signed integer → 80-bit, exactly (FILD). */
export function i64ToRaw(v: i64): u64 {
  if (v == 0) {
    rawSexp = 0;
    return 0;
  }
  const neg = v < 0;
  const mag: u64 = neg ? <u64>(0 - v) : <u64>v;
  const lz = <i32>clz<u64>(mag);
  rawSexp = (neg ? 0x8000 : 0) | <u32>(EXP_BIAS + 63 - lz);
  return mag << <u64>lz;
}

// ---- float80 → f64/f32 (rounded) --------------------------------------------------------

/** 80-bit → f32 (fmt 0) or f64 (fmt 1) bit pattern, rounded with rc (FST m32/m64). NaNs keep
 *  the top of their payload and are made quiet (the caller raises #IA for an SNaN);
 *  unsupported encodings give the indefinite. */
export function rawToBits(sexp: u32, mant: u64, fmt: u32, rc: u32): u64 {
  rFlags = 0;
  rUp = false;
  const neg = (sexp & 0x8000) != 0;
  const e = <i32>(sexp & 0x7FFF);
  const p: i32 = fmt == 0 ? 24 : 53;
  const bias: i32 = fmt == 0 ? 127 : 1023;
  const fmax: u32 = fmt == 0 ? 0xFF : 0x7FF;
  const signPos: i32 = fmt == 0 ? 31 : 63;
  const sign: u64 = neg ? <u64>1 << <u64>signPos : 0;
  const inf: u64 = <u64>fmax << <u64>(p - 1);
  if (rawIsUnsupported(<u32>sexp, mant)) {
    rFlags = F_IE;
    return fmt == 0 ? 0xFFC0_0000 : INDEF_F64;
  }
  if (e == 0x7FFF) {
    if ((mant << 1) == 0) return sign | inf;
    const frac: u64 = (mant << 1) >> <u64>(65 - p); // top p-1 fraction bits
    return sign | inf | frac | (<u64>1 << <u64>(p - 2)); // quiet
  }
  if (mant == 0) return sign;
  // Denormal or pseudo-denormal: exponent field 0 means 2^(1-bias).
  const lz = <i32>clz<u64>(mant);
  const ee: i32 = (e == 0 ? 1 : e) - EXP_BIAS - lz;
  return roundPack(neg, ee, mant << <u64>lz, p, bias, fmax, signPos, rc);
}

/** f32/f64 memory operand bit patterns: NaN test, SNaN test, denormal test. */
@inline export function f64BitsIsSNaN(b: u64): bool {
  return (b & 0x7FF8_0000_0000_0000) == 0x7FF0_0000_0000_0000 && (b & 0x000F_FFFF_FFFF_FFFF) != 0;
}
@inline export function f64BitsIsDenormal(b: u64): bool {
  return (b & 0x7FF0_0000_0000_0000) == 0 && (b & 0x000F_FFFF_FFFF_FFFF) != 0;
}
@inline export function f32BitsIsSNaN(b: u32): bool {
  return (b & 0x7FC0_0000) == 0x7F80_0000 && (b & 0x7F_FFFF) != 0;
}
@inline export function f32BitsIsDenormal(b: u32): bool {
  return (b & 0x7F80_0000) == 0 && (b & 0x7F_FFFF) != 0;
}

// ---- float80 → integer ------------------------------------------------------------------

/** 80-bit → signed integer of `width` bits (16, 32, 64) rounded with rc (FIST/FISTP), or
 *  `width` 0 for the BCD range |v| < 10^18 (FBSTP). Sets intInvalid on NaN/∞/unsupported/
 *  out of range (the caller stores the integer indefinite), and rFlags PE / rUp. */
export function rawToInt(sexp: u32, mant: u64, width: u32, rc: u32): i64 {
  rFlags = 0;
  rUp = false;
  intInvalid = false;
  const neg = (sexp & 0x8000) != 0;
  const e = <i32>(sexp & 0x7FFF);
  if (e == 0x7FFF || rawIsUnsupported(sexp, mant)) {
    intInvalid = true;
    return 0;
  }
  if (mant == 0) return 0;
  const shift: i32 = EXP_BIAS + 63 - (e == 0 ? 1 : e); // value = mant · 2^-shift
  let kept: u64;
  if (shift < 0) {
    intInvalid = true;
    return 0;
  }
  const c = cmpHalf(mant, shift);
  kept = shift >= 64 ? 0 : mant >> <u64>shift;
  const inc = roundInc(rc, neg, c, (kept & 1) != 0);
  if (inc) kept++;
  let limit: u64;
  if (width == 16) limit = neg ? 0x8000 : 0x7FFF;
  else if (width == 32) limit = neg ? 0x8000_0000 : 0x7FFF_FFFF;
  else if (width == 64) limit = neg ? 0x8000_0000_0000_0000 : 0x7FFF_FFFF_FFFF_FFFF;
  else limit = 999_999_999_999_999_999;
  // kept wraps to 0 only when shift is 0 and the increment overflowed: out of range anyway.
  if (kept > limit || (inc && kept == 0)) {
    intInvalid = true;
    return 0;
  }
  if (lostBits) rFlags = F_PE;
  rUp = inc;
  return neg ? 0 - <i64>kept : <i64>kept;
}

// ---- double-double (hi + lo) ↔ float80 ---------------------------------------------------

/** x · 2^n for any n, exact while the result stays in range. */
function scale2(x: f64, n: i32): f64 {
  while (n > 1000) { x *= 1.0715086071862673e301; n -= 1000; } // 2^1000
  while (n < -1000) { x *= 9.332636185032189e-302; n += 1000; } // 2^-1000
  return x * reinterpret<f64>(<u64>(n + 1023) << 52);
}

/** Round hi + lo (hi finite and nonzero or lo zero, |lo| well below ulp53(hi)) to `bits`
 *  (64, 53 or 24) significant bits under rc, with an unbounded exponent: the x87's
 *  rounding of an arithmetic result. Sets rawSexp, rFlags (PE), rUp. */
export function ddToRaw(hi: f64, lo: f64, rc: u32, bits: i32): u64 {
  rFlags = 0;
  rUp = false;
  const m = f64ToRaw(hi);
  if (hi == 0 || !isFinite(hi)) return m;
  const neg = (rawSexp & 0x8000) != 0;
  let e = <i32>(rawSexp & 0x7FFF);
  // lo in units of the significand's last bit (2^(e − bias − 63)); small, so exact.
  const k = scale2(neg ? -lo : lo, EXP_BIAS + 63 - e);
  const ki = Math.floor(k);
  let frac = k - ki; // the magnitude is (mm + frac) units, 0 ≤ frac < 1
  let mm = m + <u64><i64>ki; // wraps for negative ki as intended
  if (ki > 0 && mm < m) {
    // Carry out of bit 63: one more bit goes to the fraction.
    frac = (frac + <f64>(mm & 1)) * 0.5;
    mm = (mm >> 1) | INT_BIT;
    e++;
  } else if ((mm & INT_BIT) == 0) {
    // Borrow below a power of two: take one more bit from the fraction.
    const bit: u64 = frac >= 0.5 ? 1 : 0;
    frac = frac * 2 - <f64>bit;
    mm = (mm << 1) | bit;
    e--;
  }
  // Round at bit (64 − bits): c compares the discarded part with half a unit.
  const shift = <u64>(64 - bits);
  let c: i32;
  let inexact: bool;
  if (shift == 0) {
    c = frac > 0.5 ? 1 : frac == 0.5 ? 0 : -1;
    inexact = frac != 0;
  } else {
    const lost = mm & ((<u64>1 << shift) - 1);
    const half = <u64>1 << (shift - 1);
    c = lost > half ? 1 : lost < half ? -1 : frac != 0 ? 1 : 0;
    inexact = lost != 0 || frac != 0;
    mm -= lost;
  }
  let inc = false;
  if (inexact) {
    if (rc == 0) inc = c > 0 || (c == 0 && ((mm >> shift) & 1) != 0);
    else if (rc == 1) inc = neg;
    else if (rc == 2) inc = !neg;
    rFlags = F_PE;
  }
  if (inc) {
    mm += <u64>1 << shift;
    if (mm == 0) {
      mm = INT_BIT;
      e++;
    }
  }
  rUp = inc;
  rawSexp = (neg ? 0x8000 : 0) | <u32>e;
  return mm;
}

/** FRNDINT on an 80-bit value: round to an integer under rc, exactly. Sets rawSexp, rFlags
 *  (PE), rUp. */
export function rawRoundToInt(sexp: u32, mant: u64, rc: u32): u64 {
  rFlags = 0;
  rUp = false;
  rawSexp = sexp;
  const e = <i32>(sexp & 0x7FFF);
  if (e == 0x7FFF || mant == 0 || e >= EXP_BIAS + 63) return mant;
  const neg = (sexp & 0x8000) != 0;
  const shift: i32 = EXP_BIAS + 63 - (e == 0 ? 1 : e);
  const c = cmpHalf(mant, shift);
  let kept: u64 = shift >= 64 ? 0 : mant >> <u64>shift;
  const inc = roundInc(rc, neg, c, (kept & 1) != 0);
  if (inc) kept++;
  if (lostBits) rFlags = F_PE;
  rUp = inc;
  if (kept == 0) {
    rawSexp = sexp & 0x8000;
    return 0;
  }
  const lz = <i32>clz<u64>(kept);
  rawSexp = (sexp & 0x8000) | <u32>(EXP_BIAS + 63 - lz);
  return kept << <u64>lz;
}
