// The arithmetic and comparison instruction groups (D8/DA/DC/DE, FCOM*/FUCOM*/FCOMI*): operand
// selection, stack-underflow responses and where results go; the numerics are in arith.ts and
// compare.ts.

import { raiseException, setFlagsZPC } from "../cpu/access";
import {
  SW_DE, SW_IE, fpuCW, physMant, physOf, physSexp, pop, precisionControl, raise, roundingControl,
  setC1, setCC, stEmpty, stSetRaw, stackFault,
} from "./state";
import { INDEF_MANT, INDEF_SEXP, rawIsNaN } from "./float80";
import { arith, opFlags, opUp, resSexp, resMant } from "./arith";
import { CMP_EQ, CMP_LT, cFlags, cmpToCC, compareRaw } from "./compare";
import { underflow2 } from "./stack";
import { mFlags, mMant, mSexp, readOperand } from "./memops";

/** A memory operand's #D flag (`extra`), unless an operand is a NaN: a NaN operand takes
 *  precedence over a denormal one (SDM Vol. 1 §8.7; the host raises no #D then). */
@inline function nanFirst(sx: u32, mx: u64, sy: u32, my: u64, extra: u32): u32 {
  return rawIsNaN(sx, mx) || rawIsNaN(sy, my) ? extra & ~SW_DE : extra;
}

/** ST(dst) ← x op y on 80-bit images, then pop if asked (FADD/FSUB/…/FDIVRP). */
function arithTo(dst: u32, op: u32, sx: u32, mx: u64, sy: u32, my: u64, extra: u32, doPop: bool): void {
  arith(op, sx, mx, sy, my, roundingControl(), precisionControl());
  if (raise(opFlags | nanFirst(sx, mx, sy, my, extra))) return;
  stSetRaw(dst, resSexp, resMant);
  setC1(opUp);
  if (doPop) pop();
}

/** D8/DC/DA/DE with a memory operand: ST(0) ← ST(0) op mem; FCOM/FCOMP/FICOM/FICOMP. */
export function arithMem(kind: u32, reg: u32, seg: u32, ea: u32): void {
  if (!readOperand(kind, seg, ea)) return;
  if (reg == 2 || reg == 3) {
    compareST0(mSexp, mMant, mFlags, false, reg == 3);
    return;
  }
  if (stEmpty(0)) {
    if (!stackFault(false)) stSetRaw(0, INDEF_SEXP, INDEF_MANT);
    return;
  }
  const p = physOf(0);
  arithTo(0, reg, physSexp(p), physMant(p), mSexp, mMant, mFlags, false);
}

/** D8 register forms: ST(0) ← ST(0) op ST(i). */
export function arithD8(reg: u32, i: u32): void {
  if (reg == 2 || reg == 3) {
    compareST(i, false, reg == 3 ? 1 : 0);
    return;
  }
  if (underflow2(0, i, 0)) return;
  const a = physOf(0);
  const b = physOf(i);
  arithTo(0, reg, physSexp(a), physMant(a), physSexp(b), physMant(b), 0, false);
}

/** DC/DE register forms: ST(i) ← ST(i) op ST(0), with SUB/SUBR and DIV/DIVR swapped in the
 *  encoding (DC E0+i is FSUBR ST(i),ST(0)); DE pops. */
export function arithDC(reg: u32, i: u32, doPop: bool): void {
  if (reg == 2 || reg == 3) {
    // DC D0/D8 and DE D0 are aliases of FCOM/FCOMP; DE D9 is FCOMPP.
    if (doPop && reg == 3) {
      if (i != 1) { raiseException(6, -1); return; }
      compareST(1, false, 2);
      return;
    }
    compareST(i, false, doPop || reg == 3 ? 1 : 0);
    return;
  }
  let op = reg;
  if (reg >= 4) op = reg ^ 1; // 4↔5, 6↔7
  if (underflow2(0, i, i)) {
    if (doPop && (fpuCW & SW_IE) != 0) pop();
    return;
  }
  const a = physOf(i);
  const b = physOf(0);
  arithTo(i, op, physSexp(a), physMant(a), physSexp(b), physMant(b), 0, doPop);
}

/** Compare ST(0) with an 80-bit operand; pops `pops` times (FCOM/FCOMP with memory). */
export function compareST0(sb: u32, mb: u64, extra: u32, quietOK: bool, doPop: bool): void {
  if (stEmpty(0)) {
    if (stackFault(false)) return;
    setCC(0b1101);
    if (doPop) pop();
    return;
  }
  const p = physOf(0);
  const r = compareRaw(physSexp(p), physMant(p), sb, mb, quietOK);
  if (raise(cFlags | nanFirst(physSexp(p), physMant(p), sb, mb, extra))) return;
  setCC(cmpToCC(r));
  if (doPop) pop();
}

/** FCOM/FUCOM family with ST(i): compare ST(0) with ST(i), pop `pops` times. */
export function compareST(i: u32, quietOK: bool, pops: u32): void {
  if (stEmpty(0) || stEmpty(i)) {
    if (stackFault(false)) return;
    setCC(0b1101);
  } else {
    const a = physOf(0);
    const b = physOf(i);
    const r = compareRaw(physSexp(a), physMant(a), physSexp(b), physMant(b), quietOK);
    if (raise(cFlags)) return;
    setCC(cmpToCC(r));
  }
  for (let k: u32 = 0; k < pops; k++) pop();
}

/** FCOMI/FUCOMI(P): compare into EFLAGS ZF, PF, CF (OF, SF, AF cleared by the CPU side). */
export function compareI(i: u32, quietOK: bool, doPop: bool): void {
  setC1(false);
  if (stEmpty(0) || stEmpty(i)) {
    if (stackFault(false)) return;
    setFlagsZPC(true, true, true);
  } else {
    const a = physOf(0);
    const b = physOf(i);
    const r = compareRaw(physSexp(a), physMant(a), physSexp(b), physMant(b), quietOK);
    if (raise(cFlags)) return;
    setFlagsZPC(r == CMP_EQ || r > CMP_EQ, r > CMP_EQ, r == CMP_LT || r > CMP_EQ);
  }
  if (doPop) pop();
}
