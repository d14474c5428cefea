// x87 FPU state (SDM Vol. 1 §8.1): eight data registers, control/status/tag words and the
// last-instruction pointers. Lives in globals and static data, never in CORE_SCRATCH.
//
// Each physical register holds its 80-bit image: sign|exponent (u16) and the 64-bit significand
// with explicit integer bit. Every instruction works on it bit-exactly.

import { f64ToRaw, rawClassTag, rawSexp } from "./float80";

// Status word bits (SDM Vol. 1 §8.1.3, Figure 8-4).
export const SW_IE: u32 = 0x0001;
export const SW_DE: u32 = 0x0002;
export const SW_ZE: u32 = 0x0004;
export const SW_OE: u32 = 0x0008;
export const SW_UE: u32 = 0x0010;
export const SW_PE: u32 = 0x0020;
export const SW_SF: u32 = 0x0040;
export const SW_ES: u32 = 0x0080;
export const SW_C0: u32 = 0x0100;
export const SW_C1: u32 = 0x0200;
export const SW_C2: u32 = 0x0400;
export const SW_C3: u32 = 0x4000;
export const SW_B: u32 = 0x8000;
export const SW_CC: u32 = SW_C0 | SW_C1 | SW_C2 | SW_C3;

/** Control word as FNSTCW stores it. */
export let fpuCW: u32 = 0x037F;
/** Status word without the TOP field (bits 11–13 kept 0 here). */
export let fpuSW: u32 = 0;
/** Index of the physical register that is ST(0). */
export let fpuTop: u32 = 0;
/** Bit i set = physical register i is empty (tag 11). */
export let fpuEmpty: u32 = 0xFF;
// Last non-control instruction and data pointers (SDM Vol. 1 §8.1.8, §8.1.9).
export let fpuFIP: u32 = 0;
export let fpuFCS: u32 = 0;
export let fpuFOP: u32 = 0;
export let fpuFDP: u32 = 0;
export let fpuFDS: u32 = 0;

const MANT: usize = memory.data(8 * 8, 8); // u64 significand per physical register
const SEXP: usize = memory.data(8 * 2, 2); // u16 sign<<15 | exponent per physical register

// ---- raw register access by physical index -------------------------------------------------

@inline export function physOf(i: u32): u32 {
  return (fpuTop + i) & 7;
}
@inline export function physMant(p: u32): u64 {
  return load<u64>(MANT + (<usize>p << 3));
}
@inline export function physSexp(p: u32): u32 {
  return <u32>load<u16>(SEXP + (<usize>p << 1));
}
@inline export function physEmpty(p: u32): bool {
  return ((fpuEmpty >> p) & 1) != 0;
}

/** Write an 80-bit image into physical register p (tag becomes non-empty). */
export function physSetRaw(p: u32, sexp: u32, mant: u64): void {
  store<u16>(SEXP + (<usize>p << 1), <u16>sexp);
  store<u64>(MANT + (<usize>p << 3), mant);
  fpuEmpty &= ~(<u32>1 << p);
}

/** Write an f64 value into physical register p, exactly (tag becomes non-empty). */
export function physSetVal(p: u32, v: f64): void {
  const m = f64ToRaw(v);
  store<u64>(MANT + (<usize>p << 3), m);
  store<u16>(SEXP + (<usize>p << 1), <u16>rawSexp);
  fpuEmpty &= ~(<u32>1 << p);
}

/** Copy physical register src to dst (FLD ST(i), FST ST(i)). */
export function physCopy(dst: u32, src: u32): void {
  store<u64>(MANT + (<usize>dst << 3), physMant(src));
  store<u16>(SEXP + (<usize>dst << 1), <u16>physSexp(src));
  fpuEmpty &= ~(<u32>1 << dst);
}

// ---- ST(i) helpers --------------------------------------------------------------------------

@inline export function stEmpty(i: u32): bool {
  return physEmpty(physOf(i));
}
@inline export function stSetRaw(i: u32, sexp: u32, mant: u64): void {
  physSetRaw(physOf(i), sexp, mant);
}

/** Pop: tag ST(0) empty and increment TOP. */
export function pop(): void {
  fpuEmpty |= <u32>1 << fpuTop;
  fpuTop = (fpuTop + 1) & 7;
}

/** Decrement TOP for a push; the caller then writes ST(0). */
@inline export function pushTop(): void {
  fpuTop = (fpuTop - 1) & 7;
}

// ---- exceptions (SDM Vol. 1 §8.5) ----------------------------------------------------------

/** Set exception flags; returns true if any of them is unmasked (then ES and B are set and the
 *  caller leaves its destination unchanged for #I/#D/#Z). #MF is raised at the next waiting
 *  instruction (fpuWait / the pending check in fpuExecute), as with CR0.NE=1. */
export function signal(flags: u32): bool {
  fpuSW |= flags;
  if ((flags & ~fpuCW & 0x3F) != 0) {
    fpuSW |= SW_ES | SW_B;
    return true;
  }
  return false;
}

/** ES/B follow the unmasked pending flags after FLDCW/FLDENV/FRSTOR. */
export function recomputeES(): void {
  if ((fpuSW & ~fpuCW & 0x3F) != 0) fpuSW |= SW_ES | SW_B;
  else fpuSW &= ~(SW_ES | SW_B);
}

