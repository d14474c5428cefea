// Small helpers shared by the case definitions in groups.mjs: a deterministic PRNG, EFLAGS
// bits, operand values, register names and ModRM encoding. Nothing here knows the answers;
// those come from runner.c on the real processor.

export const CF = 0x001, PF = 0x004, AF = 0x010, ZF = 0x040, SF = 0x080, DF = 0x400, OF = 0x800;
export const STATUS = CF | PF | AF | ZF | SF | OF;
/** The EFLAGS bits a vector can set and compare: the six status flags and DF. */
export const ALL = STATUS | DF;

export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
/** Guest linear (= physical, paging off) address of the memory window, also mapped natively. */
export const BUF = 0x00200000;
/** A valid stack pointer inside the natively mapped 64 KiB at BUF (and inside guest RAM). */
export const STACK = 0x00208000;

/** xorshift32 with a fixed seed: the vectors must not change when nothing else does. */
export class Rng {
  constructor(seed) { this.s = seed >>> 0 || 1; }
  u32() {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  below(n) { return this.u32() % n; }
  pick(arr) { return arr[this.below(arr.length)]; }
  bool() { return (this.u32() & 1) === 1; }
  /** Random status flags (DF clear). */
  flags() { return this.u32() & STATUS; }
  /** An operand of `size` bits, biased towards interesting shapes. */
  operand(size) { return this.rawOperand(size) >>> 0; }
  rawOperand(size) {
    const m = mask(size);
    switch (this.below(6)) {
      case 0: return this.u32() & 0xff & m;                     // small
      case 1: return (m - (this.u32() & 0xff)) >>> 0;           // near all-ones
      case 2: return ((1 << (size - 1)) ^ (this.u32() & 0xff)) & m; // near the sign bit
      case 3: return (1 << this.below(size)) & m;         // one bit
      default: return this.u32() & m;                           // anything
    }
  }
}

export function mask(size) { return size === 32 ? 0xffffffff : (1 << size) - 1; }

const EDGES = [0, 1, 2, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x100, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x10000,
  0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];

/** The edge operands for `size` bits (truncated, deduplicated, in order). */
export function edges(size) {
  const m = mask(size);
  return [...new Set(EDGES.map((v) => (v & m) >>> 0))];
}

/** The edge operands plus `n` random ones from rng. */
export function values(rng, size, n) {
  const out = edges(size);
  for (let i = 0; i < n; i++) out.push(rng.operand(size));
  return out;
}

/** Every pair of edge operands, then `n` random pairs. */
export function pairs(rng, size, n) {
  const e = edges(size), out = [];
  for (const a of e) for (const b of e) out.push([a, b]);
  for (let i = 0; i < n; i++) out.push([rng.operand(size), rng.operand(size)]);
  return out;
}

export const REG8 = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];
export const REG16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
export const REG32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];

/** Store `v` into register operand `r` of `size` bits inside the 32-bit register file. */
export function setOp(regs, size, r, v) {
  if (size === 32) regs[r] = v >>> 0;
  else if (size === 16) regs[r] = ((regs[r] & 0xffff0000) | (v & 0xffff)) >>> 0;
  else {
    const i = r & 3, sh = (r >> 2) * 8;
    regs[i] = ((regs[i] & ~(0xff << sh)) | ((v & 0xff) << sh)) >>> 0;
  }
}

/** The 32-bit register that holds operand register `r` of `size` bits. */
export function home(size, r) { return size === 8 ? r & 3 : r; }

export function modrm(mod, reg, rm) { return (mod << 6) | (reg << 3) | rm; }
export function imm(size, v) {
  const b = [v & 0xff];
  if (size >= 16) b.push((v >>> 8) & 0xff);
  if (size === 32) b.push((v >>> 16) & 0xff, (v >>> 24) & 0xff);
  return b;
}
export function le32(v) { return imm(32, v >>> 0); }
/** 66 for a 16-bit operand in 32-bit code. */
export function osz(size) { return size === 16 ? [0x66] : []; }
/** The byte form of an opcode pair: 8-bit ops use the even opcode, 16/32 the odd one. */
export function w(op, size) { return size === 8 ? op : op + 1; }

export function hex(bytes) { return bytes.map((b) => b.toString(16).padStart(2, "0")).join(""); }
