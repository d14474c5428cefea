// D9 E0..FF: constants and one-operand instructions, plus FPREM/FPREM1, FSCALE, FXTRACT, the
// transcendentals (SDM Vol. 2 Table A-10).

import { raiseException } from "../cpu/access";
import {
  SW_C2, SW_DE, SW_IE, SW_ZE, fpuCW, fpuTop, physEmpty, physMant, physOf, physSetRaw, physSetVal,
  physSexp, pop, precisionControl, pushTop, raise, roundingControl, setC1, setCC, setTop,
  stEmpty, stSetRaw, stackFault, andStatus, orStatus,
} from "./state";
import {
  EXP_BIAS, INDEF_MANT, INDEF_SEXP, INT_BIT, QUIET_BIT, rawFxamClass, rawIsNaN, rawIsSNaN,
  rawIsUnsupported, rawRoundToInt, rawSexp, rFlags, rUp, rawToInt, intInvalid,
} from "./float80";
import { opFlags, opUp, sqrt, resSexp, resMant } from "./arith";
import {
  TRIG_COS, TRIG_SIN, TRIG_SINCOS, TRIG_TAN, f2xm1, fpatan, fyl2x, fyl2xp1, t2Mant, t2Sexp,
  tFlags, tMant, tSexp, tUp, trig, trigInRange,
} from "./transcend";
import { fscale, fsFlags, fsMant, fsSexp, fsUp } from "./fscale";
import { fprem, fpSexp, fpMant, fpFlags, fpCC } from "./fprem";
import { pushRaw, underflow2 } from "./stack";
import { loadConst } from "./memops";
import { compareST0 } from "./arithops";

/** D9 E0..FF: constants and one-operand instructions. */
export function groupD9(modrm: u32): void {
  switch (modrm) {
    case 0xE0: // FCHS
    case 0xE1: { // FABS
      if (stEmpty(0)) { if (!stackFault(false)) stSetRaw(0, INDEF_SEXP, INDEF_MANT); return; }
      const p = physOf(0);
      const se = modrm == 0xE0 ? physSexp(p) ^ 0x8000 : physSexp(p) & 0x7FFF;
      physSetRaw(p, se, physMant(p));
      setC1(false);
      return;
    }
    case 0xE4: { // FTST
      compareST0(0, 0, 0, false, false);
      return;
    }
    case 0xE5: { // FXAM
      const p = physOf(0);
      const sign = (physSexp(p) & 0x8000) != 0;
      const c = physEmpty(p) ? 0b101 : rawFxamClass(physSexp(p), physMant(p));
      // c is C3 C2 C0; setCC wants C3 C2 C1 C0.
      setCC(((c & 0b110) << 1) | (c & 1) | (sign ? 0b10 : 0));
      return;
    }
    case 0xE8: case 0xE9: case 0xEA: case 0xEB: case 0xEC: case 0xED:
      loadConst(modrm - 0xE8);
      return;
    case 0xEE: // FLDZ
      pushRaw(0, 0);
      return;
    case 0xF0: unary(0); return; // F2XM1
    case 0xF1: binaryPop(0); return; // FYL2X
    case 0xF2: pushing(0); return; // FPTAN
    case 0xF3: binaryPop(1); return; // FPATAN
    case 0xF4: pushing(1); return; // FXTRACT
    case 0xF5: remainder(true); return; // FPREM1
    case 0xF6: // FDECSTP
      // TOP moves, tags and contents stay (SDM Vol. 2 FDECSTP).
      setTop((fpuTop - 1) & 7);
      setC1(false);
      return;
    case 0xF7: // FINCSTP
      setTop((fpuTop + 1) & 7);
      setC1(false);
      return;
    case 0xF8: remainder(false); return; // FPREM
    case 0xF9: binaryPop(2); return; // FYL2XP1
    case 0xFA: unary(1); return; // FSQRT
    case 0xFB: pushing(2); return; // FSINCOS
    case 0xFC: unary(2); return; // FRNDINT
    case 0xFD: fscaleOp(); return; // FSCALE
    case 0xFE: unary(3); return; // FSIN
    case 0xFF: unary(4); return; // FCOS
  }
  raiseException(6, -1);
}

/** F2XM1 (0), FSQRT (1), FRNDINT (2), FSIN (3), FCOS (4) on ST(0). */
function unary(k: u32): void {
  if (stEmpty(0)) {
    if (!stackFault(false)) stSetRaw(0, INDEF_SEXP, INDEF_MANT);
    return;
  }
  if (k == 1) {
    const p = physOf(0);
    sqrt(physSexp(p), physMant(p), roundingControl(), precisionControl());
    if (raise(opFlags)) return;
    stSetRaw(0, resSexp, resMant);
    setC1(opUp);
    return;
  }
  if (k == 2) {
    frndint();
    return;
  }
  const p = physOf(0);
  const se = physSexp(p);
  const m = physMant(p);
  if (k == 0) f2xm1(se, m, roundingControl());
  else {
    if (!trigInRange(se, m)) {
      orStatus(SW_C2);
      return;
    }
    trig(se, m, k == 3 ? TRIG_SIN : TRIG_COS, roundingControl());
    andStatus(~SW_C2);
  }
  if (raise(tFlags)) return;
  physSetRaw(p, tSexp, tMant);
  setC1(tUp);
}

