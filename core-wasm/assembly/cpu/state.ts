// Architectural state of the vCPU: GPRs in fixed memory (indexable by ModRM register number),
// everything else in globals. SDM Vol. 3 §2 (system registers), Vol. 1 §3.4 (basic registers).
import { REGS_BASE, SNAP_BASE, SEGS_BASE, SEG_STRIDE, SEG_BASE_AT, SEGCHK_BASE } from "./scratch";

export const EAX: u32 = 0, ECX: u32 = 1, EDX: u32 = 2, EBX: u32 = 3;
export const ESP: u32 = 4, EBP: u32 = 5, ESI: u32 = 6, EDI: u32 = 7;

export const ES: u32 = 0, CS: u32 = 1, SS: u32 = 2, DS: u32 = 3, FS: u32 = 4, GS: u32 = 5;
export const LDTR: u32 = 6, TR: u32 = 7;

// EFLAGS bits (SDM Vol. 1 §3.4.3).
export const F_CF: u32 = 0x1, F_PF: u32 = 0x4, F_AF: u32 = 0x10, F_ZF: u32 = 0x40, F_SF: u32 = 0x80;
export const F_TF: u32 = 0x100, F_IF: u32 = 0x200, F_DF: u32 = 0x400, F_OF: u32 = 0x800;
export const F_IOPL: u32 = 0x3000, F_NT: u32 = 0x4000, F_RF: u32 = 0x1_0000, F_VM: u32 = 0x2_0000;
export const F_AC: u32 = 0x4_0000, F_ID: u32 = 0x20_0000;
export const F_ARITH: u32 = F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF;

// CR0 / CR4 bits (SDM Vol. 3 §2.5).
export const CR0_PE: u32 = 1, CR0_MP: u32 = 2, CR0_EM: u32 = 4, CR0_TS: u32 = 8, CR0_ET: u32 = 0x10;
export const CR0_NE: u32 = 0x20, CR0_WP: u32 = 0x1_0000, CR0_AM: u32 = 0x4_0000;
export const CR0_NW: u32 = 0x2000_0000, CR0_CD: u32 = 0x4000_0000, CR0_PG: u32 = 0x8000_0000;
export const CR4_TSD: u32 = 0x4, CR4_DE: u32 = 0x8, CR4_PSE: u32 = 0x10, CR4_PGE: u32 = 0x80;

export let eip: u32 = 0;
/** EIP of the first byte (prefixes included) of the instruction being executed. */
export let instrEip: u32 = 0;

export let cr0: u32 = 0x6000_0010;
export let cr2: u32 = 0;
export let cr3: u32 = 0;
export let cr4: u32 = 0;
export let cpl: u32 = 0;
/** CR0.PE, cached. */
export let pmode: bool = false;
/** CS.D: default operand and address size of the code segment is 32 bits. */
export let codeD: bool = false;
/** SS.B: the stack uses ESP (32-bit) rather than SP. */
export let stackB: bool = false;

export let gdtrBase: u32 = 0, gdtrLimit: u32 = 0xFFFF;
export let idtrBase: u32 = 0, idtrLimit: u32 = 0xFFFF;

export let dr0: u32 = 0, dr1: u32 = 0, dr2: u32 = 0, dr3: u32 = 0;
export let dr6: u32 = 0xFFFF_0FF0, dr7: u32 = 0x400;

export let sysenterCs: u32 = 0, sysenterEsp: u32 = 0, sysenterEip: u32 = 0;
export let tscOffset: i64 = 0;
/** An NMI handler is running (blocked until the next IRET). */
export let nmiBlocked: bool = false;
/** STI / MOV SS / POP SS interrupt shadow over the next instruction boundary. */
export let shadow: bool = false;

export let instretCount: u64 = 0;

// Instruction-fetch window (decode.ts): EIPs fetchEip .. fetchEip + fetchLen - 1 lie in one RAM
// page, inside the CS limit, already translated for the current CPL; byte fetchEip is at wasm
// address fetchHost. Keyed by EIP, not linear address, so a fetch costs no CS-base load.
// fetchLen = 0 empties it: on CS loads, TLB flushes, INVLPG and CPL changes.
export let fetchEip: u32 = 0;
export let fetchLen: u32 = 0;
export let fetchHost: u32 = 0;
@inline export function fetchFlush(): void { fetchLen = 0; }

