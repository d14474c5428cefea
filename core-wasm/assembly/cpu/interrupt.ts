// Interrupt and exception delivery (SDM Vol. 3 §6.12 real mode §20.1.4): IVT in real mode,
// IDT interrupt/trap gates in protected mode with the stack switch through the 32-bit TSS, task
// gates (task.ts), and the double-fault / triple-fault rules (§6.15, Table 6-5).
import { RUN_PAGE_BASE, RUN_STAT_EXCEPTIONS, RUN_STAT_INTS, RUN_EXIT_ARG, EXIT_SHUTDOWN } from "../layout";
import {
  eip, instrEip, cpl, pmode, idtrBase, idtrLimit, segSel, segBase, segAttr, stackB, r32, w32, w16,
  restoreSnapshot, nmiBlocked, CS, SS, TR, ESP, F_IF, F_TF, F_NT, F_RF, F_VM, F_AC,
} from "./state";
import { getFlags, setFlagsRaw, restoreFlags } from "./flags";
import { fault, faultVec, faultErr, clearFault, raiseException, gp } from "./access";
import { readSys, writeLinSlow, updateAccessMasks, runExit, NO_EXIT } from "./paging";
import { readDescriptor, descLo, descHi, descAttr, descBase, commitSeg, loadSegReal, setAccessed } from "./seg";
import { push16 } from "./stack";
import { taskSwitch, TASK_INT } from "./task";

@inline function ts(code: u32): void { raiseException(10, <i32>code); }
@inline function np(code: u32): void { raiseException(11, <i32>code); }

function realModeInterrupt(vec: u32, retEip: u32): void {
  if (vec * 4 + 3 > idtrLimit) { gp(0); return; }
  const ent = readSys(idtrBase + vec * 4, 4);
  if (fault) return;
  const f = getFlags();
  push16(f);
  push16(segSel(CS));
  push16(retEip);
  if (fault) return;
  loadSegReal(CS, ent >>> 16);
  eip = ent & 0xFFFF;
  setFlagsRaw(f & ~(F_IF | F_TF | F_AC | F_RF));
}

// Pushes onto a stack being built before it is committed.
let nsBase: u32 = 0, nsSp: u32 = 0, nsB: bool = true, nsUser: bool = false;
function nsPush(words: u32, v: u32): void {
  nsSp -= words;
  if (!nsB) nsSp &= 0xFFFF;
  writeLinSlow(nsBase + nsSp, words, v, nsUser);
}