/** Stack overflow or underflow: #IS with C1 = 1 for overflow, 0 for underflow. Returns true if
 *  unmasked (caller changes nothing else). */
export function stackFault(overflow: bool): bool {
  fpuSW = (fpuSW & ~SW_C1) | (overflow ? SW_C1 : 0);
  return signal(SW_IE | SW_SF);
}

@inline export function setC1(on: bool): void {
  fpuSW = (fpuSW & ~SW_C1) | (on ? SW_C1 : 0);
}

/** Set C3 C2 C1 C0 from a 4-bit value c3<<3 | c2<<2 | c1<<1 | c0. */
export function setCC(c: u32): void {
  fpuSW = (fpuSW & ~SW_CC) | ((c & 1) << 8) | (((c >> 1) & 1) << 9) | (((c >> 2) & 1) << 10) | (((c >> 3) & 1) << 14);
}

/** RC: 0 nearest, 1 down, 2 up, 3 toward zero. PC: 0 single, 2 double, 3 extended. */
@inline export function roundingControl(): u32 {
  return (fpuCW >> 10) & 3;
}
@inline export function precisionControl(): u32 {
  return (fpuCW >> 8) & 3;
}

/** Status word as FNSTSW stores it (TOP in bits 11–13). */
export function statusWord(): u32 {
  return (fpuSW & ~0x3800) | (fpuTop << 11);
}

export function setStatusWord(v: u32): void {
  fpuTop = (v >> 11) & 7;
  fpuSW = v & 0xC7FF;
}

export function setControlWord(v: u32): void {
  // Control word (SDM Vol. 1 §8.1.5): bit 6 reads as 1, bits 13–15 as 0 (native vectors).
  fpuCW = (v & 0x1F3F) | 0x0040;
}

/** Full tag word (SDM Vol. 1 §8.1.7): 00 valid, 01 zero, 10 special, 11 empty. */
export function tagWord(): u32 {
  let tw: u32 = 0;
  for (let p: u32 = 0; p < 8; p++) {
    const t: u32 = physEmpty(p) ? 3 : rawClassTag(physSexp(p), physMant(p));
    tw |= t << (p << 1);
  }
  return tw;
}

/** Load a tag word: only "empty" matters; the other tags are derived from the contents. */
export function setTagWord(tw: u32): void {
  let e: u32 = 0;
  for (let p: u32 = 0; p < 8; p++) if (((tw >> (p << 1)) & 3) == 3) e |= <u32>1 << p;
  fpuEmpty = e;
}

/** FNINIT (SDM Vol. 2 FINIT/FNINIT). Register contents are kept, all tagged empty. */
export function resetState(): void {
  fpuCW = 0x037F;
  fpuSW = 0;
  fpuTop = 0;
  fpuEmpty = 0xFF;
  fpuFIP = 0;
  fpuFCS = 0;
  fpuFOP = 0;
  fpuFDP = 0;
  fpuFDS = 0;
}

export function setLastInstruction(cs: u32, ip: u32, fop: u32): void {
  fpuFCS = cs;
  fpuFIP = ip;
  fpuFOP = fop;
}

export function setLastData(ds: u32, dp: u32): void {
  fpuFDS = ds;
  fpuFDP = dp;
}

/** Set all pointer registers (FLDENV/FRSTOR). */
export function setPointers(fcs: u32, fip: u32, fop: u32, fds: u32, fdp: u32): void {
  fpuFCS = fcs;
  fpuFIP = fip;
  fpuFOP = fop;
  fpuFDS = fds;
  fpuFDP = fdp;
}

/** FNSTENV masks every exception after storing (SDM Vol. 2 FSTENV). */
export function maskAllExceptions(): void {
  fpuCW |= 0x3F;
}

/** FNCLEX (SDM Vol. 2 FCLEX): clear the exception flags, SF, ES and B. */
export function clearExceptions(): void {
  fpuSW &= ~(<u32>0x80FF);
}

@inline export function setTop(t: u32): void {
  fpuTop = t & 7;
}
@inline export function orStatus(bits: u32): void {
  fpuSW |= bits;
}
@inline export function andStatus(mask: u32): void {
  fpuSW &= mask;
}

/** Exchange the contents of physical registers a and b (FXCH); both become non-empty. */
export function physSwap(a: u32, b: u32): void {
  const m = physMant(a);
  const se = physSexp(a);
  physCopy(a, b);
  store<u64>(MANT + (<usize>b << 3), m);
  store<u16>(SEXP + (<usize>b << 1), <u16>se);
  fpuEmpty &= ~(<u32>1 << b);
}

/** Tag physical register p empty (FFREE). */
export function setEmpty(p: u32): void {
  fpuEmpty |= <u32>1 << p;
}

const BLOCKING: u32 = SW_IE | SW_DE | SW_ZE; // unmasked: the destination is left unchanged

/** Set flags; true if the instruction must leave its destination alone (unmasked #I/#D/#Z). */
export function raise(flags: u32): bool {
  const block = (flags & ~fpuCW & BLOCKING) != 0;
  if (flags != 0) signal(flags);
  return block;
}
