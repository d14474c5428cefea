// Linear → physical translation (SDM Vol. 3 §4.3, 32-bit paging with PSE and PGE), the TLB,
// and physical accesses (RAM directly, anything at or above guestRamBytes as an MMIO trap).
//
// TLB: one u32 per linear page in CORE_SCRATCH, 0 = empty; otherwise the physical page
// (bits 31..12) plus T_* bits that say which accesses may take the fast path. The write bits
// are only set once the PTE's dirty bit is set, so the first write still walks and sets D.
// A list of filled pages makes a CR3 flush cost O(entries used), not O(1 Mi).
import {
  GUEST_RAM_BASE, RUN_PAGE_BASE, TRAP_KIND, TRAP_WRITE, TRAP_SIZE, TRAP_ADDR, TRAP_DATA, TRAP_PIO, TRAP_MMIO,
  RUN_INSTRET_LO, RUN_INSTRET_HI, RUN_STAT_MMIO, RUN_STAT_PIO, RUN_STAT_TLB_MISS, RUN_REQUEST,
} from "../layout";
import { TLB_BASE, TLB_SIZE, TLB_LIST_BASE, TLB_LIST_ENTRIES, CODE_PAGES_BASE, NC_LIN_BASE, NC_MANY, DIRTY_PAGES_BASE } from "./scratch";
import { codePageWritten, setJitExit } from "./jit";
import { cr0, cr3, cr4, cpl, CR0_PG, CR0_WP, CR4_PSE, CR4_PGE, instretCount, cr2, fetchFlush } from "./state";
import { raiseException, fault } from "./access";

@external("vmm", "trap") declare function vmmTrap(): void;

export const T_V: u32 = 1, T_RAM: u32 = 2, T_UR: u32 = 4, T_UW: u32 = 8, T_SW: u32 = 0x10, T_G: u32 = 0x20;
/** The page holds no translated code, so a write may go straight to RAM (the JIT need not
 *  hear of it). Granted at the first write through the entry (ncGrant), taken back when the
 *  page comes to hold code (ncRevoke): every fast-path store, the interpreter's and translated
 *  code's, tests it with the permission bits instead of loading the page's code byte. */
export const T_NC: u32 = 0x40;
const SUP_R: u32 = T_V | T_RAM, SUP_W: u32 = T_V | T_RAM | T_SW;
const USR_R: u32 = T_V | T_RAM | T_UR, USR_W: u32 = T_V | T_RAM | T_UW;

export let ramBytes: u32 = 0;
/** TLB bits a data read / write at the current CPL needs for the fast path. */
export let readNeed: u32 = SUP_R;
export let writeNeed: u32 = SUP_W | T_NC;
let tlbCount: u32 = 0; // non-global entries filled since the last flush (TLB_LIST)
let tlbOverflow: bool = false;
/** Why run() must return after this instruction (EXIT_*), or NO_EXIT. Set by a device's
 *  RUN_REQUEST (checked after each trap), HLT and triple faults. */
export const NO_EXIT: u32 = 0xFFFF_FFFF;
export let runExit: u32 = NO_EXIT;

export function setRamBytes(n: u32): void { ramBytes = n; }

/** Recompute the fast-path masks after a CPL change (CPL 3 = user, SDM §4.6). */
export function updateAccessMasks(): void {
  if (cpl == 3) { readNeed = USR_R; writeNeed = USR_W | T_NC; } else { readNeed = SUP_R; writeNeed = SUP_W | T_NC; }
  fetchFlush();
}

// ---- TLB maintenance ---------------------------------------------------------------------
export function tlbFlushAll(): void {
  memory.fill(TLB_BASE, 0, TLB_SIZE);
  memory.fill(NC_LIN_BASE, 0, ((ramBytes + 0xFFF) >>> 12) << 2);
  tlbCount = 0; tlbOverflow = false; fetchFlush();
}
/** A write went through the TLB entry e of lin (it grants the write): if the page is RAM
 *  without translated code, let later writes through it take the fast path. Returns the
 *  physical address. */
