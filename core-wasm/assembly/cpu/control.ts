// Far control transfers (SDM Vol. 2 JMP/CALL/RET/IRET, Vol. 3 §5.8): direct to code segments,
// through call gates (with the inner-stack switch and parameter copy) or to tasks (task.ts);
// far RET and IRET to the same or an outer ring; SYSENTER/SYSEXIT (§5.8.7).
import {
  eip, cpl, pmode, segSel, segBase, segAttr, stackB, r32, w32, w16, nmiBlocked, sysenterCs, sysenterEsp,
  sysenterEip, setSegCache, codeD, CS, SS, TR, ESP, ECX, EDX, F_IF, F_VM, F_RF, F_NT, F_IOPL, F_ID, F_AC,
  F_TF, F_DF, F_ARITH,
} from "./state";
import { getFlags, setFlagsRaw, flags } from "./flags";
import { fault, raiseException, gp } from "./access";
import { readSys, writeLinSlow, readLinSlow, updateAccessMasks } from "./paging";
import {
  readDescriptor, descLo, descHi, descAttr, descBase, descLimit, commitSeg, loadSegReal, setAccessed,
  nullInaccessible, chkFor,
} from "./seg";
import { pushSz, popSz, peek, spAdd, spOff } from "./stack";
import { taskSwitch, TASK_CALL, TASK_JMP, TASK_IRET } from "./task";

@inline function np(code: u32): void { raiseException(11, <i32>code); }
@inline function ts(code: u32): void { raiseException(10, <i32>code); }

/** Check a target code-segment descriptor (in descLo/descHi) for a same-ring JMP/CALL/RET. */
function codeTargetOk(sel: u32, rplMustEqual: bool): bool {
  const attr = descAttr(descHi);
  const dpl = (attr >> 5) & 3, rpl = sel & 3;
  if ((attr & 0x18) != 0x18) { gp(sel & 0xFFFC); return false; }
  if ((attr & 4) != 0) {
    if (dpl > (rplMustEqual ? rpl : cpl)) { gp(sel & 0xFFFC); return false; }
  } else if (rplMustEqual ? dpl != rpl : (rpl > cpl || dpl != cpl)) { gp(sel & 0xFFFC); return false; }
  if ((attr & 0x80) == 0) { np(sel & 0xFFFC); return false; }
  return true;
}

function setCpl(n: u32): void {
  if (n != cpl) { cpl = n; updateAccessMasks(); }
}

/** Far JMP (call=false) or CALL to sel:off; retEip is the return address for CALL. */
export function farTransfer(sel: u32, off: u32, call: bool, o32: bool, retEip: u32): void {
  sel &= 0xFFFF;
  if (!pmode) {
    if (call) { pushSz(o32, segSel(CS)); pushSz(o32, retEip); if (fault) return; }
    loadSegReal(CS, sel);
    eip = o32 ? off : off & 0xFFFF;
    return;
  }
  if ((sel & 0xFFFC) == 0) { gp(0); return; }
  if (!readDescriptor(sel)) { gp(sel & 0xFFFC); return; }
  const attr = descAttr(descHi);
  if ((attr & 0x10) != 0) {
    if (!codeTargetOk(sel, false)) return;
    const lo = descLo, hi = descHi;
    if (off > descLimit(lo, hi)) { gp(0); return; }
    if (call) { pushSz(o32, segSel(CS)); pushSz(o32, retEip); if (fault) return; }
    setAccessed(sel);
    commitSeg(CS, (sel & 0xFFFC) | cpl, lo, hi);
    eip = off;
    return;
  }
  const type = attr & 0xF;
  if (type == 0xC || type == 0x4) { callGate(sel, call, retEip); return; }
  const dpl = (attr >> 5) & 3;
  if (type == 9 || type == 5) { // available 32-bit TSS, or a task gate naming one
    if (dpl < cpl || dpl < (sel & 3)) { gp(sel & 0xFFFC); return; }
    if ((attr & 0x80) == 0) { np(sel & 0xFFFC); return; }
    taskSwitch(type == 5 ? descLo >>> 16 : sel, call ? TASK_CALL : TASK_JMP, -1, retEip);
    return;
  }
  gp(sel & 0xFFFC);
}

