// Segment registers and descriptor tables (SDM Vol. 3 §3.4–3.5, §5.4–5.6): descriptor reads,
// protected-mode segment loads with their privilege checks, LLDT/LTR, LAR/LSL/VERR/VERW.
import {
  cpl, pmode, gdtrBase, gdtrLimit, segBase, segLimit, segSel, segAttr, setSegCache, codeD, stackB,
  CS, SS, LDTR, TR,
} from "./state";
import { fault, raiseException, gp, CHK_NOREAD, CHK_NOWRITE, CHK_EXPDOWN, CHK_NULL } from "./access";
import { readSys, writeSys } from "./paging";

export let descLo: u32 = 0;
export let descHi: u32 = 0;

@inline export function descBase(lo: u32, hi: u32): u32 { return (lo >>> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF00_0000); }
@inline export function descLimit(lo: u32, hi: u32): u32 {
  const l = (lo & 0xFFFF) | (hi & 0xF_0000);
  return (hi & 0x80_0000) != 0 ? (l << 12) | 0xFFF : l;
}
/** Attribute word: type(0-3) S(4) DPL(5-6) P(7) AVL(12) D/B(14) G(15) — descriptor bits 40..55. */
@inline export function descAttr(hi: u32): u32 { return (hi >> 8) & 0xF0FF; }

/** Access-check bits for a loaded code/data segment. */
export function chkFor(attr: u32): u32 {
  const type = attr & 0xF;
  if ((type & 8) != 0) return CHK_NOWRITE | ((type & 2) != 0 ? 0 : CHK_NOREAD);
  return ((type & 2) != 0 ? 0 : CHK_NOWRITE) | ((type & 4) != 0 ? CHK_EXPDOWN : 0);
}

/** Read the descriptor of sel into descLo/descHi. False if outside its table (no fault raised
 *  for that; a #PF while reading the table is raised). */
export function readDescriptor(sel: u32): bool {
  const idx = sel & 0xFFF8;
  let base: u32, limit: u32;
  if ((sel & 4) != 0) {
    if ((segSel(LDTR) & 0xFFFC) == 0) return false;
    base = segBase(LDTR); limit = segLimit(LDTR);
  } else { base = gdtrBase; limit = gdtrLimit; }
  if (idx + 7 > limit) return false;
  descLo = readSys(base + idx, 4);
  descHi = readSys(base + idx + 4, 4);
  return !fault;
}
/** Linear address of sel's descriptor (after a successful readDescriptor). */
function descAddr(sel: u32): u32 {
  return ((sel & 4) != 0 ? segBase(LDTR) : gdtrBase) + (sel & 0xFFF8);
}
/** Set the accessed bit (type bit 0) in memory, as a segment load does. */
export function setAccessed(sel: u32): void {
  if ((descHi & 0x100) == 0) {
    descHi |= 0x100;
    writeSys(descAddr(sel) + 5, 1, (descHi >> 8) & 0xFF);
  }
}

/** Load the hidden cache of seg from a descriptor (no checks). */
export function commitSeg(seg: u32, sel: u32, lo: u32, hi: u32): void {
  const attr = descAttr(hi);
  setSegCache(seg, sel, descBase(lo, hi), descLimit(lo, hi), attr, chkFor(attr));
  if (seg == SS) stackB = (attr & 0x4000) != 0;
  else if (seg == CS) codeD = (attr & 0x4000) != 0;
}
/** Real-mode style load: base = sel << 4, limit and rights unchanged (SDM §20.1.1). */
export function loadSegReal(seg: u32, sel: u32): void {
  setSegCache(seg, sel, sel << 4, segLimit(seg), segAttr(seg), 0);
}

/** MOV/POP/LDS… to a data or stack segment register (SDM Vol. 3 §5.10, Vol. 2 MOV). */
export function loadSeg(seg: u32, sel: u32): void {
  sel &= 0xFFFF;
  if (!pmode) { loadSegReal(seg, sel); return; }
  if ((sel & 0xFFFC) == 0) {
    if (seg == SS) { gp(0); return; }
    setSegCache(seg, sel, 0, 0, 0, CHK_NULL);
    return;
  }
  if (!readDescriptor(sel)) { gp(sel & 0xFFFC); return; }
  const attr = descAttr(descHi);
  const type = attr & 0xF, dpl = (attr >> 5) & 3, rpl = sel & 3;
  if (seg == SS) {
    if (rpl != cpl || dpl != cpl || (attr & 0x10) == 0 || (type & 8) != 0 || (type & 2) == 0) { gp(sel & 0xFFFC); return; }
    if ((attr & 0x80) == 0) { raiseException(12, <i32>(sel & 0xFFFC)); return; }
  } else {
    if ((attr & 0x10) == 0 || (type & 0xA) == 8) { gp(sel & 0xFFFC); return; }
    if ((type & 0xC) != 0xC && (rpl > dpl || cpl > dpl)) { gp(sel & 0xFFFC); return; }
    if ((attr & 0x80) == 0) { raiseException(11, <i32>(sel & 0xFFFC)); return; }
  }
  setAccessed(sel);
  if (fault) return;
  commitSeg(seg, sel, descLo, descHi);
}

