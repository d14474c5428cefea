// Segment-relative memory accesses (SDM Vol. 3 §5.3 limit checks, §5.7 type checks) on top of
// paging.ts, and the fault flag. Also the API the x87 unit (../fpu) builds on.
//
// There are no exceptions in AssemblyScript: raiseException() records the first fault of the
// instruction and sets `fault`; every caller returns at once when faulted() is true. The run
// loop then restores the GPR snapshot and EIP and delivers the exception.
import { segBase, segLimit, segChk, segAttr, SS, cpl, CHK_FLAT } from "./state";
import {
  readLin8, readLin16, readLin32, writeLin8, writeLin16, writeLin32, xlate, physReadSz, physWriteSz,
  physRead8, physWrite8, ramWriteHost,
} from "./paging";

export let fault: bool = false;
export let faultVec: u32 = 0;
export let faultErr: i32 = -1;

/** Record exception `vector` with `errorCode` (-1 = none) for the current instruction. */
export function raiseException(vector: u32, errorCode: i32): void {
  if (fault) return;
  fault = true; faultVec = vector; faultErr = errorCode;
}
/** An exception was raised during the current instruction: return without side effects. */
@inline export function faulted(): bool { return fault; }
export function clearFault(): void { fault = false; }

@inline export function gp(code: u32): void { raiseException(13, <i32>code); }
@inline export function ud(): void { raiseException(6, -1); }

// Segment check bits, computed when a segment register is loaded (seg.ts).
export const CHK_NOREAD: u32 = 1, CHK_NOWRITE: u32 = 2, CHK_EXPDOWN: u32 = 4, CHK_NULL: u32 = 8;

function segViolation(seg: u32, off: u32, sz: u32, write: bool): u32 {
  const chk = segChk(seg);
  const lim = segLimit(seg);
  if ((chk & CHK_NULL) == 0 && (chk & (write ? CHK_NOWRITE : CHK_NOREAD)) == 0) {
    if ((chk & CHK_EXPDOWN) != 0) {
      // Expand-down: valid offsets are limit+1 .. 0xFFFF (or 0xFFFFFFFF with B=1).
      const upper: u32 = (segAttr(seg) & 0x4000) != 0 ? 0xFFFF_FFFF : 0xFFFF;
      const last = off + sz - 1;
      if (off > lim && last >= off && last <= upper) return segBase(seg) + off;
    } else if (off <= lim && lim - off >= sz - 1) {
      return segBase(seg) + off;
    }
  }
  if (seg == SS && (chk & CHK_NULL) == 0) raiseException(12, 0); else gp(0);
  return 0;
}

/** Linear address of seg:off for a read of sz bytes, or 0 with a fault raised. */
@inline export function linR(seg: u32, off: u32, sz: u32): u32 {
  const chk = segChk(seg);
  // Flat: only an access running past 4 GiB is outside the limit (it faults below).
  if ((chk & (CHK_FLAT | CHK_NOREAD)) == CHK_FLAT && off <= 0 - sz) return off;
  const lim = segLimit(seg);
  if ((chk & (CHK_NOREAD | CHK_EXPDOWN | CHK_NULL)) != 0 || off > lim || lim - off < sz - 1)
    return segViolation(seg, off, sz, false);
  return segBase(seg) + off;
}
@inline export function linW(seg: u32, off: u32, sz: u32): u32 {
  const chk = segChk(seg);
  if ((chk & (CHK_FLAT | CHK_NOWRITE)) == CHK_FLAT && off <= 0 - sz) return off;
  const lim = segLimit(seg);
  if ((chk & (CHK_NOWRITE | CHK_EXPDOWN | CHK_NULL)) != 0 || off > lim || lim - off < sz - 1)
    return segViolation(seg, off, sz, true);
  return segBase(seg) + off;
}