function callGate(gsel: u32, call: bool, retEip: u32): void {
  const gattr = descAttr(descHi);
  const gdpl = (gattr >> 5) & 3;
  if (gdpl < cpl || gdpl < (gsel & 3)) { gp(gsel & 0xFFFC); return; }
  if ((gattr & 0x80) == 0) { np(gsel & 0xFFFC); return; }
  const gate32 = (gattr & 8) != 0;
  const tsel = descLo >>> 16;
  const toff = gate32 ? (descLo & 0xFFFF) | (descHi & 0xFFFF_0000) : descLo & 0xFFFF;
  const pcount = descHi & 0x1F;
  if ((tsel & 0xFFFC) == 0) { gp(0); return; }
  if (!readDescriptor(tsel)) { gp(tsel & 0xFFFC); return; }
  const lo = descLo, hi = descHi;
  const attr = descAttr(hi);
  const dpl = (attr >> 5) & 3;
  if ((attr & 0x18) != 0x18 || dpl > cpl) { gp(tsel & 0xFFFC); return; }
  if ((attr & 0x80) == 0) { np(tsel & 0xFFFC); return; }
  const words: u32 = gate32 ? 4 : 2;
  if (!call) {
    if ((attr & 4) == 0 && dpl != cpl) { gp(tsel & 0xFFFC); return; }
    commitSeg(CS, (tsel & 0xFFFC) | cpl, lo, hi);
    eip = toff;
    return;
  }
  if ((attr & 4) == 0 && dpl < cpl) {
    const tb = segBase(TR);
    const newSp = readSys(tb + 4 + dpl * 8, 4), newSs = readSys(tb + 8 + dpl * 8, 2);
    if (fault) return;
    if ((newSs & 0xFFFC) == 0) { ts(0); return; }
    if ((newSs & 3) != dpl || !readDescriptor(newSs)) { ts(newSs & 0xFFFC); return; }
    const sLo = descLo, sHi = descHi, sattr = descAttr(sHi);
    if ((sattr & 0x1A) != 0x12 || ((sattr >> 5) & 3) != dpl) { ts(newSs & 0xFFFC); return; }
    if ((sattr & 0x80) == 0) { raiseException(12, <i32>(newSs & 0xFFFC)); return; }
    const nb = descBase(sLo, sHi), nB = (sattr & 0x4000) != 0, user = dpl == 3;
    let sp = newSp;
    const oldSs = segSel(SS), oldEsp = r32(ESP), oldBase = segBase(SS);
    sp -= words; if (!nB) sp &= 0xFFFF; writeLinSlow(nb + sp, words, oldSs, user);
    sp -= words; if (!nB) sp &= 0xFFFF; writeLinSlow(nb + sp, words, oldEsp, user);
    for (let i = <i32>pcount - 1; i >= 0; i--) {
      const src = stackB ? oldEsp + <u32>i * words : (oldEsp + <u32>i * words) & 0xFFFF;
      const v = readLinSlow(oldBase + src, words, cpl == 3);
      sp -= words; if (!nB) sp &= 0xFFFF; writeLinSlow(nb + sp, words, v, user);
    }
    sp -= words; if (!nB) sp &= 0xFFFF; writeLinSlow(nb + sp, words, segSel(CS), user);
    sp -= words; if (!nB) sp &= 0xFFFF; writeLinSlow(nb + sp, words, retEip, user);
    if (fault) return;
    commitSeg(SS, newSs, sLo, sHi);
    if (nB) w32(ESP, sp); else w16(ESP, sp);
    commitSeg(CS, (tsel & 0xFFFC) | dpl, lo, hi);
    setCpl(dpl);
  } else {
    pushSz(gate32, segSel(CS));
    pushSz(gate32, retEip);
    if (fault) return;
    commitSeg(CS, (tsel & 0xFFFC) | cpl, lo, hi);
  }
  eip = toff;
}

/** Check and load a new SS for a return to ring rpl; descriptor ends in descLo/descHi. */
function outerSsOk(ss: u32, rpl: u32): bool {
  if ((ss & 0xFFFC) == 0) { gp(0); return false; }
  if ((ss & 3) != rpl || !readDescriptor(ss)) { gp(ss & 0xFFFC); return false; }
  const a = descAttr(descHi);
  if ((a & 0x1A) != 0x12 || ((a >> 5) & 3) != rpl) { gp(ss & 0xFFFC); return false; }
  if ((a & 0x80) == 0) { raiseException(12, <i32>(ss & 0xFFFC)); return false; }
  return true;
}

/** RETF [imm16]. */
export function farReturn(o32: bool, imm: u32): void {
  const words: u32 = o32 ? 4 : 2;
  if (!pmode) {
    const ip = popSz(o32);
    const cs = popSz(o32);
    if (fault) return;
    spAdd(imm);
    loadSegReal(CS, cs & 0xFFFF);
    eip = o32 ? ip : ip & 0xFFFF;
    return;
  }
  const newEip = peek(o32, 0);
  const newCs = peek(o32, words) & 0xFFFF;
  if (fault) return;
  const rpl = newCs & 3;
  if ((newCs & 0xFFFC) == 0) { gp(0); return; }
  if (rpl < cpl || !readDescriptor(newCs)) { gp(newCs & 0xFFFC); return; }
  if (!codeTargetOk(newCs, true)) return;
  const lo = descLo, hi = descHi;
  if (rpl == cpl) {
    spAdd(2 * words + imm);
    commitSeg(CS, newCs, lo, hi);
    eip = newEip;
    return;
  }
  const newEsp = peek(o32, 2 * words + imm);
  const newSs = peek(o32, 3 * words + imm) & 0xFFFF;
  if (fault) return;
  if (!outerSsOk(newSs, rpl)) return;
  commitSeg(CS, newCs, lo, hi);
  commitSeg(SS, newSs, descLo, descHi);
  if (stackB) w32(ESP, newEsp + imm); else w16(ESP, newEsp + imm);
  eip = newEip;
  setCpl(rpl);
  nullInaccessible();
}

