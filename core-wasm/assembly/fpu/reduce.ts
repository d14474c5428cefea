// Argument reduction for FSIN/FCOS/FSINCOS/FPTAN: x = k·(P/2) + r with k = round(x/(P/2)),
// |r| ≤ P/4, where P is the processor's π. Done as Payne–Hanek: the 64-bit significand times
// the bits of 2/P (448 of them: enough for every |x| < 2^63 to leave ≥ 120 good bits of the
// fraction, even where x is within 2^-70 of a multiple of P/2), the product's bits at the binary
// point give k mod 4 and the fraction f = x/(P/2) − k; then r = f·(P/2) in double-double.

import { ddMul } from "./dd";

// The processor's π: 66 bits, 0xC90FDAA2_2168C234_C · 2^-66 (Intel SDM Vol. 1, "Transcendental
// Instruction Accuracy"). This host reduces by it too: with it 98% of FSIN results on random
// arguments up to 2^63 match the host bit for bit, with the exact π about half
// (tests/core-wasm/x87-measure.ts). INV holds 448 fraction bits of 2/P (its integer part is
// 0), most significant limb first; P/2 is HALF_PI_H + HALF_PI66_L exactly.
const INV: usize = memory.data<u32>([
  0xA2F9836E, 0x4E44152A, 0x00062BC4, 0x0DA276BE, 0xD4C1FDF9, 0x055CD5BA, 0x767CEC1F,
  0x80D6C260, 0x533A0070, 0x107C2AF6, 0x8EE9687B, 0x7AB990AA, 0x38DE4B96, 0xCFF39273,
]);
const HALF_PI_H: f64 = 1.5707963267948966;
const HALF_PI66_L: f64 = 6.123031769111886e-17;
const LIMBS: i32 = 14;

const PROD: usize = memory.data(16 * 4, 8); // the 512-bit product, least significant limb first

/** k mod 4 of the last reduction. */
export let redQ: u32 = 0;

@inline function limb(i: i32): u64 {
  return i < 0 || i >= 16 ? 0 : <u64>load<u32>(PROD + (<usize>i << 2));
}

/** Bits [pos, pos + 64) of the product. */
function bits64(pos: i32): u64 {
  const w = pos >> 5; // arithmetic shift: negative positions read zeros
  const off = <u64>(pos & 31);
  const lo = limb(w) | (limb(w + 1) << 32);
  const v = lo >> off;
  return off == 0 ? v : v | (limb(w + 2) << (64 - off));
}

/** Reduce x = m · 2^(e − 63) (m normalised, −1 ≤ e ≤ 62, x ≥ 0): r in ddH/ddL, k mod 4 in redQ. */
export function reduce(m: u64, e: i32): void {
  const tab = INV;
  for (let i = 0; i < 16; i++) store<u32>(PROD + (<usize>i << 2), 0);
  for (let j = 0; j < 2; j++) {
    const mj: u64 = j == 0 ? m & 0xFFFF_FFFF : m >> 32;
    let carry: u64 = 0;
    for (let i = 0; i < LIMBS; i++) {
      const c = <u64>load<u32>(tab + (<usize>(LIMBS - 1 - i) << 2));
      const at = PROD + (<usize>(i + j) << 2);
      const t = <u64>load<u32>(at) + c * mj + carry;
      store<u32>(at, <u32>t);
      carry = t >> 32;
    }
    for (let k = LIMBS + j; carry != 0 && k < 16; k++) {
      const at = PROD + (<usize>k << 2);
      const t = <u64>load<u32>(at) + carry;
      store<u32>(at, <u32>t);
      carry = t >> 32;
    }
  }
  // x·(2/P) = product · 2^(e − 63 − 448): the binary point is at bit bp.
  const bp = 448 - (e - 63);
  let q = <u32>(bits64(bp) & 3);
  let f1 = bits64(bp - 64);
  let f2 = bits64(bp - 128);
  let f3 = bits64(bp - 192);
  let neg = false;
  if ((f1 >> 63) != 0) {
    // f ≥ 1/2: round k up, r = −(1 − f)·P/2 (two's complement of the 192-bit fraction).
    q = (q + 1) & 3;
    neg = true;
    f3 = ~f3 + 1;
    const c2: u64 = f3 == 0 ? 1 : 0;
    f2 = ~f2 + c2;
    const c1: u64 = c2 != 0 && f2 == 0 ? 1 : 0;
    f1 = ~f1 + c1;
  }
  redQ = q;
  let sh: i32 = 0;
  for (let i = 0; i < 2 && f1 == 0; i++) {
    f1 = f2;
    f2 = f3;
    f3 = 0;
    sh += 64;
  }
  const lz = <i32>clz<u64>(f1);
  if (lz != 0 && lz != 64) {
    const l = <u64>lz;
    f1 = (f1 << l) | (f2 >> (64 - l));
    f2 = (f2 << l) | (f3 >> (64 - l));
    f3 <<= l;
  }
  sh += lz;
  // f = the normalised 192 bits · 2^(−192 − sh), as three exact 53-bit pieces.
  const a = <f64>(f1 >> 11);
  const b = <f64>(((f1 & 0x7FF) << 42) | (f2 >> 22));
  const c = <f64>(((f2 & 0x3F_FFFF) << 31) | (f3 >> 33));
  const fh = a * pow2(-53 - sh);
  const fl = b * pow2(-106 - sh) + c * pow2(-159 - sh);
  ddMul(neg ? -fh : fh, neg ? -fl : fl, HALF_PI_H, HALF_PI66_L);
}

@inline function pow2(n: i32): f64 {
  return reinterpret<f64>(<u64>(n + 1023) << 52);
}