function ncGrant(lin: u32, e: u32): u32 {
  const pg = e >>> 12;
  if ((e & T_RAM) == 0) return (e & 0xFFFF_F000) | (lin & 0xFFF);
  store<u8>(DIRTY_PAGES_BASE + pg, 1); // written since the last snapshot
  if (load<u8>(CODE_PAGES_BASE + pg) == 0) {
    store<u32>(TLB_BASE + ((lin >>> 12) << 2), e | T_NC);
    // Remember the entry; a second one still granting is "many" (ncRevoke flushes them all).
    const at = NC_LIN_BASE + (pg << 2), r = load<u32>(at), mine = (lin >>> 12) + 1;
    if (r == 0 || r == mine) store<u32>(at, mine);
    else if (r != NC_MANY) {
      const old = load<u32>(TLB_BASE + ((r - 1) << 2));
      store<u32>(at, (old & T_NC) != 0 && (old >>> 12) == pg ? NC_MANY : mine);
    }
  }
  return (e & 0xFFFF_F000) | (lin & 0xFFF);
}
/** Physical page pg now holds translated code (jit.ts jitMarkCode): no TLB entry may let a
 *  write past the JIT any more. */
export function ncRevoke(pg: u32): void {
  const at = NC_LIN_BASE + (pg << 2), r = load<u32>(at);
  if (r == 0) return;
  store<u32>(at, 0);
  if (r == NC_MANY) { tlbFlushAll(); return; }
  const p = TLB_BASE + ((r - 1) << 2), e = load<u32>(p);
  if ((e >>> 12) == pg) store<u32>(p, e & ~T_NC);
}
/** MOV CR3: drop the non-global entries. Global ones (T_G, only set with CR4.PGE) are never
 *  listed, so a context switch costs O(user pages touched), not O(kernel pages). */
export function tlbFlushNonGlobal(): void {
  if (tlbOverflow) { tlbFlushAll(); return; }
  for (let i: u32 = 0; i < tlbCount; i++) {
    const p = TLB_BASE + (load<u32>(TLB_LIST_BASE + (i << 2)) << 2);
    if ((load<u32>(p) & T_G) == 0) store<u32>(p, 0);
  }
  tlbCount = 0; fetchFlush();
}
export function tlbInvlpg(lin: u32): void {
  store<u32>(TLB_BASE + ((lin >>> 12) << 2), 0);
  fetchFlush();
}
@inline function tlbFill(lin: u32, e: u32): void {
  const p = TLB_BASE + ((lin >>> 12) << 2);
  const old = load<u32>(p);
  // List the entry unless it is global; a listed page refilled as global is skipped by the flush.
  if ((e & T_G) == 0 && (old == 0 || (old & T_G) != 0)) {
    if (tlbCount < TLB_LIST_ENTRIES) { store<u32>(TLB_LIST_BASE + (tlbCount << 2), lin >>> 12); tlbCount++; }
    else tlbOverflow = true;
  }
  store<u32>(p, e);
}

// ---- written pages (incremental snapshots) ------------------------------------------------
// A store on the fast path does nothing extra: it needs T_NC, which only ncGrant sets, at the
// first write through an entry (and every write to a page holding code comes through it), so
// ncGrant marks the page in DIRTY_PAGES. A snapshot clears the marks and flushes the TLB
// (machine-state.ts dirtyPagesClear), so the next write to any page is granted, and marks, again.
/** The page walk sets A/D bits in a page table without a TLB entry for it: mark that page. */
@inline function walkWrote(p: u32): void {
  if (p < ramBytes) store<u8>(DIRTY_PAGES_BASE + (p >>> 12), 1);
}

