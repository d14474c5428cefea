// core.wasm entry: the exports the VMM (devices/) calls. Knows no device.
export * from "./layout";
export * from "./machine-state";
import { STATIC_SIZE, GUEST_RAM_BASE, GUEST_RAM_MAX } from "./layout";
import { SCRATCH_OK } from "./cpu/scratch";
import { setRamBytes, ramBytes } from "./cpu/paging";
import { run as cpuRun, resetCpu, setupFlat32 as cpuSetupFlat32, getRegister, setRegister, instretF64 } from "./cpu/run";

/** Prepare the core for `bytes` of guest RAM; returns 0, or a nonzero error code. */
export function init(bytes: u32): u32 {
  // The static data must fit below the run page (layout.ts); a bigger table is a build error
  // we want to see at once, not memory corruption later.
  if (<u32>__heap_base > STATIC_SIZE) return 1;
  if (!SCRATCH_OK) return 4;
  if (bytes > GUEST_RAM_MAX || (bytes & 0xFFF) != 0) return 2;
  if (<u64>memory.size() << 16 < <u64>GUEST_RAM_BASE + bytes) return 3;
  setRamBytes(bytes);
  resetCpu();
  return 0;
}

export function guestRamBytes(): u32 {
  return ramBytes;
}

/** Processor power-on state: real mode at F000:FFF0. */
export function reset(): void { resetCpu(); }
/** Flat 32-bit protected mode (paging off, CPL 0, IF = 0) at `eip`, for the Linux boot protocol. */
export function setupFlat32(eip: u32): void { cpuSetupFlat32(eip); }
/** 0..7 EAX..EDI, 8 EIP, 9 EFLAGS, 10..15 ES CS SS DS FS GS (read only), 16 CR0, 17 CR2, 18 CR3, 19 CR4. */
export function getReg(i: u32): u32 { return getRegister(i); }
export function setReg(i: u32, v: u32): void { setRegister(i, v); }
/** Execute up to `budget` instructions; returns an EXIT_* code (also in RUN_EXIT). */
export function run(budget: u32): u32 { return cpuRun(budget); }
/** Instructions retired since power-on. */
export function instret(): f64 { return instretF64(); }

// ---- the JIT (cpu/jit.ts; the translator is core-wasm/jit/, in the worker) -------------------
// Translated blocks import these: the state they touch directly, and the slow paths they call.
export { REGS_BASE, SEGS_BASE, SEGCHK_BASE, LF_OP_AT, LF_SIGN_AT, LF_A_AT, LF_B_AT, LF_RES_AT, LF_CIN_AT, TLB_BASE, CODE_PAGES_BASE, PAGE_GEN_BASE, SEG_STRIDE, SEG_BASE_AT, DIRTY_PAGES_BASE } from "./cpu/scratch";
// Constants translated code shares with the core (core-wasm/build/layout.ts gets them): the
// lazy-flag kinds, the segment check bits, EFLAGS bits, the JIT's "installed later" answer.
export { LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC } from "./cpu/flags";
export { CHK_FLAT, CHK_WIDE, F_CF, F_PF, F_AF, F_ZF, F_SF, F_OF } from "./cpu/state";
export { CHK_NOREAD, CHK_NOWRITE } from "./cpu/access";
export { JIT_COMPILING } from "./cpu/jit";
export { eip, stackB, instretCount } from "./cpu/state";
export { flags } from "./cpu/flags";
export { fault } from "./cpu/access";
export { readNeed, writeNeed } from "./cpu/paging";
export {
  jitExit, jitRead8, jitRead16, jitRead32, jitWrite8, jitWrite16, jitWrite32, jitRmwRead, jitRmwWrite,
  jitStep, jitCond, jitInc, jitDec, jitShift, jitInvalidate, jitSetThreshold, jitFlush, jitInstall, jitMarkCode, jitSeen, jitDecline, jitRecount, jitImulFlags,
} from "./cpu/jit";