// ---- GPRs --------------------------------------------------------------------------------
@inline export function r32(i: u32): u32 { return load<u32>(REGS_BASE + (i << 2)); }
@inline export function w32(i: u32, v: u32): void { store<u32>(REGS_BASE + (i << 2), v); }
@inline export function r16(i: u32): u32 { return <u32>load<u16>(REGS_BASE + (i << 2)); }
@inline export function w16(i: u32, v: u32): void { store<u16>(REGS_BASE + (i << 2), <u16>v); }
// AL CL DL BL AH CH DH BH: byte (i & 3) * 4 + (i >> 2) of the little-endian register file.
@inline export function r8(i: u32): u32 { return <u32>load<u8>(REGS_BASE + ((i & 3) << 2) + (i >> 2)); }
@inline export function w8(i: u32, v: u32): void { store<u8>(REGS_BASE + ((i & 3) << 2) + (i >> 2), <u8>v); }

/** Register `i` at operand size sz (1, 2, 4). */
@inline export function rget(sz: u32, i: u32): u32 {
  return sz == 4 ? r32(i) : sz == 2 ? r16(i) : r8(i);
}
@inline export function rset(sz: u32, i: u32, v: u32): void {
  if (sz == 4) w32(i, v); else if (sz == 2) w16(i, v); else w8(i, v);
}

/** Save the GPRs at an instruction boundary (4 × i64). */
@inline export function snapshot(): void {
  store<u64>(SNAP_BASE, load<u64>(REGS_BASE));
  store<u64>(SNAP_BASE, load<u64>(REGS_BASE, 8), 8);
  store<u64>(SNAP_BASE, load<u64>(REGS_BASE, 16), 16);
  store<u64>(SNAP_BASE, load<u64>(REGS_BASE, 24), 24);
}
@inline export function restoreSnapshot(): void {
  store<u64>(REGS_BASE, load<u64>(SNAP_BASE));
  store<u64>(REGS_BASE, load<u64>(SNAP_BASE, 8), 8);
  store<u64>(REGS_BASE, load<u64>(SNAP_BASE, 16), 16);
  store<u64>(REGS_BASE, load<u64>(SNAP_BASE, 24), 24);
}
/** Make register i's current value part of the snapshot (a REP string op's progress). */
@inline export function snapKeep(i: u32): void { store<u32>(SNAP_BASE + (i << 2), r32(i)); }

// ---- segment hidden caches ----------------------------------------------------------------
@inline export function segSel(s: u32): u32 { return load<u32>(SEGS_BASE + s * SEG_STRIDE); }
@inline export function segBase(s: u32): u32 { return load<u32>(SEGS_BASE + s * SEG_STRIDE, SEG_BASE_AT); }
@inline export function segLimit(s: u32): u32 { return load<u32>(SEGS_BASE + s * SEG_STRIDE, 8); }
@inline export function segAttr(s: u32): u32 { return load<u32>(SEGS_BASE + s * SEG_STRIDE, 12); }
@inline export function segChk(s: u32): u32 { return load<u32>(SEGCHK_BASE + (s << 2)); }
/** Check bit set by setSegCache on a 4 GiB, base-0, expand-up segment: an access through it
 *  needs no limit arithmetic (access.ts linR/linW). That is every access of a flat-model OS. */
export const CHK_FLAT: u32 = 0x10;
/** ... on a 4 GiB expand-up segment whatever its base (FS/GS of a flat-model OS: thread- or
 *  CPU-local data): translated code adds the base and needs no limit check but the wrap. */
export const CHK_WIDE: u32 = 0x20;
@inline export function setSegCache(s: u32, sel: u32, base: u32, limit: u32, attr: u32, chk: u32): void {
  const p = SEGS_BASE + s * SEG_STRIDE;
  // CHK_EXPDOWN (4) and CHK_NULL (8), access.ts, rule the fast paths out.
  if (limit == 0xFFFF_FFFF && (chk & 0xC) == 0) chk |= base == 0 ? CHK_FLAT | CHK_WIDE : CHK_WIDE;
  if (s == CS) fetchLen = 0;
  store<u32>(p, sel);
  store<u32>(p, base, 4);
  store<u32>(p, limit, 8);
  store<u32>(p, attr, 12);
  store<u32>(SEGCHK_BASE + (s << 2), chk);
}
@inline export function setSegSel(s: u32, sel: u32): void { store<u32>(SEGS_BASE + s * SEG_STRIDE, sel); }

// Debug registers: stored and read back; breakpoints (DR7) are not implemented.
export function setDr(i: u32, v: u32): void {
  if (i == 0) dr0 = v; else if (i == 1) dr1 = v; else if (i == 2) dr2 = v; else if (i == 3) dr3 = v;
  else if (i == 6) dr6 = v; else dr7 = v;
}
export function getDr(i: u32): u32 {
  if (i == 0) return dr0; if (i == 1) return dr1; if (i == 2) return dr2; if (i == 3) return dr3;
  if (i == 6) return dr6; return dr7;
}
