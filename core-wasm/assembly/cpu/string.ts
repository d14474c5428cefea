// String instructions with REP/REPE/REPNE (SDM Vol. 2 MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS, REP).
// Each completed iteration is folded into the GPR snapshot, so a fault in iteration k restarts
// the instruction with the registers of k-1 iterations done, as on hardware.
import { eip, instrEip, r32, w32, r16, w16, rget, rset, snapKeep, segChk, ECX, ESI, EDI, EAX, EDX, ES, F_DF, F_TF, CHK_FLAT } from "./state";
import { flags, lfOp, lfA, lfB, LF_SUB, getZF } from "./flags";
import { fault, readMemSz, writeMemSz } from "./access";
import { a32, rep, dataSeg } from "./decode";
import { alu } from "./alu";
import { runExit, NO_EXIT, ramReadHost, ramWriteHost } from "./paging";
import { CHK_NOREAD, CHK_NOWRITE } from "./access";
import { ioAllowed, portIn, portOut } from "./system";

/** Iterations of one REP string instruction per step before it yields. */
const REP_SLICE: u32 = 4096;

@inline function idx(r: u32): u32 { return a32 ? r32(r) : r16(r); }
@inline function setIdx(r: u32, v: u32): void { if (a32) w32(r, v); else w16(r, v); }
@inline function step(sz: u32): u32 { return (flags & F_DF) != 0 ? 0 - sz : sz; }
@inline function keep(): void { snapKeep(ECX); snapKeep(ESI); snapKeep(EDI); }

/** op: 0 MOVS, 1 CMPS, 2 STOS, 3 LODS, 4 SCAS, 5 INS, 6 OUTS. */
export function stringOp(op: u32, sz: u32): void {
  if ((op == 5 || op == 6) && !ioAllowed(r16(EDX), sz)) return;
  const d = step(sz);
  const src = dataSeg();
  const repeat = rep != 0;
  if (repeat && idx(ECX) == 0) return;
  // Single-stepping (TF) traps after each iteration (SDM Vol. 3 §17.3.1.4): one per step.
  let slice: u32 = (flags & F_TF) != 0 ? 1 : REP_SLICE;
  // REP MOVS / REP STOS forward through flat segments: whole runs within a page at a time,
  // element by element only where bulk() stops (then bulk again after that element).
  const fast = repeat && a32 && d == sz && (op == 0 || op == 2) &&
    (segChk(ES) & (CHK_FLAT | CHK_NOWRITE)) == CHK_FLAT &&
    (op == 2 || (segChk(src) & (CHK_FLAT | CHK_NOREAD)) == CHK_FLAT);
  while (true) {
    if (fast) {
      slice = bulk(op, sz, src, slice);
      if (r32(ECX) == 0) return;
      if (slice == 0 || runExit != NO_EXIT) { eipBack(); return; }
    }
    switch (op) {
      case 0: {
        const v = readMemSz(sz, src, idx(ESI));
        if (fault) return;
        writeMemSz(sz, ES, idx(EDI), v);
        if (fault) return;
        setIdx(ESI, idx(ESI) + d); setIdx(EDI, idx(EDI) + d);
        break;
      }
      case 1: {
        const a = readMemSz(sz, src, idx(ESI));
        const b = readMemSz(sz, ES, idx(EDI));
        if (fault) return;
        alu(7, sz, a, b);
        setIdx(ESI, idx(ESI) + d); setIdx(EDI, idx(EDI) + d);
        break;
      }
      case 2: {
        writeMemSz(sz, ES, idx(EDI), rget(sz, EAX));
        if (fault) return;
        setIdx(EDI, idx(EDI) + d);
        break;
      }
      case 3: {
        const v = readMemSz(sz, src, idx(ESI));
        if (fault) return;
        rset(sz, EAX, v);
        setIdx(ESI, idx(ESI) + d);
        break;
      }
      case 4: {
        const b = readMemSz(sz, ES, idx(EDI));
        if (fault) return;
        alu(7, sz, rget(sz, EAX), b);
        setIdx(EDI, idx(EDI) + d);
        break;
      }
      case 5: {
        // INS: the destination is checked before the port is read (no lost input on a fault).
        writeMemSz(sz, ES, idx(EDI), 0);
        if (fault) return;
        const v = portIn(r16(EDX), sz);
        writeMemSz(sz, ES, idx(EDI), v);
        setIdx(EDI, idx(EDI) + d);
        break;
      }
      default: {
        const v = readMemSz(sz, src, idx(ESI));
        if (fault) return;
        portOut(r16(EDX), sz, v);
        setIdx(ESI, idx(ESI) + d);
        break;
      }
    }
    if (!repeat) return;
    const c = idx(ECX) - 1;
    setIdx(ECX, c);
    keep();
    if ((c & (a32 ? 0xFFFF_FFFF : 0xFFFF)) == 0) return;
    if (op == 1 || op == 4) {
      const zf = cmpZero();
      if (rep == 0xF3 && !zf) return; // REPE: stop when not equal
      if (rep == 0xF2 && zf) return; // REPNE: stop when equal
    }
    // A long REP yields (the registers hold the progress and EIP stays on the instruction, as
    // when hardware takes an interrupt mid-string): a bad ECX cannot stall the run loop, and a
    // device's RUN_REQUEST is honoured at once.
    if (--slice == 0 || runExit != NO_EXIT) {
      eipBack();
      return;
    }
  }
}
/**
 * The bulk part of REP MOVS/STOS (32-bit addressing, DF = 0, flat ES and source): each chunk is
 * the run of elements inside one page of the destination (and source) that the TLB already
 * maps as RAM with the needed rights, so no element can fault or trap. Overlapping MOVS with the
 * destination ahead of the source (a pattern fill) stays element by element, as does whatever
 * remains (page-crossing elements, TLB misses, MMIO): the caller's loop takes it from there.
 * Returns the iteration budget left.
 */
function bulk(op: u32, sz: u32, src: u32, slice: u32): u32 {
  while (slice > 0) {
    const n = r32(ECX);
    if (n == 0) break;
    const di = r32(EDI);
    const dst = ramWriteHost(di);
    if (dst == 0) break;
    let count: u32 = (0x1000 - (di & 0xFFF)) / sz;
    let from: u32 = 0;
    if (op == 0) {
      const si = r32(ESI);
      from = ramReadHost(si);
      if (from == 0) break;
      const c2: u32 = (0x1000 - (si & 0xFFF)) / sz;
      if (c2 < count) count = c2;
    }
    if (count > n) count = n;
    if (count > slice) count = slice;
    if (count == 0) break; // an element straddles a page
    const bytes = count * sz;
    if (op == 0) {
      if (dst > from && dst - from < bytes) break; // forward overlap: element semantics differ from memmove
      memory.copy(dst, from, bytes);
      w32(ESI, r32(ESI) + bytes);
    } else if (sz == 1) {
      memory.fill(dst, <u8>r32(EAX), bytes);
    } else {
      const v = rget(sz, EAX);
      for (let i: u32 = 0; i < bytes; i += sz) {
        if (sz == 4) store<u32>(dst + i, v); else store<u16>(dst + i, <u16>v);
      }
    }
    w32(EDI, di + bytes);
    w32(ECX, n - count);
    keep();
    slice -= count;
  }
  return slice;
}

@inline function cmpZero(): bool { return lfOp() == LF_SUB ? lfA() == lfB() : getZF(); }
/** Re-execute this REP instruction next time (its registers already hold the progress). */
function eipBack(): void { eip = instrEip; }