/** EFLAGS after POPF/IRET at privilege `atCpl` (SDM Vol. 2 POPF Table 4-16). */
export function mergeFlags(nf: u32, o32: bool, atCpl: u32, loadRf: bool): u32 {
  const old = getFlags();
  let mask: u32 = F_ARITH | F_TF | F_DF | F_NT | F_AC | F_ID;
  if (loadRf) mask |= F_RF;
  if (atCpl == 0) mask |= F_IOPL;
  if (atCpl <= ((old & F_IOPL) >> 12)) mask |= F_IF;
  if (!o32) mask &= 0xFFFF;
  return (old & ~mask) | (nf & mask);
}

/** IRET / IRETD; with NT=1 a return to the previous task. */
export function iret(o32: bool): void {
  const words: u32 = o32 ? 4 : 2;
  if (!pmode) {
    const ip = popSz(o32), cs = popSz(o32), fl = popSz(o32);
    if (fault) return;
    loadSegReal(CS, cs & 0xFFFF);
    eip = o32 ? ip : ip & 0xFFFF;
    setFlagsRaw(mergeFlags(fl, o32, 0, true));
    nmiBlocked = false;
    return;
  }
  if ((flags & F_NT) != 0) { // return to the task in the back link (SDM §7.3 IRET)
    const link = readSys(segBase(TR), 2);
    if (fault) return;
    taskSwitch(link, TASK_IRET, -1, eip);
    nmiBlocked = false;
    return;
  }
  const newEip = peek(o32, 0);
  const newCs = peek(o32, words) & 0xFFFF;
  const newFl = peek(o32, 2 * words);
  if (fault) return;
  const rpl = newCs & 3;
  if ((newCs & 0xFFFC) == 0) { gp(0); return; }
  if (rpl < cpl || !readDescriptor(newCs)) { gp(newCs & 0xFFFC); return; }
  if (!codeTargetOk(newCs, true)) return;
  const lo = descLo, hi = descHi;
  const f = mergeFlags(newFl & ~F_VM, o32, cpl, true);
  if (rpl == cpl) {
    spAdd(3 * words);
    commitSeg(CS, newCs, lo, hi);
    eip = newEip;
    setFlagsRaw(f);
    nmiBlocked = false;
    return;
  }
  const newEsp = peek(o32, 3 * words);
  const newSs = peek(o32, 4 * words) & 0xFFFF;
  if (fault) return;
  if (!outerSsOk(newSs, rpl)) return;
  commitSeg(CS, newCs, lo, hi);
  commitSeg(SS, newSs, descLo, descHi);
  if (stackB) w32(ESP, newEsp); else w16(ESP, newEsp);
  eip = newEip;
  setFlagsRaw(f);
  setCpl(rpl);
  nullInaccessible();
  nmiBlocked = false;
}

// Flat descriptor caches SYSENTER/SYSEXIT load (SDM Vol. 2B SYSENTER "Operation").
const FLAT_CODE0: u32 = 0xC09B, FLAT_DATA0: u32 = 0xC093, FLAT_CODE3: u32 = 0xC0FB, FLAT_DATA3: u32 = 0xC0F3;

export function sysenter(): void {
  if (!pmode || (sysenterCs & 0xFFFC) == 0) { gp(0); return; }
  setFlagsRaw(getFlags() & ~(F_VM | F_IF | F_RF));
  const cs = sysenterCs & 0xFFFC;
  setSegCache(CS, cs, 0, 0xFFFF_FFFF, FLAT_CODE0, chkFor(FLAT_CODE0));
  setSegCache(SS, cs + 8, 0, 0xFFFF_FFFF, FLAT_DATA0, chkFor(FLAT_DATA0));
  codeD = true; stackB = true;
  setCpl(0);
  w32(ESP, sysenterEsp);
  eip = sysenterEip;
}
export function sysexit(): void {
  if (!pmode || cpl != 0 || (sysenterCs & 0xFFFC) == 0) { gp(0); return; }
  const cs = sysenterCs & 0xFFFC;
  setSegCache(CS, (cs + 16) | 3, 0, 0xFFFF_FFFF, FLAT_CODE3, chkFor(FLAT_CODE3));
  setSegCache(SS, (cs + 24) | 3, 0, 0xFFFF_FFFF, FLAT_DATA3, chkFor(FLAT_DATA3));
  codeD = true; stackB = true;
  setCpl(3);
  w32(ESP, r32(ECX));
  eip = r32(EDX);
}
