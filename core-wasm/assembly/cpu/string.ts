// String instructions with REP/REPE/REPNE (SDM Vol. 2 MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS, REP).
// Each completed iteration is folded into the GPR snapshot, so a fault in iteration k restarts
// the instruction with the registers of k-1 iterations done, as on hardware.
import { eip, instrEip, r32, w32, r16, w16, rget, rset, snapKeep, ECX, ESI, EDI, EAX, EDX, ES, F_DF } from "./state";
import { flags, lfOp, lfA, lfB, LF_SUB, getZF } from "./flags";
import { fault, readMemSz, writeMemSz } from "./access";
import { a32, rep, dataSeg } from "./decode";
import { alu } from "./alu";
import { runExit, NO_EXIT } from "./paging";
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
  let slice: u32 = REP_SLICE;
  while (true) {
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
@inline function cmpZero(): bool { return lfOp == LF_SUB ? lfA == lfB : getZF(); }
/** Re-execute this REP instruction next time (its registers already hold the progress). */
function eipBack(): void { eip = instrEip; }
