// Sub-layout of CORE_SCRATCH (layout.ts): the core's private tables, as chained constants.
//
//   CORE_SCRATCH_BASE ┌─────────────────────────────┐
//                     │ REGS   8 × u32 GPRs + snap  │ register file, indexable by ModRM number
//                     │ SEGS   8 × 16 B             │ ES CS SS DS FS GS LDTR TR hidden caches
//                     │ SEGCHK, lazy flags          │ segment check bits, last ALU result
//   TLB_BASE (4 KiB)  ├─────────────────────────────┤
//                     │ TLB    1 Mi × u32           │ one entry per linear page (see paging.ts)
//   TLB_LIST_BASE     ├─────────────────────────────┤
//                     │ TLB_LIST 64 Ki × u32        │ pages filled since the last flush
//   JIT_MAP_BASE      ├─────────────────────────────┤
//                     │ JIT map, code pages, gens,  │ translated blocks (jit.ts)
//                     │ chain cache                 │
//   DIRTY_PAGES_BASE  ├─────────────────────────────┤
//                     │ 1 byte per guest page       │ written since the last snapshot
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
export const SEG_STRIDE: u32 = 0x10; // selector, base, limit, attributes: u32 each
export const SEG_BASE_AT: u32 = 4;
export const SEGS_SIZE: u32 = 8 * SEG_STRIDE;
// Per-segment access-check bits (u32 each), see seg.ts CHK_*.
export const SEGCHK_BASE: u32 = SEGS_BASE + SEGS_SIZE;
export const SEGCHK_SIZE: u32 = 8 * 4;
// The lazy arithmetic flags (flags.ts), u32 each. In memory, not in wasm globals: translated
// code is another module and reaches a core global only through an import, which V8 accesses
// through a pointer (two memory operations); a store to a constant address is one. Kind and
// sign bit are adjacent and 8-aligned, so translated code sets both with one i64 store.
export const LAZY_BASE: u32 = SEGCHK_BASE + SEGCHK_SIZE;
export const LF_OP_AT: u32 = LAZY_BASE;
export const LF_SIGN_AT: u32 = LAZY_BASE + 4;
export const LF_A_AT: u32 = LAZY_BASE + 8;
export const LF_B_AT: u32 = LAZY_BASE + 12;
export const LF_RES_AT: u32 = LAZY_BASE + 16;
export const LF_CIN_AT: u32 = LAZY_BASE + 20;
export const LAZY_SIZE: u32 = 24;

export const TLB_BASE: u32 = CORE_SCRATCH_BASE + 0x1000;
export const TLB_SIZE: u32 = 0x10_0000 * 4;
export const TLB_LIST_BASE: u32 = TLB_BASE + TLB_SIZE;
export const TLB_LIST_ENTRIES: u32 = 0x1_0000;
export const TLB_LIST_SIZE: u32 = TLB_LIST_ENTRIES * 4;

// The JIT (jit.ts): blocks by physical address, and which physical pages hold translated code.
export const JIT_MAP_BASE: u32 = TLB_LIST_BASE + TLB_LIST_SIZE;
// Set-associative (jit.ts find). Small enough (512 KiB) to stay in the host's
// L2 cache: a lookup happens at every control transfer, and in an idle guest every one of them
// would otherwise miss the cache (measured: 4 MiB made an idle guest cost 0.8 % of a core more).
export const JIT_MAP_BITS: u32 = 15;
export const JIT_MAP_ENTRIES: u32 = 1 << JIT_MAP_BITS;
export const JIT_ENTRY: u32 = 16; // key (phys EIP), page generation, function index, hit count
export const JIT_MAP_SIZE: u32 = JIT_MAP_ENTRIES * JIT_ENTRY;
/** One byte per guest physical page: 1 while translated blocks read from that page. */
export const CODE_PAGES_BASE: u32 = JIT_MAP_BASE + JIT_MAP_SIZE;
export const CODE_PAGES_SIZE: u32 = 0x8_0000; // GUEST_RAM_MAX / 4 KiB, rounded up
/** u32 per guest physical page, bumped when a write reaches a code page: blocks compiled
 *  from an older generation are stale. */
export const PAGE_GEN_BASE: u32 = CODE_PAGES_BASE + CODE_PAGES_SIZE;
export const PAGE_GEN_SIZE: u32 = CODE_PAGES_SIZE * 4;

/** chain()'s cache of the regions it went on to (jit.ts translated), direct-mapped by EIP:
 *  EIP, its TLB entry, the JIT's epoch and the function, u32 each. 16 KiB: in the L1/L2 cache,
 *  where the map's set and the page's generation were the two loads chain() waited on most. */
export const CHAIN_CACHE_BASE: u32 = PAGE_GEN_BASE + PAGE_GEN_SIZE;
export const CHAIN_CACHE_BITS: u32 = 10;
export const CHAIN_CACHE_SIZE: u32 = (1 << CHAIN_CACHE_BITS) * 16;

/** u32 per guest physical page: which TLB entry grants a direct write to it (paging.ts T_NC):
 *  0 none, the linear page number + 1 of the one, or NC_MANY. When the page comes to hold
 *  translated code, that grant is taken back. */
export const NC_LIN_BASE: u32 = CHAIN_CACHE_BASE + CHAIN_CACHE_SIZE;
export const NC_LIN_SIZE: u32 = CODE_PAGES_SIZE * 4;
export const NC_MANY: u32 = 0xFFFF_FFFF;

/** One byte per guest physical page: 1 once the page may have been written since the last
 *  snapshot (paging.ts marks it where a write is granted through a TLB entry, ncGrant; the
 *  devices' DMA marks it from TypeScript). An incremental snapshot stores only these pages. */
export const DIRTY_PAGES_BASE: u32 = NC_LIN_BASE + NC_LIN_SIZE;
export const DIRTY_PAGES_SIZE: u32 = CODE_PAGES_SIZE;

export const SCRATCH_END: u32 = DIRTY_PAGES_BASE + DIRTY_PAGES_SIZE;
// Checked by init(): the sub-layout must fit in CORE_SCRATCH.
export const SCRATCH_OK: bool = SCRATCH_END <= CORE_SCRATCH_BASE + CORE_SCRATCH_SIZE && LAZY_BASE + LAZY_SIZE <= TLB_BASE;
