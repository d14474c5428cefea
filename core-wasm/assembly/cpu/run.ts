// The step loop: prefixes, instruction boundaries (interrupts, NMI, TF), faults, exits.
// Also processor reset (SDM Vol. 3 §9.1.1 Table 9-1) and the flat 32-bit boot state.
import {
  RUN_PAGE_BASE, RUN_INTR, RUN_NMI, RUN_EXIT, EXIT_BUDGET, EXIT_HLT,
} from "../layout";
import {
  eip, instrEip, codeD, cpl, cr0, cr2, cr3, cr4, pmode, stackB, shadow, nmiBlocked, instretCount,
  gdtrBase, gdtrLimit, idtrBase, idtrLimit, dr0, dr1, dr2, dr3, dr6, dr7, sysenterCs, sysenterEsp, sysenterEip,
  snapshot, setSegCache, segSel, r32, w32, fetchEip, fetchLen, fetchHost, EDX, ES, CS, SS, DS, FS, GS, LDTR, TR, F_IF, F_TF,
} from "./state";
import { REGS_BASE } from "./scratch";
import { flags, saveFlags, setFlagsRaw, getFlags, boundarySaved, saveBoundary, clearBoundary } from "./flags";
import { fault, clearFault, gp, ud, CHK_NULL } from "./access";
import { resetPrefixes, setO32, setA32, setSegOvr, setRep, o32, a32 } from "./decode";
import { opcodeLength } from "./oplen";
import { fetch8 } from "./decode";
import { exec } from "./exec";
import { handleFault, deliverExternal, deliverException } from "./interrupt";
import { msrReset } from "./msr";
import { runExit, NO_EXIT, storeInstret, tlbFlushAll, updateAccessMasks } from "./paging";
import { chkFor } from "./seg";
import { fpuReset } from "../fpu/index";
import { jitThreshold, jitEnter, jitFlush } from "./jit";
import { OP_INFO, OP_LOCK, OPI_PREFIX, OPI_PRECISE, OPI_BRANCH } from "../../build/opcode-tables";

@external("vmm", "intack") declare function vmmIntack(): i32;

/** Opcode byte of the last instruction step() ran. */
let lastOp: u32 = 0;

/** One instruction at EIP: prefixes, then exec(). The GPRs and flags are saved first (for a
 *  fault to roll back to) only when the opcode table says the handler may change them before
 *  its last possible fault; otherwise they are still the boundary's if it faults.
 *  Out of line for the JIT's single steps; run() has its own copy (stepInline). */
export function step(): void { stepInline(); }

/** No opcode to execute: the prefixes ended the instruction (#GP, #UD or a fetch fault). */
const OP_DONE: u32 = 0x100;

/** step() with exec() inlined: the run loop's dispatch costs no call. */
@inline function stepInline(): void {
  resetPrefixes(codeD);
  clearBoundary();
  let b = fetch8();
  lastOp = b;
  const info = <u32>load<u8>(OP_INFO + b);
  if ((info & (OPI_PREFIX | OPI_PRECISE)) != OPI_PRECISE) { // not the common case
    // 0F: the table's answer is the second byte's (a tenth of all instructions; most precise).
    if (b != 0x0F) {
      b = prefixes(b, info);
      if (b == OP_DONE) return;
    } else if (!nextPrecise0F()) saveFor(b);
  }
  exec(b);
}

/** The byte at EIP is in the fetch window and a two-byte opcode 0F xx the table marks precise. */
@inline function nextPrecise0F(): bool {
  const o = eip - fetchEip;
  return o < fetchLen && (load<u8>(OP_INFO + 0x100 + load<u8>(fetchHost + o)) & OPI_PRECISE) != 0;
}

/** The prefixes of an instruction whose first byte is b, and the boundary save before an
 *  opcode that is not precise. Returns the opcode byte, or OP_DONE when the instruction
 *  already ended. */
