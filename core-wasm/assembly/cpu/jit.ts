// The core's half of the JIT: which blocks exist, when to translate one, how to enter it, and
// the slow paths translated code calls. The translator itself (x86 → wasm) runs in the worker's
// JavaScript (core-wasm/jit/), reached through the `vmm.jitCompile` import; each block is a
// wasm function in this module's function table, `(budget: i32) => i32 retired`.
//
// Blocks are keyed by the physical address of their first byte and never span a page, so a
// block stays valid while its page's bytes do, whatever the linear mapping. A write to a page
// holding blocks (CODE_PAGES) bumps the page's generation: every block compiled from the older
// generation is stale and found so at its next lookup. Device DMA reaches the same path via
// the exported jitInvalidate.
import { TLB_BASE, JIT_MAP_BASE, JIT_MAP_BITS, JIT_MAP_ENTRIES, JIT_ENTRY, CODE_PAGES_BASE, PAGE_GEN_BASE, CHAIN_CACHE_BASE, CHAIN_CACHE_BITS, CHAIN_CACHE_SIZE } from "./scratch";
import { eip, instrEip, cpl, codeD, shadow, nmiBlocked, snapshot, restoreSnapshot, segChk, CS, CHK_FLAT, F_IF, F_TF } from "./state";
import { flags, saveFlags, restoreFlags, cond } from "./flags";
import { RUN_PAGE_BASE, RUN_INTR, RUN_NMI, RUN_STAT_JIT_DECLINED } from "../layout";
import { fault, clearFault, readMem8, readMem16, readMem32, writeMem8, writeMem16, writeMem32, rmwBegin, rmwRead, rmwWrite } from "./access";
import { readNeed, runExit, NO_EXIT, ramBytes, xlate, ncRevoke } from "./paging";
import { inc, dec, shift, mulFlags } from "./alu";
import { step } from "./run";

@external("vmm", "jitCompile") declare function vmmJitCompile(phys: u32, eip: u32): u32;
@external("vmm", "jitFree") declare function vmmJitFree(fn: u32): void;
@external("vmm", "jitWarm") declare function vmmJitWarm(phys: u32, eip: u32): void;

/** Executions of a block's first instruction before it is translated; 0 turns the JIT off. */
export let jitThreshold: u32 = 0;
/** Set by the slow paths below (a fault, a trap, a write to a code page, an exit request):
 *  translated code leaves its block at the next check, so the run loop sees it. */
export let jitExit: bool = false;

export function setJitExit(): void { jitExit = true; }

const NEVER: u32 = 0xFFFF_FFFF; // hit count of a block the translator declined
const PENDING: u32 = 0xFFFF_FFFE; // ... of a block being compiled in the background (jitInstall)
/** vmm.jitCompile's answer: compiled asynchronously, installed later (jitInstall). */
export const JIT_COMPILING: u32 = 0xFFFF_FFFF;
const EMPTY: u32 = 0xFFFF_FFFF; // key of an unused entry (never a RAM address)

export function jitSetThreshold(n: u32): void {
  jitThreshold = n;
  jitFlush();
}

/** Moves whenever a block's function may change or die (a page written, an entry evicted, a
 *  flush): chain()'s cache holds what it found at one epoch and trusts it only at that one. */
let epoch: u32 = 1;
@inline function newEpoch(): void {
  if (++epoch == 0) { memory.fill(CHAIN_CACHE_BASE, 0, CHAIN_CACHE_SIZE); epoch = 1; }
}

/** Forget every block (reset, or the translator's function table is full). */
export function jitFlush(): void {
  // Cleared, not only a new epoch: after a state restore the cache's bytes may carry any epoch.
  memory.fill(CHAIN_CACHE_BASE, 0, CHAIN_CACHE_SIZE);
  newEpoch();
  for (let i: u32 = 0; i < JIT_MAP_ENTRIES; i++) {
    const p = JIT_MAP_BASE + i * JIT_ENTRY;
    const fn = load<u32>(p, 8);
    if (fn != 0) vmmJitFree(fn);
    store<u32>(p, EMPTY);
    store<u32>(p, 0, 8);
  }
  memory.fill(CODE_PAGES_BASE, 0, (ramBytes + 0xFFF) >>> 12);
}

/** Bytes [phys, phys + len) of RAM changed behind the CPU's back (DMA, the loader). */
export function jitInvalidate(phys: u32, len: u32): void {
  if (len == 0) return;
  const last = (phys + len - 1) >>> 12;
  for (let pg = phys >>> 12; pg <= last && (pg << 12) < ramBytes; pg++) codePageWritten(pg);
}

