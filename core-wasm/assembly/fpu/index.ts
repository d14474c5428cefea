// x87 FPU entry points (the interface with cpu/): fpuExecute decodes one escape instruction
// D8..DF by opcode and ModRM (SDM Vol. 2 Appendix A.5, Tables ), fpuWait is
// WAIT/FWAIT, fpuReset is FNINIT. #NM (CR0.EM/TS) was checked by the CPU already.

import { faulted, probeWrite, raiseException, readMem16, writeAX, writeMem16 } from "../cpu/access";
import {
  SW_ES, clearExceptions, fpuCW, fpuSW, recomputeES, resetState, setControlWord, setLastData,
  setLastInstruction, statusWord,
} from "./state";
import { fldenv, fnsave, fnstenv, frstor } from "./env";
import { fcmov, ffree, fldReg, fstReg, fxch } from "./stack";
import {
  M16INT, M32INT, M32REAL, M64INT, M64REAL, M80BCD, M80REAL, loadMem, storeExt, storeInt,
  storeReal,
} from "./memops";
import { arithD8, arithDC, arithMem, compareI, compareST } from "./arithops";
import { groupD9 } from "./d9ops";

// ---- entry points ----------------------------------------------------------------------------

/** Execute one x87 instruction (see the module comment). */
export function fpuExecute(opcode: u32, modrm: u32, seg: u32, ea: u32, o32: bool, pm: bool, cs: u32, ip: u32): void {
  const esc = opcode & 7;
  const reg = (modrm >> 3) & 7;
  const isMem = modrm < 0xC0;
  const i = modrm & 7;

  // Control instructions (SDM Vol. 1 §8.3.12): the non-waiting ones skip the pending
  // exception check, and none of them updates FIP/FCS/FOP/FDP.
  if (isMem) {
    if (esc == 1 && reg >= 4) {
      if (reg == 6) { fnstenv(seg, ea, o32, pm); return; }
      if (reg == 7) {
        if (probeWrite(seg, ea, 2)) writeMem16(seg, ea, fpuCW);
        return;
      }
      if (pending()) return;
      if (reg == 4) { fldenv(seg, ea, o32, pm); return; }
      const v = readMem16(seg, ea); // FLDCW
      if (faulted()) return;
      setControlWord(v);
      recomputeES();
      return;
    }
    if (esc == 5 && reg >= 4) {
      if (reg == 6) { fnsave(seg, ea, o32, pm); return; }
      if (reg == 7) {
        if (probeWrite(seg, ea, 2)) writeMem16(seg, ea, statusWord());
        return;
      }
      if (reg == 4) {
        if (pending()) return;
        frstor(seg, ea, o32, pm);
        return;
      }
      raiseException(6, -1);
      return;
    }
  } else {
    if (esc == 3 && modrm >= 0xE0 && modrm <= 0xE7) {
      if (modrm == 0xE2) clearExceptions(); // FNCLEX
      else if (modrm == 0xE3) resetState(); // FNINIT
      else if (modrm >= 0xE5) raiseException(6, -1);
      // E0 FENI, E1 FDISI, E4 FSETPM: 8087/287 leftovers, no-ops since the 387.
      return;
    }
    if (esc == 7 && modrm == 0xE0) { writeAX(statusWord()); return; } // FNSTSW AX
  }

  if (pending()) return;
  setLastInstruction(cs, ip, (esc << 8) | modrm);

  if (isMem) {
    setLastData(0, ea);
    switch (esc) {
      case 0: arithMem(M32REAL, reg, seg, ea); return;
      case 2: arithMem(M32INT, reg, seg, ea); return;
      case 4: arithMem(M64REAL, reg, seg, ea); return;
      case 6: arithMem(M16INT, reg, seg, ea); return;
      case 1:
        if (reg == 0) loadMem(M32REAL, seg, ea);
        else if (reg == 2 || reg == 3) storeReal(0, seg, ea, reg == 3);
        else break;
        return;
      case 3:
        if (reg == 0) loadMem(M32INT, seg, ea);
        else if (reg == 2 || reg == 3) storeInt(32, seg, ea, reg == 3);
        else if (reg == 5) loadMem(M80REAL, seg, ea);
        else if (reg == 7) storeExt(seg, ea);
        else break;
        return;
      case 5:
        if (reg == 0) loadMem(M64REAL, seg, ea);
        else if (reg == 2 || reg == 3) storeReal(1, seg, ea, reg == 3);
        else break;
        return;
      case 7:
        if (reg == 0) loadMem(M16INT, seg, ea);
        else if (reg == 2 || reg == 3) storeInt(16, seg, ea, reg == 3);
        else if (reg == 4) loadMem(M80BCD, seg, ea);
        else if (reg == 5) loadMem(M64INT, seg, ea);
        else if (reg == 6) storeInt(0, seg, ea, true);
        else if (reg == 7) storeInt(64, seg, ea, true);
        else break;
        return;
    }
    raiseException(6, -1); // FISTTP (SSE3) and reserved encodings
    return;
  }

  switch (esc) {
    case 0: arithD8(reg, i); return;
    case 4: arithDC(reg, i, false); return;
    case 6: arithDC(reg, i, true); return;
    case 1:
      if (reg == 0) { fldReg(i); return; }
      if (reg == 1) { fxch(i); return; }
      if (modrm == 0xD0) return; // FNOP
      if (reg == 3) { fstReg(i, true); return; } // D9 D8+i: FSTP1 alias
      if (reg >= 4) { groupD9(modrm); return; }
      break;
    case 2:
      if (reg < 4) { fcmov(false, reg, i); return; }
      if (modrm == 0xE9) { compareST(1, true, 2); return; } // FUCOMPP
      break;
    case 3:
      if (reg < 4) { fcmov(true, reg, i); return; }
      if (reg == 5) { compareI(i, true, false); return; } // FUCOMI
      if (reg == 6) { compareI(i, false, false); return; } // FCOMI
      break;
    case 5:
      if (reg == 0) { ffree(i, false); return; }
      if (reg == 1) { fxch(i); return; } // FXCH4 alias
      if (reg == 2 || reg == 3) { fstReg(i, reg == 3); return; }
      if (reg == 4 || reg == 5) { compareST(i, true, reg == 5 ? 1 : 0); return; } // FUCOM(P)
      break;
    case 7:
      if (reg == 0) { ffree(i, true); return; } // FFREEP
      if (reg == 1) { fxch(i); return; } // FXCH7 alias
      if (reg == 2 || reg == 3) { fstReg(i, true); return; } // FSTP8/FSTP9 aliases
      if (reg == 5) { compareI(i, true, true); return; } // FUCOMIP
      if (reg == 6) { compareI(i, false, true); return; } // FCOMIP
      break;
  }
  raiseException(6, -1);
}

/** #MF for a waiting instruction if an unmasked exception is pending (CR0.NE=1 behaviour). */
function pending(): bool {
  if ((fpuSW & SW_ES) == 0) return false;
  raiseException(16, -1);
  return true;
}

/** WAIT/FWAIT. */
export function fpuWait(): void {
  pending();
}

/** FNINIT state; also the state at CPU reset (SDM Vol. 3 §9.1.2 gives FNINIT's values). */
export function fpuReset(): void {
  resetState();
}