// ---- segment-relative accesses (also the FPU-facing API) ----------------------------------------
// Inlined: with a flat segment and a TLB hit an access costs no call (measured: bench/ cpu).
@inline export function readMem8(seg: u32, off: u32): u32 {
  const lin = linR(seg, off, 1);
  if (fault) return 0;
  return readLin8(lin);
}
@inline export function readMem16(seg: u32, off: u32): u32 {
  const lin = linR(seg, off, 2);
  if (fault) return 0;
  return readLin16(lin);
}
@inline export function readMem32(seg: u32, off: u32): u32 {
  const lin = linR(seg, off, 4);
  if (fault) return 0;
  return readLin32(lin);
}
@inline export function writeMem8(seg: u32, off: u32, v: u32): void {
  const lin = linW(seg, off, 1);
  if (fault) return;
  writeLin8(lin, v);
}
@inline export function writeMem16(seg: u32, off: u32, v: u32): void {
  const lin = linW(seg, off, 2);
  if (fault) return;
  writeLin16(lin, v);
}
@inline export function writeMem32(seg: u32, off: u32, v: u32): void {
  const lin = linW(seg, off, 4);
  if (fault) return;
  writeLin32(lin, v);
}
/** True if seg:off..off+len-1 may be written now; otherwise raises the fault, returns false. */
export function probeWrite(seg: u32, off: u32, len: u32): bool {
  if (len == 0) return true;
  const lin = linW(seg, off, len);
  if (fault) return false;
  // Every page the range touches (len may exceed a page for FNSAVE-sized areas).
  let p = lin & 0xFFFF_F000;
  const last = lin + len - 1;
  xlate(lin, true, cpl == 3);
  while (!fault && p != (last & 0xFFFF_F000)) {
    p += 0x1000;
    xlate(p, true, cpl == 3);
  }
  return !fault;
}

@inline export function readMemSz(sz: u32, seg: u32, off: u32): u32 {
  return sz == 4 ? readMem32(seg, off) : sz == 2 ? readMem16(seg, off) : readMem8(seg, off);
}
@inline export function writeMemSz(sz: u32, seg: u32, off: u32, v: u32): void {
  if (sz == 4) writeMem32(seg, off, v); else if (sz == 2) writeMem16(seg, off, v); else writeMem8(seg, off, v);
}

// ---- read-modify-write: translate for writing first, so the write cannot fault after the read.
// Fast path: the operand lies in one RAM page the TLB already lets this CPL write, holding no
// translated code; then the read and the write are one host load and store (rmwHost).
let rmwHost: u32 = 0; // wasm address of the operand on the fast path, else 0
let rmwP0: u32 = 0; // physical address of the first byte
let rmwP1: u32 = 0; // physical address of the first byte on the second page, if crossing
let rmwN0: u32 = 0; // bytes on the first page (== sz when not crossing)

/** Prepare seg:off for a locked-style RMW of sz bytes; returns false (faulted) on failure. */
export function rmwBegin(seg: u32, off: u32, sz: u32): bool {
  const lin = linW(seg, off, sz);
  if (fault) return false;
  if ((lin & 0xFFF) <= 0x1000 - sz) {
    rmwHost = ramWriteHost(lin);
    if (rmwHost != 0) return true;
  } else rmwHost = 0;
  const user = cpl == 3;
  rmwP0 = xlate(lin, true, user);
  if (fault) return false;
  const o = lin & 0xFFF;
  if (o + sz > 0x1000) {
    rmwN0 = 0x1000 - o;
    rmwP1 = xlate(lin + rmwN0, true, user);
    if (fault) return false;
  } else rmwN0 = sz;
  return true;
}
@inline export function rmwRead(sz: u32): u32 {
  const h = rmwHost;
  if (h != 0) return sz == 4 ? load<u32>(h) : sz == 2 ? <u32>load<u16>(h) : <u32>load<u8>(h);
  return rmwReadSlow(sz);
}
@inline export function rmwWrite(sz: u32, v: u32): void {
  const h = rmwHost;
  if (h != 0) { if (sz == 4) store<u32>(h, v); else if (sz == 2) store<u16>(h, <u16>v); else store<u8>(h, <u8>v); return; }
  rmwWriteSlow(sz, v);
}
function rmwReadSlow(sz: u32): u32 {
  if (rmwN0 == sz) return physReadSz(sz, rmwP0);
  let v: u32 = 0;
  for (let i: u32 = 0; i < sz; i++) v |= physRead8(i < rmwN0 ? rmwP0 + i : rmwP1 + (i - rmwN0)) << (i << 3);
  return v;
}
function rmwWriteSlow(sz: u32, v: u32): void {
  if (rmwN0 == sz) { physWriteSz(sz, rmwP0, v); return; }
  for (let i: u32 = 0; i < sz; i++) physWrite8(i < rmwN0 ? rmwP0 + i : rmwP1 + (i - rmwN0), v >>> (i << 3));
}

// ---- EFLAGS / AX access for the x87 unit (FCOMI, FCMOV, FNSTSW AX) ---------------------------
import { getFlags, setArith } from "./flags";
import { w16 } from "./state";
/** FCOMI/FUCOMI result: ZF PF CF as given, OF SF AF cleared (SDM Vol. 2A FCOMI). */
export function setFlagsZPC(zf: bool, pf: bool, cf: bool): void {
  setArith((zf ? 0x40 : 0) | (pf ? 4 : 0) | (cf ? 1 : 0));
}
export function getEflags(): u32 { return getFlags(); }
export function writeAX(v: u32): void { w16(0, v); }