function prefixes(first: u32, info: u32): u32 {
  let b = first;
  if ((info & OPI_PREFIX) == 0) { saveFor(b); return b; }
  let lock = false;
  for (let n = 0; ; n++) {
    switch (b) {
      case 0x26: setSegOvr(ES); break;
      case 0x2E: setSegOvr(CS); break;
      case 0x36: setSegOvr(SS); break;
      case 0x3E: setSegOvr(DS); break;
      case 0x64: setSegOvr(FS); break;
      case 0x65: setSegOvr(GS); break;
      case 0x66: setO32(!codeD); break;
      case 0x67: setA32(!codeD); break;
      case 0xF0: lock = true; break; // one vCPU: every RMW is atomic already
      case 0xF2: case 0xF3: setRep(b); break;
      default:
        // 15 bytes at most (SDM Vol. 2 §2.3.11): only reachable with four or more prefixes.
        if (n >= 4) {
          eip--;
          const len = opcodeLength(o32, a32);
          if (fault) return OP_DONE;
          eip++;
          if (<u32>n + len > 15) { gp(0); return OP_DONE; }
        }
        if (lock && !lockValid(b)) { if (!fault) ud(); return OP_DONE; }
        lastOp = b;
        saveFor(b);
        return b;
    }
    if (fault) return OP_DONE;
    if (n >= 14) { gp(0); return OP_DONE; } // 15 prefixes: longer than 15 bytes whatever follows
    b = fetch8();
  }
  return OP_DONE; // not reached
}

/** Save the boundary state unless opcode b (0F: the next byte's) is precise. Peeks only. */
function saveFor(b: u32): void {
  if (b == 0x0F) {
    const o = eip - fetchEip;
    if (o < fetchLen && (load<u8>(OP_INFO + 0x100 + load<u8>(fetchHost + o)) & OPI_PRECISE) != 0) return;
  } else if ((load<u8>(OP_INFO + b) & OPI_PRECISE) != 0) return;
  saveBoundary();
}

/** LOCK is only valid on a read-modify-write of memory by the instructions the opcode table
 *  marks (SDM Vol. 2A LOCK); otherwise #UD. Peeks at the opcode and ModRM without consuming them. */
function lockValid(b: u32): bool {
  const save = eip;
  let op = b;
  if (b == 0x0F) op = 0x100 | fetch8();
  const m = fetch8();
  eip = save;
  if (fault) return true; // the fetch fault is reported as such
  if ((m >> 6) == 3) return false;
  return ((<u32>load<u8>(OP_LOCK + op) >> ((m >> 3) & 7)) & 1) != 0;
}

/** The last run() ended in HLT: the guest is idle, waking for a timer tick or an interrupt and
 *  going back to sleep after a few thousand instructions. The JIT is left out of such a run:
 *  it could not speed that up, and its block lookups, cache-cold after every sleep, cost more
 *  than they save (measured: an idle guest's host CPU 2.4 % of a core with them, 1.7 % without). */
let lastRunHalted = false;

/** Execute up to `budget` instructions; returns EXIT_* (also stored at RUN_EXIT). */
export function run(budget: u32): u32 {
  runExit = NO_EXIT;
  const rp = RUN_PAGE_BASE;
  const jitOn = jitThreshold != 0 && !lastRunHalted;
  let jitTry = true; // EIP may start a block: run() was entered, or control was transferred
  for (let n: u32 = 0; n < budget; n++) {
    // ---- instruction boundary ----
    // One test for the common case (no shadow, no TF, neither the INTR nor the NMI line up):
    // the two lines are adjacent u32s of the run page, read as one u64.
    let tf = false;
    if (shadow || (flags & F_TF) != 0 || load<u64>(rp + RUN_INTR) != 0) {
      if (shadow) shadow = false;
      else if (load<u32>(rp + RUN_NMI) != 0 && !nmiBlocked) {
        store<u32>(rp + RUN_NMI, 0);
        nmiBlocked = true;
        snapshot(); saveFlags();
        deliverExternal(2); jitTry = true;
        if (runExit != NO_EXIT) break;
      } else if ((flags & F_IF) != 0 && load<u32>(rp + RUN_INTR) != 0) {
        storeInstret();
        const vec = <u32>vmmIntack();
        snapshot(); saveFlags();
        deliverExternal(vec); jitTry = true;
        if (runExit != NO_EXIT) break;
      }
      tf = (flags & F_TF) != 0;
    }
    if (jitOn && jitTry && !tf && codeD) {
      // A translated block retires several instructions (jit.ts); its faults arrive with the
      // registers as they were before the faulting instruction.
      const done = jitEnter(budget - n);
      if (done != 0 || fault) {
        n += fault ? done : done - 1; // a faulting attempt uses a budget step, as interpreted
        if (fault) { snapshot(); saveFlags(); instrEip = eip; handleFault(); }
        if (runExit != NO_EXIT) break;
        continue;
      }
    }
    instrEip = eip;
    stepInline();
    if (jitOn) jitTry = (load<u8>(OP_INFO + lastOp) & OPI_BRANCH) != 0;
    if (fault) { saveBoundary(); handleFault(); jitTry = true; }
    else {
      instretCount++;
      // Single-step trap after the instruction (SDM Vol. 3 §17.3.1.4), but not after MOV SS /
      // POP SS: their shadow holds it back to the next instruction (§6.8.3). STI's does not.
      if (tf && !(shadow && (lastOp == 0x8E || lastOp == 0x17))) {
        dr6 |= 0x4000;
        snapshot(); saveFlags(); instrEip = eip;
        deliverException(1, -1);
      }
    }
    if (runExit != NO_EXIT) break;
  }
  const r = runExit == NO_EXIT ? EXIT_BUDGET : runExit;
  lastRunHalted = r == EXIT_HLT;
  store<u32>(rp + RUN_EXIT, r);
  storeInstret();
  return r;
}