/** A write reached physical page pg: if blocks were translated from it, they are stale now. */
@inline export function codePageWritten(pg: u32): void {
  if (load<u8>(CODE_PAGES_BASE + pg) != 0) {
    store<u8>(CODE_PAGES_BASE + pg, 0);
    store<u32>(PAGE_GEN_BASE + (pg << 2), load<u32>(PAGE_GEN_BASE + (pg << 2)) + 1);
    newEpoch();
    jitExit = true; // the running block may be the one written
  }
}

// The map is 4-way set-associative: a block's entry is one of the four of its set, which share
// a 64-byte cache line. Two ways were not enough: hot blocks that hashed to the same set as a
// translated one evicted each other while counting and never reached the threshold (the
// cpu workload's two hottest return addresses were interpreted 8 million times each).
const WAYS: u32 = 4;
const SET_BYTES: u32 = WAYS * JIT_ENTRY;
const SET_BITS: u32 = JIT_MAP_BITS - 2;
@inline function setOf(phys: u32): u32 {
  return JIT_MAP_BASE + ((phys * 0x9E37_79B1) >>> (32 - SET_BITS)) * SET_BYTES;
}
/** The entry of the block at phys read from its page's generation gen, or 0. An entry starts
 *  with phys and gen (u32 each): one 64-bit compare a way, the four ways unrolled. */
@inline function find(phys: u32, gen: u32): u32 {
  const s = setOf(phys);
  const key = (<u64>gen << 32) | <u64>phys;
  if (load<u64>(s) == key) return s;
  if (load<u64>(s, JIT_ENTRY) == key) return s + JIT_ENTRY;
  if (load<u64>(s, 2 * JIT_ENTRY) == key) return s + 2 * JIT_ENTRY;
  if (load<u64>(s, 3 * JIT_ENTRY) == key) return s + 3 * JIT_ENTRY;
  return 0;
}

/** At an instruction boundary with the JIT on: run the block at EIP if there is one (or if
 *  this visit makes it hot). Returns the instructions it retired; 0 = interpret one instead
 *  (no block, or it declined to start), unless `fault` is set (its first instruction faulted). */
export function jitEnter(budget: u32): u32 {
  if ((segChk(CS) & CHK_FLAT) == 0) return 0; // blocks take EIP as the linear address
  let e = load<u32>(TLB_BASE + ((eip >>> 12) << 2));
  if ((e & readNeed) != readNeed) {
    // Walk now, as the fetch would; a fault is left for the interpreter to raise again (same
    // CR2, same error code), so nothing here is guest-visible.
    xlate(eip, false, cpl == 3);
    if (fault) { clearFault(); return 0; }
    e = load<u32>(TLB_BASE + ((eip >>> 12) << 2));
    if ((e & readNeed) != readNeed) return 0; // MMIO: interpret
  }
  const phys = (e & 0xFFFF_F000) | (eip & 0xFFF);
  const gen = load<u32>(PAGE_GEN_BASE + ((phys >>> 12) << 2));
  const p = find(phys, gen);
  if (p == 0) return jitMiss(phys, gen, budget);
  let fn = load<u32>(p, 8);
  if (fn != 0) return chain(fn, budget);
  const hits = load<u32>(p, 12);
  if (hits >= PENDING) return 0;
  if (hits + 1 < jitThreshold) {
    store<u32>(p, hits + 1, 12);
    // Warm: the translator may compile it with the next hot block (one module, one cost).
    if (hits + 1 == (jitThreshold >>> 2)) vmmJitWarm(phys, eip);
    return 0;
  }
  // Hot: translate (the translator marks the page as code before it reads it).
  fn = vmmJitCompile(phys, eip);
  if (fn == JIT_COMPILING) { store<u32>(p, PENDING, 12); return 0; }
  store<u32>(p, fn, 8);
  if (fn == 0) { store<u32>(p, NEVER, 12); return 0; }
  return chain(fn, budget);
}

/** Run translated code from fn on: when a region leaves to code that is translated too, go
 *  straight there, as long as nothing the run loop does between instructions is due — the
 *  same checks it makes at a boundary (interrupt window, NMI, TF, an exit or fault), so the
 *  instruction boundaries and counts are the run loop's. Returns the instructions retired. */