// ---- traps ---------------------------------------------------------------------------------
export function storeInstret(): void {
  store<u32>(RUN_PAGE_BASE + RUN_INSTRET_LO, <u32>instretCount);
  store<u32>(RUN_PAGE_BASE + RUN_INSTRET_HI, <u32>(instretCount >> 32));
}
/** Fill the trap record and call the VMM synchronously; returns TRAP_DATA for reads. */
export function trap(kind: u32, write: bool, sz: u32, addr: u32, data: u32): u32 {
  const rp = RUN_PAGE_BASE;
  store<u32>(rp + TRAP_KIND, kind);
  store<u32>(rp + TRAP_WRITE, write ? 1 : 0);
  store<u32>(rp + TRAP_SIZE, sz);
  store<u32>(rp + TRAP_ADDR, addr);
  store<u32>(rp + TRAP_DATA, write ? data : 0xFFFF_FFFF);
  const stat = kind == TRAP_PIO ? RUN_STAT_PIO : RUN_STAT_MMIO;
  store<u32>(rp + stat, load<u32>(rp + stat) + 1);
  storeInstret();
  vmmTrap();
  setJitExit(); // a device may have raised an interrupt: leave a translated block after this
  const req = load<u32>(rp + RUN_REQUEST);
  if (req != 0) { store<u32>(rp + RUN_REQUEST, 0); if (runExit == NO_EXIT) runExit = req; }
  const v = load<u32>(rp + TRAP_DATA);
  return sz == 4 ? v : sz == 2 ? v & 0xFFFF : v & 0xFF;
}

// ---- physical accesses (the caller never crosses a page) ---------------------------------
export function physRead8(p: u32): u32 {
  if (p < ramBytes) return <u32>load<u8>(p, GUEST_RAM_BASE);
  return trap(TRAP_MMIO, false, 1, p, 0);
}
export function physRead16(p: u32): u32 {
  if (p < ramBytes) return <u32>load<u16>(p, GUEST_RAM_BASE);
  return trap(TRAP_MMIO, false, 2, p, 0);
}
export function physRead32(p: u32): u32 {
  if (p < ramBytes) return load<u32>(p, GUEST_RAM_BASE);
  return trap(TRAP_MMIO, false, 4, p, 0);
}
export function physWrite8(p: u32, v: u32): void {
  if (p < ramBytes) { codePageWritten(p >>> 12); store<u8>(p, <u8>v, GUEST_RAM_BASE); } else trap(TRAP_MMIO, true, 1, p, v & 0xFF);
}
export function physWrite16(p: u32, v: u32): void {
  if (p < ramBytes) { codePageWritten(p >>> 12); store<u16>(p, <u16>v, GUEST_RAM_BASE); } else trap(TRAP_MMIO, true, 2, p, v & 0xFFFF);
}
export function physWrite32(p: u32, v: u32): void {
  if (p < ramBytes) { codePageWritten(p >>> 12); store<u32>(p, v, GUEST_RAM_BASE); } else trap(TRAP_MMIO, true, 4, p, v);
}
export function physReadSz(sz: u32, p: u32): u32 {
  return sz == 4 ? physRead32(p) : sz == 2 ? physRead16(p) : physRead8(p);
}
export function physWriteSz(sz: u32, p: u32, v: u32): void {
  if (sz == 4) physWrite32(p, v); else if (sz == 2) physWrite16(p, v); else physWrite8(p, v);
}

// ---- the page walk -------------------------------------------------------------------------
function pageFault(lin: u32, present: bool, write: bool, user: bool): u32 {
  if (fault) return 0; // an earlier fault of this instruction wins
  cr2 = lin;
  raiseException(14, (present ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0));
  return 0;
}