const REAL_DATA: u32 = 0x0093; // present, DPL 0, read/write data, accessed

/** Power-on state (SDM Vol. 3 Table 9-1). */
export function resetCpu(): void {
  memory.fill(REGS_BASE, 0, 32);
  w32(EDX, 0x0652);
  eip = 0xFFF0;
  cr0 = 0x6000_0010; cr2 = 0; cr3 = 0; cr4 = 0;
  pmode = false; cpl = 0;
  setFlagsRaw(2);
  for (let s: u32 = 0; s < 6; s++) setSegCache(s, 0, 0, 0xFFFF, REAL_DATA, 0);
  setSegCache(CS, 0xF000, 0xFFFF_0000, 0xFFFF, 0x009B, 0);
  setSegCache(LDTR, 0, 0, 0xFFFF, 0x0082, 0);
  setSegCache(TR, 0, 0, 0xFFFF, 0x008B, 0);
  gdtrBase = 0; gdtrLimit = 0xFFFF; idtrBase = 0; idtrLimit = 0xFFFF;
  codeD = false; stackB = false;
  dr0 = 0; dr1 = 0; dr2 = 0; dr3 = 0; dr6 = 0xFFFF_0FF0; dr7 = 0x400;
  sysenterCs = 0; sysenterEsp = 0; sysenterEip = 0;
  msrReset();
  nmiBlocked = false; shadow = false;
  clearFault();
  tlbFlushAll();
  updateAccessMasks();
  fpuReset();
  jitFlush();
}

const FLAT_CODE: u32 = 0xC09B, FLAT_DATA: u32 = 0xC093;

/** Flat 32-bit protected mode, paging off, as the Linux boot protocol enters the kernel. */
export function setupFlat32(entry: u32): void {
  cr0 = 0x11; // PE | ET
  pmode = true; cpl = 0;
  setFlagsRaw(2);
  setSegCache(CS, 0x10, 0, 0xFFFF_FFFF, FLAT_CODE, chkFor(FLAT_CODE));
  for (let s: u32 = 0; s < 6; s++) if (s != CS) setSegCache(s, 0x18, 0, 0xFFFF_FFFF, FLAT_DATA, chkFor(FLAT_DATA));
  setSegCache(LDTR, 0, 0, 0, 0, CHK_NULL);
  setSegCache(TR, 0, 0, 0x67, 0x008B, 0);
  gdtrBase = 0; gdtrLimit = 0; idtrBase = 0; idtrLimit = 0;
  codeD = true; stackB = true;
  eip = entry;
  shadow = false;
  clearFault();
  tlbFlushAll();
  updateAccessMasks();
}

/** 0..7 GPRs, 8 EIP, 9 EFLAGS, 10..15 ES CS SS DS FS GS, 16 CR0, 17 CR2, 18 CR3, 19 CR4. */
export function getRegister(i: u32): u32 {
  if (i < 8) return r32(i);
  switch (i) {
    case 8: return eip;
    case 9: return getFlags();
    case 16: return cr0;
    case 17: return cr2;
    case 18: return cr3;
    case 19: return cr4;
    default: return i < 16 ? segSel(i - 10) : 0;
  }
}
export function setRegister(i: u32, v: u32): void {
  if (i < 8) { w32(i, v); return; }
  switch (i) {
    case 8: eip = v; break;
    case 9: setFlagsRaw(v); break;
    case 16: cr0 = v; pmode = (v & 1) != 0; tlbFlushAll(); break;
    case 17: cr2 = v; break;
    case 18: cr3 = v; tlbFlushAll(); break;
    case 19: cr4 = v; tlbFlushAll(); break;
    default: break;
  }
}
export function instretF64(): f64 { return <f64>instretCount; }