function chain(fn: u32, budget: u32): u32 {
  let done: u32 = 0;
  for (;;) {
    jitExit = false;
    const r = call_indirect<u32>(fn, budget - done);
    done += r;
    if (r == 0) {
      if (!fault) store<u32>(RUN_PAGE_BASE + RUN_STAT_JIT_DECLINED, load<u32>(RUN_PAGE_BASE + RUN_STAT_JIT_DECLINED) + 1);
      return done;
    }
    // A fault, an exit request, a trap, a code page written, or an instruction the interpreter
    // ran that changed what the boundary checks (jitStep): each sets jitExit.
    if (jitExit) return done;
    // An interrupt line up (INTR and NMI are adjacent u32s: one load for both, as in run()).
    if (load<u64>(RUN_PAGE_BASE + RUN_INTR) != 0) {
      if ((flags & F_IF) != 0 && load<u32>(RUN_PAGE_BASE + RUN_INTR) != 0) return done;
      if (!nmiBlocked && load<u32>(RUN_PAGE_BASE + RUN_NMI) != 0) return done;
    }
    fn = translated();
    if (fn == 0) return done;
  }
  return done; // (not reached: the loop only returns)
}

/** The translated block at EIP, or 0 (none yet, not flat, not mapped, MMIO). The cache
 *  entry of EIP answers while EIP's TLB entry (its mapping) and the epoch are what they were. */
@inline function translated(): u32 {
  if ((segChk(CS) & CHK_FLAT) == 0) return 0;
  const e = load<u32>(TLB_BASE + ((eip >>> 12) << 2));
  if ((e & readNeed) != readNeed) return 0;
  const c = CHAIN_CACHE_BASE + (((eip ^ (eip >>> CHAIN_CACHE_BITS)) & ((1 << CHAIN_CACHE_BITS) - 1)) << 4);
  const key = (<u64>e << 32) | <u64>eip;
  if (load<u64>(c) == key && load<u32>(c, 8) == epoch) return load<u32>(c, 12);
  const phys = (e & 0xFFFF_F000) | (eip & 0xFFF);
  const p = find(phys, load<u32>(PAGE_GEN_BASE + ((phys >>> 12) << 2)));
  if (p == 0) return 0;
  const fn = load<u32>(p, 8);
  if (fn != 0) { store<u64>(c, key); store<u32>(c, epoch, 8); store<u32>(c, fn, 12); }
  return fn;
}

/** The translator compiled the block at phys (a warm one, or one compiled in the background)
 *  from its page's generation `gen` into table slot fn: take it if the page is still that
 *  generation and the block not translated yet. Returns 1 if taken. The generation must be the
 *  one the bytes were read at: a block entered in the map again after its page was written
 *  carries the new generation, and an older compile still in flight must not land there. */
export function jitInstall(phys: u32, gen: u32, fn: u32): u32 {
  if (gen != load<u32>(PAGE_GEN_BASE + ((phys >>> 12) << 2))) return 0;
  const p = find(phys, gen);
  if (p == 0 || load<u32>(p, 8) != 0 || load<u32>(p, 12) == NEVER) return 0;
  store<u32>(p, fn, 8);
  return 1;
}
/** 1 if the block at phys is warm — it has run a quarter of the threshold times since its page
 *  was last written — and has no region of its own yet: the translator takes only such blocks
 *  into a region, so cold paths cost no compile time, and a block with a region of its own is
 *  not compiled into others (a branch there leaves, and chain() goes on in it). A block queued
 *  for its own region (the blocks of a loop turn hot in the same run slice) is taken in too:
 *  else the loop became as many regions as it has blocks, each leaving to the next (measured: a
 *  gzip loop of three blocks made three regions of 2 to 6 instructions, 80 million calls each). */
export function jitSeen(phys: u32): u32 {
  const p = find(phys, load<u32>(PAGE_GEN_BASE + ((phys >>> 12) << 2)));
  if (p == 0 || load<u32>(p, 8) != 0) return 0;
  const hits = load<u32>(p, 12);
  return hits == PENDING || (hits < PENDING && hits >= max<u32>(1, jitThreshold >>> 2)) ? 1 : 0;
}
/** The translator declined the block at phys, queued as hot: it is interpreted from now on
 *  (until its page is written). */
export function jitDecline(phys: u32): void {
  const p = find(phys, load<u32>(PAGE_GEN_BASE + ((phys >>> 12) << 2)));
  if (p != 0 && load<u32>(p, 8) == 0) store<u32>(p, NEVER, 12);
}
/** The block at phys, queued as hot, was compiled into a region of the same batch instead: it
 *  counts again from warm, and is compiled on its own only if it turns hot again (entered from
 *  outside that region). */
export function jitRecount(phys: u32): void {
  const p = find(phys, load<u32>(PAGE_GEN_BASE + ((phys >>> 12) << 2)));
  if (p != 0 && load<u32>(p, 8) == 0 && load<u32>(p, 12) == PENDING) store<u32>(p, max<u32>(1, jitThreshold >>> 2), 12);
}
/** The translator is about to read code from phys's page: writes there now invalidate. Returns
 *  the page's generation, which the translation is then of (jitInstall). */
