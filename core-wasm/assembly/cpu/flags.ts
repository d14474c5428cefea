// Lazy arithmetic flags (SDM Vol. 1 §3.4.3.1, Appendix A): the last ALU op keeps its kind,
// operands and result; CF PF AF ZF SF OF are computed only when something reads them.
// `flags` holds every other EFLAGS bit, and the arithmetic bits too when lfOp() == LF_NONE.
import { F_CF, F_PF, F_AF, F_ZF, F_SF, F_OF, F_ARITH, snapshot } from "./state";
import { LF_OP_AT, LF_A_AT, LF_B_AT, LF_RES_AT, LF_SIGN_AT, LF_CIN_AT } from "./scratch";

export const LF_NONE: u32 = 0, LF_ADD: u32 = 1, LF_ADC: u32 = 2, LF_SUB: u32 = 3, LF_SBB: u32 = 4;
export const LF_LOGIC: u32 = 5, LF_INC: u32 = 6, LF_DEC: u32 = 7;

export let flags: u32 = 2;
// The last ALU op, in linear memory (scratch.ts LAZY_BASE says why): its kind (LF_*), first
// and second operand and result masked to size, the sign bit of the size, ADC/SBB's carry-in.
@inline export function lfOp(): u32 { return load<u32>(LF_OP_AT); }
@inline export function lfA(): u32 { return load<u32>(LF_A_AT); }
@inline export function lfB(): u32 { return load<u32>(LF_B_AT); }
@inline export function lfRes(): u32 { return load<u32>(LF_RES_AT); }
@inline export function lfSign(): u32 { return load<u32>(LF_SIGN_AT); }
@inline export function lfCin(): u32 { return load<u32>(LF_CIN_AT); }
@inline export function setLfOp(v: u32): void { store<u32>(LF_OP_AT, v); }
@inline export function setLfCin(v: u32): void { store<u32>(LF_CIN_AT, v); }

@inline export function sizeMask(sz: u32): u32 { return sz == 4 ? 0xFFFF_FFFF : (1 << (sz << 3)) - 1; }
@inline export function sizeSign(sz: u32): u32 { return 1 << ((sz << 3) - 1); }

@inline export function setLazy(op: u32, sz: u32, a: u32, b: u32, res: u32): void {
  setLfOp(op); store<u32>(LF_SIGN_AT, sizeSign(sz));
  store<u32>(LF_A_AT, a); store<u32>(LF_B_AT, b); store<u32>(LF_RES_AT, res & sizeMask(sz));
}

export function getCF(): bool {
  switch (lfOp()) {
    case LF_ADD: return lfRes() < lfA();
    case LF_ADC: return lfCin() != 0 ? lfRes() <= lfA() : lfRes() < lfA();
    case LF_SUB: return lfA() < lfB();
    case LF_SBB: return lfCin() != 0 ? lfA() <= lfB() : lfA() < lfB();
    case LF_LOGIC: return false;
    default: return (flags & F_CF) != 0;
  }
}
export function getOF(): bool {
  switch (lfOp()) {
    case LF_ADD: case LF_ADC: case LF_INC: return ((lfA() ^ lfRes()) & (lfB() ^ lfRes()) & lfSign()) != 0;
    case LF_SUB: case LF_SBB: case LF_DEC: return ((lfA() ^ lfB()) & (lfA() ^ lfRes()) & lfSign()) != 0;
    case LF_LOGIC: return false;
    default: return (flags & F_OF) != 0;
  }
}
@inline export function getZF(): bool { return lfOp() == LF_NONE ? (flags & F_ZF) != 0 : lfRes() == 0; }
@inline export function getSF(): bool { return lfOp() == LF_NONE ? (flags & F_SF) != 0 : (lfRes() & lfSign()) != 0; }
@inline export function getPF(): bool {
  return lfOp() == LF_NONE ? (flags & F_PF) != 0 : (popcnt<u32>(lfRes() & 0xFF) & 1) == 0;
}
export function getAF(): bool {
  if (lfOp() == LF_NONE) return (flags & F_AF) != 0;
  if (lfOp() == LF_LOGIC) return false;
  return ((lfA() ^ lfB() ^ lfRes()) & 0x10) != 0;
}

