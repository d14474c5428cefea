// Sub-layout of CORE_SCRATCH (layout.ts): the core's private tables, as chained constants.
//
//   CORE_SCRATCH_BASE ┌─────────────────────────────┐
//                     │ REGS   8 × u32 GPRs + snap  │ register file, indexable by ModRM number
//                     │ SEGS   8 × 16 B             │ ES CS SS DS FS GS LDTR TR hidden caches
//   TLB_BASE (4 KiB)  ├─────────────────────────────┤
//                     │ TLB    1 Mi × u32           │ one entry per linear page (see paging.ts)
//   TLB_LIST_BASE     ├─────────────────────────────┤
//                     │ TLB_LIST 64 Ki × u32        │ pages filled since the last flush
//                     └─────────────────────────────┘ SCRATCH_END ≤ CORE_SCRATCH_BASE + SIZE
import { CORE_SCRATCH_BASE, CORE_SCRATCH_SIZE } from "../layout";

export const REGS_BASE: u32 = CORE_SCRATCH_BASE;
export const REGS_SIZE: u32 = 0x20;
// Copy of the GPRs taken at each instruction boundary; restored when the instruction faults,
// so handlers may write GPRs before a later access faults (precise exceptions).
export const SNAP_BASE: u32 = REGS_BASE + REGS_SIZE;
export const SNAP_SIZE: u32 = 0x20;
// Segment hidden caches: selector, base, limit, attr (descriptor bits 40..55 as (hi >> 8) & 0xF0FF).
export const SEGS_BASE: u32 = SNAP_BASE + SNAP_SIZE;
export const SEG_STRIDE: u32 = 0x10;
export const SEGS_SIZE: u32 = 8 * SEG_STRIDE;
// Per-segment access-check bits (u32 each), see seg.ts CHK_*.
export const SEGCHK_BASE: u32 = SEGS_BASE + SEGS_SIZE;
export const SEGCHK_SIZE: u32 = 8 * 4;

export const TLB_BASE: u32 = CORE_SCRATCH_BASE + 0x1000;
export const TLB_SIZE: u32 = 0x10_0000 * 4;
export const TLB_LIST_BASE: u32 = TLB_BASE + TLB_SIZE;
export const TLB_LIST_ENTRIES: u32 = 0x1_0000;
export const TLB_LIST_SIZE: u32 = TLB_LIST_ENTRIES * 4;

export const SCRATCH_END: u32 = TLB_LIST_BASE + TLB_LIST_SIZE;
// Checked by init(): the sub-layout must fit in CORE_SCRATCH.
export const SCRATCH_OK: bool = SCRATCH_END <= CORE_SCRATCH_BASE + CORE_SCRATCH_SIZE;