export function jitMarkCode(phys: u32): u32 {
  if (load<u8>(CODE_PAGES_BASE + (phys >>> 12)) == 0) {
    store<u8>(CODE_PAGES_BASE + (phys >>> 12), 1);
    ncRevoke(phys >>> 12);
  }
  return load<u32>(PAGE_GEN_BASE + ((phys >>> 12) << 2));
}

/** Not in the map: start counting it in the way of its set worth least — an empty or stale
 *  one, else the block counted fewest times so far; a translated block, or one being compiled
 *  or declined, only if all four are. */
function jitMiss(phys: u32, gen: u32, budget: u32): u32 {
  const s = setOf(phys);
  let p = s, least: u32 = 0xFFFF_FFFF;
  for (let q = s; q < s + SET_BYTES; q += JIT_ENTRY) {
    const w = worth(q);
    if (w < least) { least = w; p = q; }
  }
  const old = load<u32>(p, 8);
  if (old != 0) { vmmJitFree(old); newEpoch(); }
  store<u32>(p, phys);
  store<u32>(p, gen, 4);
  store<u32>(p, 0, 8);
  store<u32>(p, 1, 12);
  if (jitThreshold <= 1) return jitEnter(budget);
  return 0;
}
@inline function worth(p: u32): u32 {
  const k = load<u32>(p);
  if (k == EMPTY || load<u32>(p, 4) != load<u32>(PAGE_GEN_BASE + ((k >>> 12) << 2))) return 0;
  if (load<u32>(p, 8) != 0) return 0xFFFF_FFFE;
  const hits = load<u32>(p, 12);
  return hits >= PENDING ? 0xFFFF_FFFD : hits;
}

// ---- slow paths of translated code --------------------------------------------------------
// A translated access tries the TLB itself and calls these only on a miss, a page crossing,
// MMIO, a code page or a non-flat segment. They behave exactly like the interpreter's access.
@inline function check(): void { if (fault || runExit != NO_EXIT) jitExit = true; }

export function jitRead8(seg: u32, off: u32): u32 { const v = readMem8(seg, off); check(); return v; }
export function jitRead16(seg: u32, off: u32): u32 { const v = readMem16(seg, off); check(); return v; }
export function jitRead32(seg: u32, off: u32): u32 { const v = readMem32(seg, off); check(); return v; }
export function jitWrite8(seg: u32, off: u32, v: u32): void { writeMem8(seg, off, v); check(); }
export function jitWrite16(seg: u32, off: u32, v: u32): void { writeMem16(seg, off, v); check(); }
export function jitWrite32(seg: u32, off: u32, v: u32): void { writeMem32(seg, off, v); check(); }
/** Read for a read-modify-write, translated for writing first; jitRmwWrite finishes it. */
export function jitRmwRead(seg: u32, off: u32, sz: u32): u32 {
  if (!rmwBegin(seg, off, sz)) { check(); return 0; }
  const v = rmwRead(sz);
  check();
  return v;
}
export function jitRmwWrite(sz: u32, v: u32): void { rmwWrite(sz, v); check(); }

/** One instruction at EIP by the interpreter, for what the translator does not generate.
 *  On a fault the instruction is undone (as the run loop would) and left for the run loop. */
export function jitStep(): void {
  snapshot(); saveFlags();
  instrEip = eip;
  step();
  if (fault) {
    restoreSnapshot(); restoreFlags();
    eip = instrEip;
    jitExit = true;
  } else if (runExit != NO_EXIT || shadow || !codeD || (flags & F_TF) != 0) {
    // An exit, an interrupt shadow (MOV SS, STI), a 16-bit code segment or TF: the run loop
    // must see the next boundary (chain() tests jitExit alone).
    jitExit = true;
  }
}

// Flag helpers: the lazy-flags rules live in flags.ts / alu.ts only.
export function jitCond(cc: u32): u32 { return cond(cc) ? 1 : 0; }
export function jitInc(sz: u32, v: u32): u32 { return inc(sz, v); }
export function jitDec(sz: u32, v: u32): u32 { return dec(sz, v); }
export function jitShift(op: u32, sz: u32, v: u32, count: u32): u32 { return shift(op, sz, v, count); }
/** The flags of IMUL r, r/m (two and three operands) of sz-byte operands a and b. */
export function jitImulFlags(sz: u32, a: u32, b: u32): void {
  if (sz == 4) {
    const r = <i64><i32>a * <i64><i32>b;
    mulFlags(4, <u32>r, r != <i64><i32>r);
  } else {
    const r = <i32><i16>a * <i32><i16>b;
    mulFlags(2, <u32>r, r != <i32><i16>r);
  }
}
