// Memory operands and the load/store instructions (SDM Vol. 2 FLD, FST/FSTP, FILD, FIST/FISTP,
// FBLD, FBSTP, FLD1/FLDZ/FLDPI…): every operand is read completely before any state changes,
// and stores probe their whole span first.

import {
  faulted, probeWrite, readMem16, readMem32, readMem8, writeMem16, writeMem32, writeMem8,
} from "../cpu/access";
import {
  SW_DE, SW_IE, SW_OE, SW_SF, SW_UE, fpuCW, physMant, physOf, physSexp, pop, raise, roundingControl,
  setC1, signal, stEmpty, stackFault,
} from "./state";
import {
  INDEF_MANT, INDEF_SEXP, QUIET_BIT, f32BitsIsDenormal, f32BitsToRaw, f64BitsIsDenormal, f64ToRaw,
  i64ToRaw, intInvalid, rFlags, rUp, rawIsSNaN, rawSexp, rawToBits, rawToInt,
} from "./float80";
import { pushRaw, pushOverflows } from "./stack";

// A memory operand converted to 80 bits, with #IA (SNaN) and #D (denormal) flags.
export let mSexp: u32 = 0;
export let mMant: u64 = 0;
export let mFlags: u32 = 0;

export const M32REAL: u32 = 0;
export const M32INT: u32 = 1;
export const M64REAL: u32 = 2;
export const M16INT: u32 = 3;
export const M64INT: u32 = 4;
export const M80REAL: u32 = 5;
export const M80BCD: u32 = 6;

/** Read a memory operand of `kind` into mSexp/mMant/mFlags; false if it faulted. */
export function readOperand(kind: u32, seg: u32, ea: u32): bool {
  mFlags = 0;
  if (kind == M32REAL) {
    const b = readMem32(seg, ea);
    if (faulted()) return false;
    mMant = f32BitsToRaw(b);
    mSexp = rawSexp;
    if (f32BitsIsDenormal(b)) mFlags = SW_DE;
  } else if (kind == M64REAL) {
    const lo = readMem32(seg, ea);
    if (faulted()) return false;
    const hi = readMem32(seg, ea + 4);
    if (faulted()) return false;
    const b = (<u64>hi << 32) | <u64>lo;
    mMant = f64BitsToRawExact(b);
    mSexp = rawSexp;
    if (f64BitsIsDenormal(b)) mFlags = SW_DE;
  } else if (kind == M16INT) {
    const v = readMem16(seg, ea);
    if (faulted()) return false;
    mMant = i64ToRaw(<i64><i16>v);
    mSexp = rawSexp;
  } else if (kind == M32INT) {
    const v = readMem32(seg, ea);
    if (faulted()) return false;
    mMant = i64ToRaw(<i64><i32>v);
    mSexp = rawSexp;
  } else if (kind == M64INT) {
    const lo = readMem32(seg, ea);
    if (faulted()) return false;
    const hi = readMem32(seg, ea + 4);
    if (faulted()) return false;
    mMant = i64ToRaw(<i64>((<u64>hi << 32) | <u64>lo));
    mSexp = rawSexp;
  } else if (kind == M80REAL) {
    const lo = readMem32(seg, ea);
    if (faulted()) return false;
    const hi = readMem32(seg, ea + 4);
    if (faulted()) return false;
    const se = readMem16(seg, ea + 8);
    if (faulted()) return false;
    mMant = (<u64>hi << 32) | <u64>lo;
    mSexp = se;
  } else {
    // Packed BCD (FBLD): 18 digits in bytes 0..8, sign in bit 7 of byte 9.
    let v: u64 = 0;
    let b9: u32 = 0;
    for (let i: i32 = 9; i >= 0; i--) {
      const byte = readMem8(seg, ea + <u32>i);
      if (faulted()) return false;
      if (i == 9) b9 = byte;
      else v = v * 100 + <u64>((byte >> 4) * 10 + (byte & 15));
    }
    mMant = i64ToRaw(<i64>v);
    mSexp = rawSexp | (b9 & 0x80 ? 0x8000 : 0);
  }
  if (kind == M32REAL || kind == M64REAL) {
    if (rawIsSNaN(mSexp, mMant)) mFlags |= SW_IE;
  }
  return true;
}

@inline function f64BitsToRawExact(b: u64): u64 {
  return f64ToRaw(reinterpret<f64>(b));
}

/** FST/FSTP to m32 (fmt 0) or m64 (fmt 1). */
export function storeReal(fmt: u32, seg: u32, ea: u32, doPop: bool): void {
  let bits: u64;
  let flags: u32 = 0;
  let up = false;
  if (stEmpty(0)) {
    flags = SW_IE | SW_SF; // #IS
    bits = fmt == 0 ? 0xFFC0_0000 : 0xFFF8_0000_0000_0000;
  } else {
    const p = physOf(0);
    const se = physSexp(p);
    const m = physMant(p);
    bits = rawToBits(se, m, fmt, roundingControl());
    flags = rFlags;
    up = rUp;
    if (rawIsSNaN(se, m)) flags |= SW_IE; // a denormal source raises no #D here (native)
  }
  // Unmasked #I, #O or #U on a store leave memory unchanged (SDM Vol. 1 §4.9.2).
  if ((flags & ~fpuCW & (SW_IE | SW_DE | SW_OE | SW_UE)) != 0) {
    if ((flags & SW_SF) != 0) stackFault(false);
    else signal(flags);
    return;
  }
  if (!probeWrite(seg, ea, fmt == 0 ? 4 : 8)) return;
  if (fmt == 0) writeMem32(seg, ea, <u32>bits);
  else {
    writeMem32(seg, ea, <u32>bits);
    writeMem32(seg, ea + 4, <u32>(bits >> 32));
  }
  if ((flags & SW_SF) != 0) stackFault(false);
  else {
    signal(flags);
    setC1(up);
  }
  if (doPop) pop();
}

