// Instruction fetch (through a one-page cache) and operand decoding: prefixes state, ModRM,
// SIB and displacement (SDM Vol. 2 §2.1, Tables 2-1 and 2-2), and r/m operand accessors.
import { GUEST_RAM_BASE } from "../layout";
import { eip, cpl, segBase, segLimit, r32, r16, rget, rset, CS, SS, DS, fetchEip, fetchLen, fetchHost } from "./state";
import { xlate, ramBytes, physRead8 } from "./paging";
import { fault, gp, readMemSz, writeMemSz, rmwBegin, rmwRead, rmwWrite } from "./access";

export const SEG_NONE: u32 = 0xFF;

// Per-instruction decode state, reset by the step loop.
export let o32: bool = true; // operand size is 32 bits
export let a32: bool = true; // address size is 32 bits
export let segOvr: u32 = SEG_NONE;
export let rep: u32 = 0; // 0, 0xF2 (REPNE) or 0xF3 (REP/REPE)

export let modrm: u32 = 0;
export let mrReg: u32 = 0; // ModRM.reg
export let mrRm: u32 = 0; // ModRM.rm
export let mrIsReg: bool = false; // mod == 3
export let eaSeg: u32 = DS;
export let eaOff: u32 = 0;
/** The address used ESP as its base (POP r/m computes it after the increment). */
export let eaBaseEsp: bool = false;

/** Outside the fetch window: check the CS limit, translate, and refill the window. */
function fetchSlow(): u32 {
  const limit = segLimit(CS);
  if (eip > limit) { gp(0); return 0; } // CS is an expand-up code segment (SDM Vol. 3 §5.3)
  const lin = segBase(CS) + eip;
  const p = xlate(lin, false, cpl == 3);
  if (fault) return 0;
  if (p >= ramBytes) { eip++; return physRead8(p); } // executing from MMIO: one trap per byte
  // The window ends at the page end or just past the limit, whichever comes first, and starts
  // at the page start (or offset 0), so a jump back within the page stays inside it.
  const toPageEnd: u32 = 0xFFF - (lin & 0xFFF), toLimit = limit - eip;
  const back: u32 = (lin & 0xFFF) < eip ? lin & 0xFFF : eip;
  fetchEip = eip - back;
  fetchLen = back + (toPageEnd < toLimit ? toPageEnd : toLimit) + 1;
  fetchHost = GUEST_RAM_BASE + p - back;
  eip++;
  return <u32>load<u8>(fetchHost + back);
}

@inline export function fetch8(): u32 {
  const o = eip - fetchEip;
  if (o < fetchLen) { eip++; return <u32>load<u8>(fetchHost + o); }
  return fetchSlow();
}
@inline export function fetch16(): u32 {
  const o = eip - fetchEip;
  if (o < fetchLen && o + 2 <= fetchLen) { eip += 2; return <u32>load<u16>(fetchHost + o); }
  return fetch16Slow();
}
function fetch16Slow(): u32 {
  const lo = fetch8();
  return lo | (fetch8() << 8);
}
@inline export function fetch32(): u32 {
  const o = eip - fetchEip;
  if (o < fetchLen && o + 4 <= fetchLen) { eip += 4; return load<u32>(fetchHost + o); }
  return fetch32Slow();
}
function fetch32Slow(): u32 {
  const lo = fetch16();
  return lo | (fetch16() << 16);
}
/** An immediate of operand size sz (1, 2, 4). */
@inline export function fetchSz(sz: u32): u32 { return sz == 4 ? fetch32() : sz == 2 ? fetch16() : fetch8(); }
@inline export function sext8(v: u32): u32 { return <u32><i32><i8>v; }
@inline export function sext16(v: u32): u32 { return <u32><i32><i16>v; }

/** A prefix was decoded since the last reset: most instructions have none, and the four
 *  stores of a reset at every instruction cost the interpreter measurably. */
let prefixed = false;
/** Back to the defaults of a code segment of size d32 — if anything moved them: a prefix, or
 *  a change of the code segment's size (o32 then differs from it). */
