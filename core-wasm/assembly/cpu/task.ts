// Hardware task switching (SDM Vol. 3 §7.3) through a 32-bit TSS: JMP/CALL to a TSS or task
// gate, an interrupt through a task gate, IRET with NT=1. Linux i386 uses exactly one task: the
// double-fault handler, so a kernel stack overflow reports itself instead of triple-faulting.
import {
  eip, cpl, segSel, segBase, r32, w32, setSegCache, gdtrBase, cr0, cr3, CR0_TS, CR0_PG, CS, SS, TR, LDTR,
  F_NT,
} from "./state";
import { getFlags, setFlagsRaw } from "./flags";
import { fault, raiseException, gp } from "./access";
import { readSys, writeSys, tlbFlushNonGlobal, updateAccessMasks } from "./paging";
import { readDescriptor, descLo, descHi, descAttr, descBase, descLimit, commitSeg, loadSeg, lldt } from "./seg";

export const TASK_JMP: u32 = 0, TASK_CALL: u32 = 1, TASK_IRET: u32 = 2, TASK_INT: u32 = 3;

/** Switch to the task whose TSS selector is sel; retEip is saved as the old task's EIP. */
export function taskSwitch(sel: u32, source: u32, err: i32, retEip: u32): void {
  if ((sel & 4) != 0 || (sel & 0xFFFC) == 0) { raiseException(10, <i32>(sel & 0xFFFC)); return; }
  if (!readDescriptor(sel)) { raiseException(10, <i32>(sel & 0xFFFC)); return; }
  const lo = descLo, hi = descHi;
  const type = descAttr(hi) & 0x1F;
  const wantBusy = source == TASK_IRET;
  if (type != (wantBusy ? 0xB : 0x9)) { if (source == TASK_IRET) raiseException(10, <i32>(sel & 0xFFFC)); else gp(sel & 0xFFFC); return; }
  if ((hi & 0x8000) == 0) { raiseException(11, <i32>(sel & 0xFFFC)); return; }
  if (descLimit(lo, hi) < 0x67) { raiseException(10, <i32>(sel & 0xFFFC)); return; }
  const nb = descBase(lo, hi);
  const ob = segBase(TR);
  const oldSel = segSel(TR);

  // Save the outgoing task (SDM Figure 7-2 offsets).
  let f = getFlags();
  if (source == TASK_IRET) f &= ~F_NT;
  writeSys(ob + 0x20, 4, retEip);
  writeSys(ob + 0x24, 4, f);
  for (let i: u32 = 0; i < 8; i++) writeSys(ob + 0x28 + i * 4, 4, r32(i));
  for (let s: u32 = 0; s < 6; s++) writeSys(ob + 0x48 + s * 4, 2, segSel(s));
  if (fault) return;
  if (source == TASK_JMP || source == TASK_IRET) {
    const oa = gdtrBase + (oldSel & 0xFFF8) + 5;
    writeSys(oa, 1, readSys(oa, 1) & ~2); // old TSS no longer busy
  }
  if (source == TASK_CALL || source == TASK_INT) writeSys(nb, 2, oldSel);
  if (source != TASK_IRET) writeSys(gdtrBase + (sel & 0xFFF8) + 5, 1, ((hi >> 8) & 0xFF) | 2);
  if (fault) return;

  // Load the incoming task.
  const ncr3 = readSys(nb + 0x1C, 4);
  const neip = readSys(nb + 0x20, 4);
  let nf = readSys(nb + 0x24, 4);
  const ldt = readSys(nb + 0x60, 2);
  if (fault) return;
  if (source == TASK_CALL || source == TASK_INT) nf |= F_NT;
  setSegCache(TR, sel, nb, descLimit(lo, hi), descAttr(hi | 0x200), 0);
  if ((cr0 & CR0_PG) != 0) { cr3 = ncr3; tlbFlushNonGlobal(); }
  for (let i: u32 = 0; i < 8; i++) w32(i, readSys(nb + 0x28 + i * 4, 4));
  setFlagsRaw(nf);
  eip = neip;
  cr0 |= CR0_TS;
  lldt(ldt);
  if (fault) return;
  // CS first: its RPL is the new CPL, then the data segments are checked against it.
  const ncs = readSys(nb + 0x4C, 2);
  if (fault) return;
  if (!readDescriptor(ncs) || (descAttr(descHi) & 0x18) != 0x18) { raiseException(10, <i32>(ncs & 0xFFFC)); return; }
  commitSeg(CS, ncs, descLo, descHi);
  cpl = ncs & 3;
  updateAccessMasks();
  for (let s: u32 = 0; s < 6; s++) {
    if (s == CS) continue;
    const v = readSys(nb + 0x48 + s * 4, 2);
    if (fault) return;
    loadSeg(s, v);
    if (fault) return;
  }
  if (err >= 0) {
    // The error code goes on the new task's stack.
    const sp = r32(4) - 4;
    writeSys(segBase(SS) + sp, 4, <u32>err);
    if (fault) return;
    w32(4, sp);
  }
}
