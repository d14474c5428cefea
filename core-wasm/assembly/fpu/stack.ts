// Register-stack instructions and helpers (SDM Vol. 1 §8.1.2, §8.5.1.1): push with stack-overflow
// check, the masked stack-underflow response, FLD/FST/FSTP ST(i), FXCH, FFREE(P), FCMOVcc.

import { getEflags } from "../cpu/access";
import {
  fpuTop, physCopy, physEmpty, physOf, physSwap, pop, pushTop,
  setC1, setEmpty, stEmpty, stSetRaw, stackFault,
} from "./state";
import { INDEF_MANT, INDEF_SEXP } from "./float80";

/** If ST(7) is in use a push overflows: #IS with C1 = 1, and the masked response pushes the
 *  indefinite. Returns true if the push must not go on. */
export function pushOverflows(): bool {
  if (physEmpty((fpuTop - 1) & 7)) return false;
  if (stackFault(true)) return true;
  pushTop();
  stSetRaw(0, INDEF_SEXP, INDEF_MANT);
  return true;
}

/** Push an 80-bit image (C1 = 0), or take the stack-overflow response. */
export function pushRaw(sexp: u32, mant: u64): void {
  if (pushOverflows()) return;
  setC1(false);
  pushTop();
  stSetRaw(0, sexp, mant);
}

/** True (after the masked response, writing the indefinite into ST(dst)) if ST(a) or ST(b) is
 *  empty; also true if the underflow is unmasked. */
export function underflow2(a: u32, b: u32, dst: u32): bool {
  if (!stEmpty(a) && !stEmpty(b)) return false;
  if (!stackFault(false)) stSetRaw(dst, INDEF_SEXP, INDEF_MANT);
  return true;
}

/** FCMOVcc (DA/DB C0..DF): condition from EFLAGS CF (bit 0), PF (2), ZF (6). */
export function fcmov(negate: bool, cc: u32, i: u32): void {
  const f = getEflags();
  const cf = (f & 1) != 0;
  const pf = (f & 4) != 0;
  const zf = (f & 0x40) != 0;
  let c = cc == 0 ? cf : cc == 1 ? zf : cc == 2 ? cf || zf : pf;
  if (negate) c = !c;
  setC1(false);
  if (stEmpty(0) || stEmpty(i)) {
    if (!stackFault(false) && c) stSetRaw(0, INDEF_SEXP, INDEF_MANT);
    return;
  }
  if (c) physCopy(physOf(0), physOf(i));
}

/** FXCH ST(i): an empty operand becomes the indefinite under masked #IS. */
export function fxch(i: u32): void {
  if (stEmpty(0) || stEmpty(i)) {
    if (stackFault(false)) return;
    if (stEmpty(0)) stSetRaw(0, INDEF_SEXP, INDEF_MANT);
    if (stEmpty(i)) stSetRaw(i, INDEF_SEXP, INDEF_MANT);
  } else setC1(false);
  physSwap(physOf(0), physOf(i));
}

/** FLD ST(i). */
export function fldReg(i: u32): void {
  if (stEmpty(i)) {
    if (stackFault(false)) return;
    pushRaw(INDEF_SEXP, INDEF_MANT);
    return;
  }
  const p = physOf(i);
  if (pushOverflows()) return;
  setC1(false);
  pushTop();
  physCopy(fpuTop, p);
}

/** FST/FSTP ST(i). */
export function fstReg(i: u32, doPop: bool): void {
  if (stEmpty(0)) {
    if (stackFault(false)) return;
    stSetRaw(i, INDEF_SEXP, INDEF_MANT);
  } else {
    physCopy(physOf(i), physOf(0));
    setC1(false);
  }
  if (doPop) pop();
}

/** FFREE ST(i) (and the FFREEP alias with pop). */
export function ffree(i: u32, doPop: bool): void {
  setEmpty(physOf(i));
  if (doPop) pop();
}