/** FRNDINT on the 80-bit image, exactly (SDM Vol. 2 FRNDINT). */
function frndint(): void {
  const p = physOf(0);
  const se = physSexp(p);
  const m = physMant(p);
  if (rawIsNaN(se, m) || rawIsUnsupported(se, m)) {
    const bad = rawIsSNaN(se, m) || rawIsUnsupported(se, m);
    if (bad && raise(SW_IE)) return;
    if (rawIsUnsupported(se, m)) physSetRaw(p, INDEF_SEXP, INDEF_MANT);
    else physSetRaw(p, se, m | QUIET_BIT);
    return;
  }
  const r = rawRoundToInt(se, m, roundingControl());
  const rs = rawSexp;
  const flags = rFlags;
  const up = rUp;
  if (raise(flags)) return;
  physSetRaw(p, rs, r);
  setC1(up);
}

/** FSCALE: ST(0) · 2^trunc(ST(1)) on the 80-bit images (fscale.ts). */
function fscaleOp(): void {
  if (underflow2(0, 1, 0)) return;
  const p = physOf(0);
  const q = physOf(1);
  fscale(physSexp(p), physMant(p), physSexp(q), physMant(q), roundingControl());
  if (raise(fsFlags)) return;
  physSetRaw(p, fsSexp, fsMant);
  setC1(fsUp);
}

/** FYL2X (0), FPATAN (1), FYL2XP1 (2): ST(1) ← f(ST(0), ST(1)), pop. */
function binaryPop(k: u32): void {
  if (underflow2(0, 1, 1)) {
    if ((fpuCW & SW_IE) != 0) pop();
    return;
  }
  const p = physOf(0);
  const q = physOf(1);
  const rc = roundingControl();
  if (k == 1) fpatan(physSexp(p), physMant(p), physSexp(q), physMant(q), rc);
  else if (k == 0) fyl2x(physSexp(p), physMant(p), physSexp(q), physMant(q), rc);
  else fyl2xp1(physSexp(p), physMant(p), physSexp(q), physMant(q), rc);
  if (raise(tFlags)) return;
  physSetRaw(q, tSexp, tMant);
  setC1(tUp);
  pop();
}

/** FPTAN (0), FXTRACT (1), FSINCOS (2): replace ST(0) and push a second result. */
function pushing(k: u32): void {
  if (stEmpty(0) || !physEmpty((fpuTop - 1) & 7)) {
    const over = !stEmpty(0);
    if (stackFault(over)) return;
    stSetRaw(0, INDEF_SEXP, INDEF_MANT);
    pushTop();
    stSetRaw(0, INDEF_SEXP, INDEF_MANT);
    return;
  }
  const p = physOf(0);
  if (k == 1) {
    fxtract(p);
    return;
  }
  const se = physSexp(p);
  const m = physMant(p);
  if (!trigInRange(se, m)) {
    orStatus(SW_C2);
    return;
  }
  trig(se, m, k == 0 ? TRIG_TAN : TRIG_SINCOS, roundingControl());
  if (raise(tFlags)) return;
  andStatus(~SW_C2);
  setC1(tUp);
  physSetRaw(p, tSexp, tMant);
  pushTop();
  stSetRaw(0, t2Sexp, t2Mant);
}

/** FXTRACT: ST(0) ← exponent, push significand (SDM Vol. 2 FXTRACT). */
function fxtract(p: u32): void {
  const se = physSexp(p);
  const m = physMant(p);
  const sign = se & 0x8000;
  if (rawIsNaN(se, m) || rawIsUnsupported(se, m)) {
    let qm = m | QUIET_BIT;
    let qs = se;
    const snan = rawIsSNaN(se, m) || rawIsUnsupported(se, m);
    if (rawIsUnsupported(se, m)) { qs = INDEF_SEXP; qm = INDEF_MANT; }
    if (snan && raise(SW_IE)) return;
    physSetRaw(p, qs, qm);
    pushTop();
    stSetRaw(0, qs, qm);
    return;
  }
  if (m == 0) {
    if (raise(SW_ZE)) return;
    physSetVal(p, -Infinity);
    pushTop();
    stSetRaw(0, sign, 0);
    return;
  }
  if ((se & 0x7FFF) == 0x7FFF) {
    physSetVal(p, Infinity);
    pushTop();
    stSetRaw(0, se, m);
    return;
  }
  const lz = <i32>clz<u64>(m);
  const e = <i32>(se & 0x7FFF);
  const exp = (e == 0 ? 1 : e) - EXP_BIAS - lz;
  if (e == 0 && raise(SW_DE)) return;
  physSetVal(p, <f64>exp);
  pushTop();
  stSetRaw(0, sign | <u32>EXP_BIAS, m << <u64>lz);
  setC1(false);
}

/** FPREM / FPREM1 (fprem.ts). */
function remainder(ieee: bool): void {
  if (underflow2(0, 1, 0)) return;
  const a = physOf(0);
  const b = physOf(1);
  fprem(physSexp(a), physMant(a), physSexp(b), physMant(b), ieee);
  if (raise(fpFlags)) return;
  physSetRaw(a, fpSexp, fpMant);
  if ((fpFlags & SW_IE) == 0) setCC(fpCC);
}
