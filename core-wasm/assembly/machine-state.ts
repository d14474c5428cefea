// What a snapshot (devices/state/) reads and writes of the vCPU, at a run() boundary: the
// architectural state's globals, exported by name so that the TypeScript side's field table
// (devices/state/cpu.ts) names them — nothing is packed by hand here. The GPRs and segment
// caches live in CORE_SCRATCH (REGS_BASE, SEGS_BASE, SEGCHK_BASE, already exported); the x87
// registers in static data, reached through fpuReg*. The decoder's and the FPU's per-instruction
// temporaries are dead between run() calls and are not state. What is derived from the state —
// the TLB, the fetch window, the access masks, the JIT's blocks — is dropped by stateLoaded().
export {
  instrEip, cr0, cr2, cr3, cr4, cpl, pmode, codeD, gdtrBase, gdtrLimit, idtrBase, idtrLimit,
  dr0, dr1, dr2, dr3, dr6, dr7, sysenterCs, sysenterEsp, sysenterEip, tscOffset, nmiBlocked, shadow,
} from "./cpu/state";
export { flags } from "./cpu/flags";
export { fpuCW, fpuSW, fpuTop, fpuEmpty, fpuFIP, fpuFCS, fpuFOP, fpuFDP, fpuFDS } from "./fpu/state";
import { physMant, physSexp, physSetRaw } from "./fpu/state";
import { fpuEmpty } from "./fpu/state";
import { tlbFlushAll, updateAccessMasks } from "./cpu/paging";
import { clearFault } from "./cpu/access";
import { jitFlush } from "./cpu/jit";
import { ramBytes } from "./cpu/paging";
import { GUEST_RAM_BASE } from "./layout";
import { DIRTY_PAGES_BASE } from "./cpu/scratch";

/** Physical x87 register p's significand (64 bits, explicit integer bit). */
export function fpuRegMant(p: u32): u64 { return physMant(p & 7); }
/** Physical x87 register p's sign and exponent (16 bits). */
export function fpuRegSexp(p: u32): u32 { return physSexp(p & 7); }
/** Store physical register p's 80-bit image; its tag comes from fpuEmpty, loaded separately. */
export function fpuRegSet(p: u32, sexp: u32, mant: u64): void {
  const empty = fpuEmpty;
  physSetRaw(p & 7, sexp, mant);
  fpuEmpty = empty;
}

/** The state was just written from a snapshot: drop everything derived from the old one. */
export function stateLoaded(): void {
  clearFault();
  dirtyPagesClear();
  updateAccessMasks();
  jitFlush();
}

/** Guest page `page` holds only zero bytes (a snapshot stores no such page); true past RAM. */
export function ramPageIsZero(page: u32): bool {
  if (page >= ramBytes >>> 12) return true;
  const start: usize = GUEST_RAM_BASE + (<usize>page << 12);
  for (let p = start; p < start + 4096; p += 32) {
    if ((load<u64>(p) | load<u64>(p, 8) | load<u64>(p, 16) | load<u64>(p, 24)) != 0) return false;
  }
  return true;
}

/**
 * A snapshot was taken (or loaded): no page has been written since. The TLB is flushed too, so
 * the next write to any page refills its entry and marks it again (paging.ts writeFill).
 */
export function dirtyPagesClear(): void {
  memory.fill(DIRTY_PAGES_BASE, 0, ramBytes >>> 12);
  tlbFlushAll();
}