/** After a return to an outer ring: data segments the new CPL may not use become null (SDM IRET). */
export function nullInaccessible(): void {
  for (let s: u32 = 0; s < 6; s++) {
    if (s == CS || s == SS) continue;
    const attr = segAttr(s);
    const type = attr & 0xF;
    if ((segSel(s) & 0xFFFC) == 0) continue;
    const dpl = (attr >> 5) & 3;
    if (((type & 8) == 0 || (type & 4) == 0) && dpl < cpl) setSegCache(s, 0, 0, 0, 0, CHK_NULL);
  }
}

/** LLDT (SDM Vol. 2A): a GDT selector of an LDT descriptor, or null. */
export function lldt(sel: u32): void {
  if ((sel & 0xFFFC) == 0) { setSegCache(LDTR, sel, 0, 0, 0, CHK_NULL); return; }
  if ((sel & 4) != 0) { gp(sel & 0xFFFC); return; }
  if (!readDescriptor(sel)) { gp(sel & 0xFFFC); return; }
  const attr = descAttr(descHi);
  if ((attr & 0x1F) != 2) { gp(sel & 0xFFFC); return; }
  if ((attr & 0x80) == 0) { raiseException(11, <i32>(sel & 0xFFFC)); return; }
  setSegCache(LDTR, sel, descBase(descLo, descHi), descLimit(descLo, descHi), attr, 0);
}
/** LTR: an available TSS in the GDT, marked busy. */
export function ltr(sel: u32): void {
  if ((sel & 0xFFFC) == 0 || (sel & 4) != 0) { gp(sel & 0xFFFC); return; }
  if (!readDescriptor(sel)) { gp(sel & 0xFFFC); return; }
  const attr = descAttr(descHi);
  const t = attr & 0x1F;
  if (t != 9 && t != 1) { gp(sel & 0xFFFC); return; }
  if ((attr & 0x80) == 0) { raiseException(11, <i32>(sel & 0xFFFC)); return; }
  descHi |= 0x200;
  writeSys(descAddr(sel) + 5, 1, (descHi >> 8) & 0xFF);
  if (fault) return;
  setSegCache(TR, sel, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi), 0);
}

/** LAR/LSL/VERR/VERW (kind 0..3): returns the value for LAR/LSL, sets `checkOk`. */
export let checkOk: bool = false;
export function checkSelector(kind: u32, sel: u32): u32 {
  checkOk = false;
  if ((sel & 0xFFFC) == 0) return 0;
  if (!readDescriptor(sel)) return 0;
  const attr = descAttr(descHi);
  const type = attr & 0xF, dpl = (attr >> 5) & 3, rpl = sel & 3;
  const sys = (attr & 0x10) == 0;
  const conformingCode = !sys && (type & 0xC) == 0xC;
  if (!conformingCode && (dpl < cpl || dpl < rpl)) return 0;
  if (sys) {
    // LAR accepts TSS, LDT, call/task gates; LSL only those with a limit.
    const larOk = type == 1 || type == 2 || type == 3 || type == 4 || type == 5 || type == 9 || type == 0xB || type == 0xC;
    const lslOk = type == 1 || type == 2 || type == 3 || type == 9 || type == 0xB;
    if (kind == 0 && !larOk) return 0;
    if (kind == 1 && !lslOk) return 0;
    if (kind >= 2) return 0;
  } else if (kind == 2) {
    if ((type & 8) != 0 && (type & 2) == 0) return 0;
  } else if (kind == 3) {
    if ((type & 8) != 0 || (type & 2) == 0) return 0;
  }
  checkOk = true;
  if (kind == 0) return descHi & 0x00FF_FF00;
  if (kind == 1) return descLimit(descLo, descHi);
  return 0;
}