/** Translate lin for an access; fills the TLB. On #PF sets CR2, raises, returns 0. */
export function translateSlow(lin: u32, write: bool, user: bool): u32 {
  store<u32>(RUN_PAGE_BASE + RUN_STAT_TLB_MISS, load<u32>(RUN_PAGE_BASE + RUN_STAT_TLB_MISS) + 1);
  if ((cr0 & CR0_PG) == 0) {
    const e = (lin & 0xFFFF_F000) | T_V | T_UR | T_UW | T_SW | (lin < ramBytes ? T_RAM : 0);
    tlbFill(lin, e);
    if (write) ncGrant(lin, e);
    return lin;
  }
  const wp = (cr0 & CR0_WP) != 0;
  const pdeAddr = (cr3 & 0xFFFF_F000) | ((lin >>> 22) << 2);
  let pde = physRead32(pdeAddr);
  if ((pde & 1) == 0) return pageFault(lin, false, write, user);
  let phys: u32, u: bool, w: bool, dirty: bool, global: bool;
  if ((pde & 0x80) != 0 && (cr4 & CR4_PSE) != 0) {
    // 4 MiB page (SDM §4.3, Table 4-4).
    u = (pde & 4) != 0; w = (pde & 2) != 0;
    if (user && (!u || (write && !w))) return pageFault(lin, true, write, user);
    if (!user && write && !w && wp) return pageFault(lin, true, write, user);
    const npde = pde | 0x20 | (write ? 0x40 : 0);
    if (npde != pde) { physWrite32(pdeAddr, npde); walkWrote(pdeAddr); pde = npde; }
    phys = (pde & 0xFFC0_0000) | (lin & 0x003F_FFFF);
    dirty = (pde & 0x40) != 0;
    global = (pde & 0x100) != 0;
  } else {
    const pteAddr = (pde & 0xFFFF_F000) | (((lin >>> 12) & 0x3FF) << 2);
    let pte = physRead32(pteAddr);
    if ((pte & 1) == 0) return pageFault(lin, false, write, user);
    u = (pde & pte & 4) != 0; w = (pde & pte & 2) != 0;
    if (user && (!u || (write && !w))) return pageFault(lin, true, write, user);
    if (!user && write && !w && wp) return pageFault(lin, true, write, user);
    if ((pde & 0x20) == 0) { physWrite32(pdeAddr, pde | 0x20); walkWrote(pdeAddr); }
    const npte = pte | 0x20 | (write ? 0x40 : 0);
    if (npte != pte) { physWrite32(pteAddr, npte); walkWrote(pteAddr); pte = npte; }
    phys = (pte & 0xFFFF_F000) | (lin & 0xFFF);
    dirty = (pte & 0x40) != 0;
    global = (pte & 0x100) != 0;
  }
  let e = (phys & 0xFFFF_F000) | T_V;
  if (phys < ramBytes) e |= T_RAM;
  if (u) e |= T_UR;
  if (dirty) {
    if (u && w) e |= T_UW;
    if (w || !wp) e |= T_SW;
  }
  if (global && (cr4 & CR4_PGE) != 0) e |= T_G;
  tlbFill(lin, e);
  if (write) ncGrant(lin, e);
  return phys;
}

/** Physical address of lin for a read or write by a user (CPL 3) or supervisor access.
 *  Unlike the direct fast paths this accepts MMIO frames (no T_RAM), so device pages do not
 *  walk the page tables on every access. */
@inline export function xlate(lin: u32, write: bool, user: bool): u32 {
  const e = load<u32>(TLB_BASE + ((lin >>> 12) << 2));
  const need = (write ? (user ? USR_W : SUP_W) : (user ? USR_R : SUP_R)) & ~T_RAM;
  if ((e & need) == need) return write && (e & T_NC) == 0 ? ncGrant(lin, e) : (e & 0xFFFF_F000) | (lin & 0xFFF);
  return translateSlow(lin, write, user);
}

// ---- linear accesses -------------------------------------------------------------------------
@inline function tlbEntry(lin: u32): u32 { return load<u32>(TLB_BASE + ((lin >>> 12) << 2)); }