@inline export function resetPrefixes(d32: bool): void {
  if (prefixed || o32 != d32) { o32 = d32; a32 = d32; segOvr = SEG_NONE; rep = 0; prefixed = false; }
}
export function setO32(v: bool): void { o32 = v; prefixed = true; }
export function setA32(v: bool): void { a32 = v; prefixed = true; }
export function setSegOvr(v: u32): void { segOvr = v; prefixed = true; }
export function setRep(v: u32): void { rep = v; prefixed = true; }

/** Default data segment DS unless overridden. */
@inline export function dataSeg(): u32 { return segOvr != SEG_NONE ? segOvr : DS; }

/** Read ModRM (+ SIB + displacement) and compute the effective address. Inlined up to the
 *  register form; the memory form's address decoding is one call (decodeEa). */
@inline export function decodeModrm(): void {
  const m = fetch8();
  modrm = m;
  mrReg = (m >> 3) & 7;
  mrRm = m & 7;
  if ((m >> 6) == 3) mrIsReg = true;
  else decodeEa(m);
}

/** decodeModrm with the address decoding inlined too: for the interpreter's one ModRM site. */
@inline export function decodeModrmInline(): void {
  const m = fetch8();
  modrm = m;
  mrReg = (m >> 3) & 7;
  mrRm = m & 7;
  if ((m >> 6) == 3) mrIsReg = true;
  else decodeEaBody(m);
}

function decodeEa(m: u32): void { decodeEaBody(m); }

@inline function decodeEaBody(m: u32): void {
  const mod = m >> 6;
  mrIsReg = false;
  let off: u32 = 0;
  let ss = false;
  eaBaseEsp = false;
  const rm = m & 7;
  if (a32) {
    if (rm == 4) {
      const sib = fetch8();
      const base = sib & 7, idx = (sib >> 3) & 7;
      if (base == 5 && mod == 0) off = fetch32();
      else { off = r32(base); ss = base == 4 || base == 5; eaBaseEsp = base == 4; }
      if (idx != 4) off += r32(idx) << (sib >> 6);
    } else if (rm == 5 && mod == 0) {
      off = fetch32();
    } else {
      off = r32(rm);
      ss = rm == 5;
    }
    if (mod == 1) off += sext8(fetch8());
    else if (mod == 2) off += fetch32();
  } else {
    switch (rm) {
      case 0: off = r16(3) + r16(6); break; // BX+SI
      case 1: off = r16(3) + r16(7); break; // BX+DI
      case 2: off = r16(5) + r16(6); ss = true; break; // BP+SI
      case 3: off = r16(5) + r16(7); ss = true; break; // BP+DI
      case 4: off = r16(6); break;
      case 5: off = r16(7); break;
      case 6: if (mod == 0) off = fetch16(); else { off = r16(5); ss = true; } break;
      default: off = r16(3); break;
    }
    if (mod == 1) off += sext8(fetch8());
    else if (mod == 2) off += fetch16();
    off &= 0xFFFF;
  }
  eaOff = off;
  eaSeg = segOvr != SEG_NONE ? segOvr : (ss ? SS : DS);
}

// ---- r/m operand accessors ---------------------------------------------------------------------
@inline export function rmRead(sz: u32): u32 {
  return mrIsReg ? rget(sz, mrRm) : readMemSz(sz, eaSeg, eaOff);
}
@inline export function rmWrite(sz: u32, v: u32): void {
  if (mrIsReg) rset(sz, mrRm, v); else writeMemSz(sz, eaSeg, eaOff, v);
}
/** First half of a read-modify-write of the r/m operand: the write is checked before reading. */
@inline export function rmRmwRead(sz: u32): u32 {
  if (mrIsReg) return rget(sz, mrRm);
  if (!rmwBegin(eaSeg, eaOff, sz)) return 0;
  return rmwRead(sz);
}
@inline export function rmRmwWrite(sz: u32, v: u32): void {
  if (mrIsReg) rset(sz, mrRm, v); else rmwWrite(sz, v);
}
@inline export function regRead(sz: u32): u32 { return rget(sz, mrReg); }
@inline export function regWrite(sz: u32, v: u32): void { rset(sz, mrReg, v); }