/** EFLAGS with the arithmetic bits materialized. */
export function getFlags(): u32 {
  if (lfOp() == LF_NONE) return flags;
  let f = flags & ~F_ARITH;
  if (getCF()) f |= F_CF;
  if (getPF()) f |= F_PF;
  if (getAF()) f |= F_AF;
  if (lfRes() == 0) f |= F_ZF;
  if (lfRes() & lfSign()) f |= F_SF;
  if (getOF()) f |= F_OF;
  return f;
}
/** Fold the lazy state into `flags` so individual bits can be edited. */
export function materialize(): void {
  if (lfOp() != LF_NONE) { flags = getFlags(); setLfOp(LF_NONE); }
}
/** Load EFLAGS wholesale (bit 1 always reads 1; bits 3, 5, 15 always 0). */
export function setFlagsRaw(v: u32): void {
  flags = (v & 0x003F_7FD5) | 2;
  setLfOp(LF_NONE);
}
/** Replace the arithmetic bits with `arith`, leaving the others. */
@inline export function setArith(arith: u32): void {
  if (lfOp() != LF_NONE) setLfOp(LF_NONE);
  flags = (flags & ~F_ARITH) | (arith & F_ARITH);
}
/** SF ZF PF of `res` at size sz, as an arithmetic-bit set. */
@inline export function szp(sz: u32, res: u32): u32 {
  res &= sizeMask(sz);
  let f: u32 = 0;
  if (res == 0) f |= F_ZF;
  if (res & sizeSign(sz)) f |= F_SF;
  if ((popcnt<u32>(res & 0xFF) & 1) == 0) f |= F_PF;
  return f;
}
@inline export function setCFbit(v: bool): void {
  materialize();
  flags = v ? flags | F_CF : flags & ~F_CF;
}

/** Condition code cc (low 4 bits of Jcc/SETcc/CMOVcc), SDM Vol. 1 Appendix B. */
export function cond(cc: u32): bool {
  // Fast path after CMP/SUB: compare the saved operands directly.
  if (lfOp() == LF_SUB) {
    const a = lfA(), b = lfB(), s = 31 - ctz<u32>(lfSign());
    switch (cc) {
      case 2: return a < b;
      case 3: return a >= b;
      case 4: return a == b;
      case 5: return a != b;
      case 6: return a <= b;
      case 7: return a > b;
      case 0xC: return <i32>(a << s) < <i32>(b << s);
      case 0xD: return <i32>(a << s) >= <i32>(b << s);
      case 0xE: return <i32>(a << s) <= <i32>(b << s);
      case 0xF: return <i32>(a << s) > <i32>(b << s);
      default: break;
    }
  }
  let r: bool;
  switch (cc >> 1) {
    case 0: r = getOF(); break;
    case 1: r = getCF(); break;
    case 2: r = getZF(); break;
    case 3: r = getCF() || getZF(); break;
    case 4: r = getSF(); break;
    case 5: r = getPF(); break;
    case 6: r = getSF() != getOF(); break;
    default: r = getZF() || getSF() != getOF(); break;
  }
  return (cc & 1) != 0 ? !r : r;
}

// Copy of the flag state at the instruction boundary, restored if the instruction faults.
let sFlags: u32 = 2, sOp: u32 = 0, sA: u32 = 0, sB: u32 = 0, sRes: u32 = 0, sSign: u32 = 0, sCin: u32 = 0;
@inline export function saveFlags(): void {
  sFlags = flags; sOp = lfOp(); sA = lfA(); sB = lfB(); sRes = lfRes(); sSign = lfSign(); sCin = lfCin();
}
export function restoreFlags(): void {
  flags = sFlags; setLfOp(sOp); store<u32>(LF_A_AT, sA); store<u32>(LF_B_AT, sB);
  store<u32>(LF_RES_AT, sRes); store<u32>(LF_SIGN_AT, sSign); setLfCin(sCin);
}

/** The GPRs and flags of the current instruction boundary are saved (snapshot, saveFlags).
 *  The step loop saves them only for instructions that may change them before faulting
 *  (run.ts); a fault in any other leaves them as they were, so they are saved then. */
export let boundarySaved = false;
@inline export function clearBoundary(): void { boundarySaved = false; }
@inline export function saveBoundary(): void {
  if (!boundarySaved) { snapshot(); saveFlags(); boundarySaved = true; }
}