/** Generic linear read of sz bytes; handles page crossing (byte by byte, faults first). */
export function readLinSlow(lin: u32, sz: u32, user: bool): u32 {
  if (((lin & 0xFFF) + sz) > 0x1000) {
    let v: u32 = 0;
    for (let i: u32 = 0; i < sz; i++) {
      const p = xlate(lin + i, false, user);
      if (fault) return 0;
      v |= physRead8(p) << (i << 3);
    }
    return v;
  }
  const p = xlate(lin, false, user);
  if (fault) return 0;
  return physReadSz(sz, p);
}
/** Generic linear write; a page-crossing write translates both pages before storing a byte. */
export function writeLinSlow(lin: u32, sz: u32, v: u32, user: bool): void {
  const off = lin & 0xFFF;
  if (off + sz > 0x1000) {
    const p1 = xlate(lin, true, user);
    if (fault) return;
    const n1: u32 = 0x1000 - off;
    const p2 = xlate(lin + n1, true, user);
    if (fault) return;
    for (let i: u32 = 0; i < sz; i++) {
      physWrite8(i < n1 ? p1 + i : p2 + (i - n1), v >>> (i << 3));
    }
    return;
  }
  const p = xlate(lin, true, user);
  if (fault) return;
  physWriteSz(sz, p, v);
}

/** Wasm address of lin when the TLB already grants this CPL a read (write) of RAM there, else 0
 *  (RAM starts at GUEST_RAM_BASE, never at 0). For bulk paths that then work within the page. */
@inline export function ramReadHost(lin: u32): u32 {
  const e = tlbEntry(lin);
  return (e & readNeed) == readNeed ? GUEST_RAM_BASE + ((e & 0xFFFF_F000) | (lin & 0xFFF)) : 0;
}
@inline export function ramWriteHost(lin: u32): u32 {
  const e = tlbEntry(lin);
  return (e & writeNeed) == writeNeed ? GUEST_RAM_BASE + ((e & 0xFFFF_F000) | (lin & 0xFFF)) : 0;
}

@inline export function readLin8(lin: u32): u32 {
  const e = tlbEntry(lin);
  if ((e & readNeed) == readNeed) return <u32>load<u8>((e & 0xFFFF_F000) | (lin & 0xFFF), GUEST_RAM_BASE);
  return readLinSlow(lin, 1, cpl == 3);
}
@inline export function readLin16(lin: u32): u32 {
  const e = tlbEntry(lin);
  if ((e & readNeed) == readNeed && (lin & 0xFFF) != 0xFFF)
    return <u32>load<u16>((e & 0xFFFF_F000) | (lin & 0xFFF), GUEST_RAM_BASE);
  return readLinSlow(lin, 2, cpl == 3);
}
@inline export function readLin32(lin: u32): u32 {
  const e = tlbEntry(lin);
  if ((e & readNeed) == readNeed && (lin & 0xFFF) <= 0xFFC)
    return load<u32>((e & 0xFFFF_F000) | (lin & 0xFFF), GUEST_RAM_BASE);
  return readLinSlow(lin, 4, cpl == 3);
}
@inline export function writeLin8(lin: u32, v: u32): void {
  const e = tlbEntry(lin);
  if ((e & writeNeed) == writeNeed) { store<u8>((e & 0xFFFF_F000) | (lin & 0xFFF), <u8>v, GUEST_RAM_BASE); return; }
  writeLinSlow(lin, 1, v, cpl == 3);
}
@inline export function writeLin16(lin: u32, v: u32): void {
  const e = tlbEntry(lin);
  if ((e & writeNeed) == writeNeed && (lin & 0xFFF) != 0xFFF) {
    store<u16>((e & 0xFFFF_F000) | (lin & 0xFFF), <u16>v, GUEST_RAM_BASE); return;
  }
  writeLinSlow(lin, 2, v, cpl == 3);
}
@inline export function writeLin32(lin: u32, v: u32): void {
  const e = tlbEntry(lin);
  if ((e & writeNeed) == writeNeed && (lin & 0xFFF) <= 0xFFC) {
    store<u32>((e & 0xFFFF_F000) | (lin & 0xFFF), v, GUEST_RAM_BASE); return;
  }
  writeLinSlow(lin, 4, v, cpl == 3);
}

// Supervisor ("system") accesses: descriptor tables, TSS, the stacks of interrupt delivery.
export function readSys(lin: u32, sz: u32): u32 { return readLinSlow(lin, sz, false); }
export function writeSys(lin: u32, sz: u32, v: u32): void { writeLinSlow(lin, sz, v, false); }