/** Deliver vector vec. soft = INT n / INT3 / INTO (gate DPL checked, EXT = 0). err < 0: none. */
export function doInterrupt(vec: u32, soft: bool, err: i32, retEip: u32): void {
  if (!pmode) { realModeInterrupt(vec, retEip); return; }
  const ext: u32 = soft ? 0 : 1;
  const idtCode = vec * 8 + 2 + ext;
  if (vec * 8 + 7 > idtrLimit) { gp(idtCode); return; }
  const lo = readSys(idtrBase + vec * 8, 4);
  const hi = readSys(idtrBase + vec * 8 + 4, 4);
  if (fault) return;
  const gtype = (hi >> 8) & 0x1F;
  const gdpl = (hi >> 13) & 3;
  // 0xE/0xF 32-bit interrupt/trap gate, 6/7 16-bit, 5 task gate.
  if (gtype != 0xE && gtype != 0xF && gtype != 6 && gtype != 7 && gtype != 5) { gp(idtCode); return; }
  if (soft && gdpl < cpl) { gp(vec * 8 + 2); return; }
  if ((hi & 0x8000) == 0) { np(idtCode); return; }
  if (gtype == 5) { taskSwitch(lo >>> 16, TASK_INT, err, retEip); return; }
  const gate32 = (gtype & 8) != 0;
  const sel = lo >>> 16;
  const off = gate32 ? (lo & 0xFFFF) | (hi & 0xFFFF_0000) : lo & 0xFFFF;
  if ((sel & 0xFFFC) == 0) { gp(ext); return; }
  if (!readDescriptor(sel)) { gp((sel & 0xFFFC) + ext); return; }
  const cLo = descLo, cHi = descHi;
  const cattr = descAttr(cHi);
  const dpl = (cattr >> 5) & 3;
  if ((cattr & 0x18) != 0x18 || dpl > cpl) { gp((sel & 0xFFFC) + ext); return; }
  if ((cattr & 0x80) == 0) { np((sel & 0xFFFC) + ext); return; }
  const f = getFlags();
  const words: u32 = gate32 ? 4 : 2;
  const oldCs = segSel(CS);
  if ((cattr & 4) == 0 && dpl < cpl) {
    // Inner privilege: new SS:ESP from the TSS (SDM §7.2.1 Figure 7-2).
    const tb = segBase(TR);
    const tss32 = (segAttr(TR) & 8) != 0;
    let newSp: u32, newSs: u32;
    if (tss32) { newSp = readSys(tb + 4 + dpl * 8, 4); newSs = readSys(tb + 8 + dpl * 8, 2); }
    else { newSp = readSys(tb + 2 + dpl * 4, 2); newSs = readSys(tb + 4 + dpl * 4, 2); }
    if (fault) return;
    if ((newSs & 0xFFFC) == 0) { ts(ext); return; }
    if ((newSs & 3) != dpl || !readDescriptor(newSs)) { ts((newSs & 0xFFFC) + ext); return; }
    const sLo = descLo, sHi = descHi;
    const sattr = descAttr(sHi);
    if ((sattr & 0x1A) != 0x12 || ((sattr >> 5) & 3) != dpl) { ts((newSs & 0xFFFC) + ext); return; }
    if ((sattr & 0x80) == 0) { raiseException(12, <i32>((newSs & 0xFFFC) + ext)); return; }
    nsBase = descBase(sLo, sHi); nsSp = newSp; nsB = (sattr & 0x4000) != 0; nsUser = dpl == 3;
    const oldSs = segSel(SS), oldEsp = r32(ESP);
    nsPush(words, oldSs);
    nsPush(words, oldEsp);
    nsPush(words, f);
    nsPush(words, oldCs);
    nsPush(words, retEip);
    if (err >= 0) nsPush(words, <u32>err);
    if (fault) return;
    commitSeg(SS, newSs, sLo, sHi);
    if (nsB) w32(ESP, nsSp); else w16(ESP, nsSp);
    descHi = cHi;
    commitSeg(CS, (sel & 0xFFFC) | dpl, cLo, cHi);
    cpl = dpl;
    updateAccessMasks();
  } else if ((cattr & 4) != 0 || dpl == cpl) {
    nsBase = segBase(SS); nsB = stackB; nsSp = stackB ? r32(ESP) : r32(ESP) & 0xFFFF; nsUser = cpl == 3;
    nsPush(words, f);
    nsPush(words, oldCs);
    nsPush(words, retEip);
    if (err >= 0) nsPush(words, <u32>err);
    if (fault) return;
    if (nsB) w32(ESP, nsSp); else w16(ESP, nsSp);
    commitSeg(CS, (sel & 0xFFFC) | cpl, cLo, cHi);
  } else { gp((sel & 0xFFFC) + ext); return; }
  eip = off;
  let nf = f & ~(F_TF | F_NT | F_RF | F_VM);
  if ((gtype & 1) == 0) nf &= ~F_IF;
  setFlagsRaw(nf);
}

// ---- exceptions -------------------------------------------------------------------------------
@inline function contributory(v: u32): bool { return v == 0 || (v >= 10 && v <= 13); }

function shutdown(vec: u32): void {
  runExit = EXIT_SHUTDOWN;
  store<u32>(RUN_PAGE_BASE + RUN_EXIT_ARG, vec);
}

/** Deliver an exception raised by the instruction at instrEip (already rolled back), or a
 *  trap-class event with eip already past the instruction. */
export function deliverException(vec: u32, err: i32): void {
  let first = vec;
  let e = err;
  for (let depth = 0; depth < 3; depth++) {
    store<u32>(RUN_PAGE_BASE + RUN_STAT_EXCEPTIONS, load<u32>(RUN_PAGE_BASE + RUN_STAT_EXCEPTIONS) + 1);
    const retEip = eip;
    doInterrupt(first, false, e, retEip);
    if (!fault) return;
    const second = faultVec;
    const serr = faultErr;
    clearFault();
    restoreSnapshot(); restoreFlags();
    eip = retEip;
    if (first == 8) { shutdown(second); return; }
    if ((contributory(first) && contributory(second)) || (first == 14 && (contributory(second) || second == 14))) {
      first = 8; e = 0;
    } else {
      first = second; e = serr;
    }
  }
  shutdown(first);
}

/** The instruction faulted: undo its GPR and EIP changes and deliver the exception. */
export function handleFault(): void {
  const v = faultVec, e = faultErr;
  clearFault();
  restoreSnapshot(); restoreFlags();
  eip = instrEip;
  deliverException(v, e);
}

/** An external interrupt (vector from the PIC) at an instruction boundary. */
export function deliverExternal(vec: u32): void {
  store<u32>(RUN_PAGE_BASE + RUN_STAT_INTS, load<u32>(RUN_PAGE_BASE + RUN_STAT_INTS) + 1);
  doInterrupt(vec & 0xFF, false, -1, eip);
  if (fault) {
    const v = faultVec, e = faultErr;
    clearFault();
    restoreSnapshot(); restoreFlags();
    deliverException(v, e);
  }
}
