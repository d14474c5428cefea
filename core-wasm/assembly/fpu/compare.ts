// Ordered comparison of two 80-bit images (FCOM, FUCOM, FCOMI, FUCOMI, FICOM, FTST), exact
// for every finite value (SDM Vol. 2 FCOM/FCOMP/FCOMPP, FUCOM, FCOMI). Flags go to cFlags.

import { rawIsNaN, rawIsSNaN, rawIsUnsupported, rawIsDenormal } from "./float80";

export const CMP_GT: u32 = 0;
export const CMP_LT: u32 = 1;
export const CMP_EQ: u32 = 2;
export const CMP_UN: u32 = 3;

export let cFlags: u32 = 0;

/** C3 C2 C0 for each result, as setCC bit layout (C3=8, C2=4, C0=1). */
export function cmpToCC(r: u32): u32 {
  if (r == CMP_GT) return 0;
  if (r == CMP_LT) return 0b0001;
  if (r == CMP_EQ) return 0b1000;
  return 0b1101;
}

/** Compare a with b. `quietOK` (FUCOM*) makes only SNaNs and unsupported encodings invalid;
 *  FCOM* treats every NaN as invalid. */
export function compareRaw(sa: u32, ma: u64, sb: u32, mb: u64, quietOK: bool): u32 {
  cFlags = 0;
  const ua = rawIsUnsupported(sa, ma);
  const ub = rawIsUnsupported(sb, mb);
  const na = rawIsNaN(sa, ma);
  const nb = rawIsNaN(sb, mb);
  if (ua || ub || na || nb) {
    if (ua || ub || !quietOK || rawIsSNaN(sa, ma) || rawIsSNaN(sb, mb)) cFlags = 0x01;
    return CMP_UN;
  }
  if (rawIsDenormal(sa, ma) || rawIsDenormal(sb, mb)) cFlags = 0x02;
  const za = ma == 0;
  const zb = mb == 0;
  if (za && zb) return CMP_EQ;
  const nega = (sa & 0x8000) != 0 && !za;
  const negb = (sb & 0x8000) != 0 && !zb;
  if (nega != negb) return nega ? CMP_LT : CMP_GT;
  // Same sign: compare magnitudes as (effective exponent, significand); denormals and
  // pseudo-denormals use exponent 1, zero sorts lowest.
  let ea = <i32>(sa & 0x7FFF);
  let eb = <i32>(sb & 0x7FFF);
  if (ea == 0) ea = za ? -1 : 1;
  if (eb == 0) eb = zb ? -1 : 1;
  let mag: i32 = 0;
  if (ea != eb) mag = ea > eb ? 1 : -1;
  else if (ma != mb) mag = ma > mb ? 1 : -1;
  if (mag == 0) return CMP_EQ;
  if (nega) mag = -mag;
  return mag > 0 ? CMP_GT : CMP_LT;
}