/** FIST/FISTP m16/m32/m64 (width 16/32/64) and FBSTP (width 0). */
export function storeInt(width: u32, seg: u32, ea: u32, doPop: bool): void {
  let v: i64 = 0;
  let flags: u32 = 0;
  let up = false;
  let invalid = false;
  let neg = false;
  if (stEmpty(0)) {
    flags = SW_IE | SW_SF;
    invalid = true;
  } else {
    const p = physOf(0);
    neg = (physSexp(p) & 0x8000) != 0;
    v = rawToInt(physSexp(p), physMant(p), width, roundingControl());
    invalid = intInvalid;
    flags = invalid ? SW_IE : rFlags;
    up = rUp;
  }
  if (invalid && (fpuCW & SW_IE) == 0) {
    if ((flags & SW_SF) != 0) stackFault(false);
    else signal(flags);
    return;
  }
  const len: u32 = width == 0 ? 10 : width >> 3;
  if (!probeWrite(seg, ea, len)) return;
  if (width == 16) writeMem16(seg, ea, invalid ? 0x8000 : <u32>v & 0xFFFF);
  else if (width == 32) writeMem32(seg, ea, invalid ? 0x8000_0000 : <u32>v);
  else if (width == 64) {
    const u: u64 = invalid ? 0x8000_0000_0000_0000 : <u64>v;
    writeMem32(seg, ea, <u32>u);
    writeMem32(seg, ea + 4, <u32>(u >> 32));
  } else {
    // Packed BCD; the BCD indefinite is FFFF C000 0000 0000 0000.
    if (invalid) {
      for (let k: u32 = 0; k < 7; k++) writeMem8(seg, ea + k, 0);
      writeMem8(seg, ea + 7, 0xC0);
      writeMem8(seg, ea + 8, 0xFF);
      writeMem8(seg, ea + 9, 0xFF);
    } else {
      let mag: u64 = <u64>(v < 0 ? -v : v);
      for (let k: u32 = 0; k < 9; k++) {
        const lo = <u32>(mag % 10);
        mag /= 10;
        const hi = <u32>(mag % 10);
        mag /= 10;
        writeMem8(seg, ea + k, (hi << 4) | lo);
      }
      writeMem8(seg, ea + 9, neg ? 0x80 : 0);
    }
  }
  if ((flags & SW_SF) != 0) stackFault(false);
  else {
    signal(flags);
    setC1(up);
  }
  if (doPop) pop();
}

/** FLD from memory (m32/m64/m80/integers/BCD): convert, then push. */
export function loadMem(kind: u32, seg: u32, ea: u32): void {
  if (!readOperand(kind, seg, ea)) return;
  if (pushOverflows()) return;
  if (raise(mFlags)) return;
  let m = mMant;
  if ((mFlags & SW_IE) != 0) m |= QUIET_BIT; // SNaN → QNaN for m32/m64
  pushRaw(mSexp, m);
}

/** FSTP m80: the register's 80-bit image as is. */
export function storeExt(seg: u32, ea: u32): void {
  let se: u32 = INDEF_SEXP;
  let m: u64 = INDEF_MANT;
  const empty = stEmpty(0);
  if (empty && (fpuCW & SW_IE) == 0) {
    stackFault(false);
    return;
  }
  if (!empty) {
    const p = physOf(0);
    se = physSexp(p);
    m = physMant(p);
  }
  if (!probeWrite(seg, ea, 10)) return;
  writeMem32(seg, ea, <u32>m);
  writeMem32(seg, ea + 4, <u32>(m >> 32));
  writeMem16(seg, ea + 8, se);
  if (empty) stackFault(false);
  else setC1(false);
  pop();
}

// Constants (SDM Vol. 1 §8.3.5): truncated 64-bit significands and whether the next bit is 1;
// rounded under RC like the 66-bit internal constants of the x87.
const K_MANT: usize = memory.data<u64>([
  0x8000_0000_0000_0000, // 1
  0xD49A_784B_CD1B_8AFE, // log2(10)
  0xB8AA_3B29_5C17_F0BB, // log2(e)
  0xC90F_DAA2_2168_C234, // π
  0x9A20_9A84_FBCF_F798, // log10(2)
  0xB172_17F7_D1CF_79AB, // ln(2)
]);
const K_EXP: usize = memory.data<u16>([0x3FFF, 0x4000, 0x3FFF, 0x4000, 0x3FFD, 0x3FFE]);
const K_HALF: usize = memory.data<u8>([0, 0, 1, 1, 1, 1]); // the discarded part is ≥ ½ ulp
const K_INEXACT: usize = memory.data<u8>([0, 1, 1, 1, 1, 1]);

export function loadConst(k: u32): void {
  let m = load<u64>(K_MANT + (<usize>k << 3));
  const rc = roundingControl();
  const inexact = load<u8>(K_INEXACT + k) != 0;
  if (inexact && ((rc == 0 && load<u8>(K_HALF + k) != 0) || rc == 2)) m++;
  pushRaw(<u32>load<u16>(K_EXP + (<usize>k << 1)), m);
}
