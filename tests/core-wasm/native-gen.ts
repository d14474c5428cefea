// Random instruction sequences for the differential test against the host CPU (cpu-native.ts):
// straight-line user-mode code drawn from the opcode table (core-wasm/x86/opcodes.ts), in two
// encodings that mean the same thing — `guest` for Vireo in 32-bit protected mode, `native`
// for gen/runner64.c in 64-bit mode (this host cannot run 32-bit code). They differ only in the
// 67 prefix the native string instructions get (ESI/EDI/ECX as pointers and counter, as in
// 32-bit code); runner64.c's top comment says why everything else means the same in both modes.
//
// What the sequences stay clear of, so that both modes agree (and all of it is checked there):
// rows the table marks for 64-bit mode (`x64`: invalid there, REX, or stack-sized), control
// transfers and block-ending rows (system state), x87 (x87-native-gen.ts has its own cases),
// MOV Sreg, CPUID/RDTSC, moffs, F2/F3 on anything but a string instruction (F3 0F BC is TZCNT
// on this host), FS/GS overrides (TLS bases in a Linux process), 16-bit addressing (67 means
// 32-bit addressing in 64-bit mode), and ModRM [disp32] (RIP-relative in 64-bit mode; the SIB
// form is used). ESP and the pointer register P are never an operand register; memory is
// [P + ...] inside the 128-byte window.
//
// Flags: each instruction's undefined flags come from the table (`undef`); a flag an
// instruction leaves undefined stays so until one defines it, and a CMP goes before anything
// that reads one (ADC, CMOVcc, SETcc, RCL...), so every compared result is architectural. The
// case carries the flags defined at the end and along the way (for a fault's state). Results
// the SDM leaves undefined in registers are kept out with guards: BSF/BSR get a nonzero source,
// a 16-bit SHLD/SHRD a count below 17, BT* a small register bit offset into memory.
import { OPCODES, ARITH, AF, CF, DF, OF, type OpcodeDef } from "../../core-wasm/x86/opcodes.ts";

/** Guest linear address of the memory window (the same in runner64.c and cpu-vectors.ts). */
export const WINDOW = 0x0020_0000;
export const WINDOW_SIZE = 128;
/** ESP: valid RAM for a fault's pushes in Vireo; never used natively. */
export const STACK = 0x0020_8000;
const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
const STATUS = ARITH;

/** One generated case: both encodings, per-instruction offsets, the inputs, what is defined. */
export interface NativeCase {
  guest: number[];
  native: number[];
  /** Start offset of each instruction in guest and in native code (a fault maps back). */
  gOff: number[];
  nOff: number[];
  regs: number[];
  flags: number;
  mem: number[];
  /** Status flags (and DF) defined at the end, and defined everywhere (for a fault). */
  maskEnd: number;
  maskAny: number;
  listing: string[];
}

/** xorshift32, from a case seed: a case is reproducible from its seed alone. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = (seed >>> 0) || 0x9e3779b9; for (let i = 0; i < 4; i++) this.u32(); }
  u32(): number {
    let x = this.s;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number { return this.u32() % n; }
  pick<T>(a: readonly T[]): T { return a[this.below(a.length)]!; }
  /** An operand value biased to edges. */
  value(): number {
    switch (this.below(6)) {
      case 0: return this.below(256);
      case 1: return (0 - this.below(256)) >>> 0;
      case 2: return (0x80000000 ^ this.below(256)) >>> 0;
      case 3: return (1 << this.below(32)) >>> 0;
      case 4: return this.below(2) ? 0x7fff ^ this.below(4) : 0x8000 ^ this.below(4);
      default: return this.u32();
    }
  }
}

const BLOCKED_NAMES = /^(ESC|CPUID|RDTSC|MOV Ev,Sw|MOV Sw|LEA Gv,M$|XLAT|SALC)/;
/** Rows a sequence may use, besides the string instructions (handled apart). */
const ROWS: OpcodeDef[] = OPCODES.filter((r) =>
  r.impl && !r.undocumented && r.flow === "none" && !r.ends && r.x64 === undefined && !BLOCKED_NAMES.test(r.name) &&
  !(r.map === 0 && r.op >= 0xa0 && r.op <= 0xaf && r.op !== 0xa8 && r.op !== 0xa9) && // moffs MOV, string instructions
  !(r.map === 0 && r.op === 0x9b) && // FWAIT: x87
  r.imm !== "ptr" && r.imm !== "moffs" && r.imm !== "iwib");
/** LEA is kept, but only with a memory operand (its row name has no "Ev"). */
const LEA = OPCODES.find((r) => r.map === 0 && r.op === 0x8d)!;
ROWS.push(LEA);

/** An operand-size and the byte form: rows whose name says b (Eb/Gb/AL/Zb/Ib-only) are 8-bit. */
function isByteOp(r: OpcodeDef): boolean {
  if (r.map === 0x0f) return r.op === 0xc0 || r.op === 0xb0 || (r.op >= 0x90 && r.op <= 0x9f);
  if (r.op < 0x40) return (r.op & 7) === 0 || (r.op & 7) === 2 || (r.op & 7) === 4;
  return [0x80, 0x82, 0x84, 0x86, 0x88, 0x8a, 0xc0, 0xc6, 0xd0, 0xd2, 0xf6, 0xfe].includes(r.op) || (r.op >= 0xb0 && r.op <= 0xb7);
}

const SHIFT_OPS = new Set([0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3]);
const hex2 = (b: number) => (b & 0xff).toString(16).padStart(2, "0");
const le = (v: number, n: number) => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff);

class Builder {
  guest: number[] = [];
  native: number[] = [];
  gOff: number[] = [];
  nOff: number[] = [];
  listing: string[] = [];
  undef = 0;
  undefAny = 0;
  /** Registers an operand may use: not ESP, not P, and (for byte forms) not a byte of either. */
  readonly regs: number[];
  constructor(readonly rng: Rng, readonly P: number, readonly named: boolean) {
    this.regs = [0, 1, 2, 3, 4, 5, 6, 7].filter((r) => r !== ESP && r !== P && (r & 3) !== P && !(P === EBX && r === 7));
  }
  emit(name: string, bytes: number[], native = bytes, undefs = 0, defs = 0, reads = 0): void {
    if (reads & this.undef) this.fix();
    this.gOff.push(this.guest.length);
    this.nOff.push(this.native.length);
    this.guest.push(...bytes);
    this.native.push(...native);
    if (this.named) this.listing.push(`${name}  ; ${bytes.map(hex2).join(" ")}`);
    this.undef = (this.undef & ~defs) | undefs;
    this.undefAny |= this.undef;
  }
  /** CMP r32, r32: every status flag defined again before an instruction reads one. */
  fix(): void {
    const a = this.rng.below(8), b = this.rng.below(8);
    this.emit("cmp", [0x39, 0xc0 | (b << 3) | a], undefined, 0, STATUS);
  }
  reg(): number { return this.rng.pick(this.regs); }
  /** ModRM (+SIB, disp) for a memory operand in the window; guards first when an index needs one. */
  mem(regField: number, size: number): number[] {
    const r = this.rng, P = this.P, k = r.below(6);
    const half = WINDOW_SIZE / 2, top = half - size; // [P + d] with P = WINDOW + half
    if (k === 0 && P !== EBP) return [(regField << 3) | P];
    if (k <= 2) { const d = r.below(top + half) - half; return [0x40 | (regField << 3) | P, d & 0xff]; }
    if (k === 3) { const d = r.below(top + half) - half; return [0x80 | (regField << 3) | P, ...le(d, 4)]; }
    if (k === 4) { const a = WINDOW + r.below(WINDOW_SIZE - size); return [(regField << 3) | 4, 0x25, ...le(a, 4)]; } // [disp32] through SIB
    // [P + idx*scale + disp8], the index masked to 0..7 first.
    const idx = this.reg(), scale = r.below(4), d = r.below(64) - 64;
    this.emit(`and ${idx}, 7`, [0x83, 0xe0 | idx, 7], undefined, AF, STATUS & ~AF);
    return [0x44 | (regField << 3), (scale << 6) | (idx << 3) | P, d & 0xff];
  }
}

/** One instruction from table row `row`. */
function instruction(b: Builder, row: OpcodeDef): void {
  const r = b.rng;
  const byte = isByteOp(row);
  let size = byte ? 8 : r.below(3) === 0 ? 16 : 32;
  if (row.map === 0x0f && row.op >= 0xc8) size = 32; // BSWAP: a 16-bit operand is undefined
  if (row.map === 0x0f && (row.op === 0xb7 || row.op === 0xbf || row.op === 0xc7) && size === 16) size = 32;
  const osz = size === 16 ? [0x66] : [];
  const op = row.map === 0x0f ? [0x0f, row.op] : [row.op];
  let undefs = row.undef ?? 0, defs = row.write & ~undefs;
  const reads = row.read & STATUS;
  const name = row.name;
  // Opcodes with the register in their low bits (B0-BF MOV, 91-97 XCHG, 0F C8-CF BSWAP).
  if (!row.modrm && ((row.map === 0 && ((row.op >= 0x91 && row.op <= 0x97) || row.op >= 0xb0 && row.op <= 0xbf)) || (row.map === 0x0f && row.op >= 0xc8))) {
    const base = row.op & ~7, reg = b.reg();
    const imm = row.imm === "ib" ? [r.below(256)] : row.imm === "iz" ? le(r.value(), size / 8) : [];
    b.emit(`${name} r${reg}`, [...osz, ...(row.map === 0x0f ? [0x0f] : []), base | reg, ...imm], undefined, undefs, defs, reads);
    return;
  }
  if (!row.modrm) {
    const imm = row.imm === "ib" ? [r.below(256)] : row.imm === "iz" ? le(r.value(), size / 8) : [];
    b.emit(name, [...osz, ...op, ...imm], undefined, undefs, defs, reads);
    return;
  }
  const regField = row.reg ?? b.reg();
  const memOnly = row === LEA || (row.map === 0x0f && row.op === 0xc7);
  const useMem = memOnly || r.below(3) === 0;
  let modrm: number[];
  let count: number | null = null;
  if (useMem) {
    // BT* with a register bit offset reaches offset/8 bytes away: keep it below 64 (8 bytes).
    const btReg = row.map === 0x0f && [0xa3, 0xab, 0xb3, 0xbb].includes(row.op);
    if (btReg) b.emit(`and r${regField}, 63`, [0x83, 0xe0 | regField, 63], undefined, AF, STATUS & ~AF);
    modrm = b.mem(regField, btReg || (row.map === 0x0f && row.op === 0xc7) ? 8 : size / 8);
  } else {
    modrm = [0xc0 | (regField << 3) | b.reg()];
  }
  let imm: number[] = [];
  if (row.imm === "ib") {
    // Shift counts: mostly small; a 16-bit SHLD/SHRD below 17 (above, the result is undefined).
    const dbl = row.map === 0x0f && (row.op === 0xa4 || row.op === 0xac);
    const c = dbl && size === 16 ? r.below(17) : r.below(4) ? r.below(size + 2) : r.below(256);
    imm = [c];
    count = c;
  } else if (row.imm === "iz") imm = le(r.value(), size === 16 ? 2 : 4);
  // Count-dependent flags: what a known count leaves undefined; by CL nothing is defined.
  const shift = row.map === 0 && SHIFT_OPS.has(row.op);
  const dblCl = row.map === 0x0f && (row.op === 0xa5 || row.op === 0xad);
  if (shift && (row.op === 0xd2 || row.op === 0xd3)) defs = 0;
  if (shift && count !== null) {
    const c = count & 31, rot = (row.reg ?? 0) < 4;
    if (c === 0) { undefs = 0; defs = 0; }
    else if (rot) {
      // RCL/RCR by a multiple of size+1 leave CF as it was; OF is defined for a count of 1 only.
      undefs = c === 1 ? 0 : OF;
      defs = ((row.reg === 2 || row.reg === 3) && c % (size + 1) === 0 ? 0 : CF) | (c === 1 ? OF : 0);
    } else { undefs = AF | (c === 1 ? 0 : OF) | (row.reg !== 7 && c >= size ? CF : 0); defs = STATUS & ~undefs; }
  }
  if (row.map === 0x0f && (row.op === 0xa4 || row.op === 0xac) && count !== null) {
    const c = count & 31;
    if (c === 0) { undefs = 0; defs = 0; }
    else { undefs = AF | (c === 1 ? 0 : OF); defs = STATUS & ~undefs; }
  }
  if (dblCl) {
    defs = 0;
    if (size === 16) b.emit("and ecx, 15", [0x83, 0xe1, 0x0f], undefined, AF, STATUS & ~AF); // a 16-bit count above 16: result undefined
  }
  // BSF/BSR: a zero source leaves the destination undefined; set one of its bits first.
  if (row.map === 0x0f && (row.op === 0xbc || row.op === 0xbd)) {
    const bit = r.below(size);
    b.emit(`or src, 1<<${bit}`, [...osz, 0x81, (modrm[0]! & 0xc7) | (1 << 3), ...modrm.slice(1), ...le(2 ** bit, size / 8)], undefined, AF, STATUS & ~AF);
  }
  // LOCK: on a locked read-modify-write of memory, or now and then anywhere (#UD).
  const lock = (useMem && row.lock && r.below(6) === 0) || r.below(200) === 0 ? [0xf0] : [];
  // No CS override: a write through CS is #GP in 32-bit mode, ignored in 64-bit mode.
  const seg = useMem && r.below(8) === 0 ? [r.pick([0x26, 0x36, 0x3e])] : [];
  b.emit(name, [...lock, ...seg, ...osz, ...op, ...modrm, ...imm], undefined, undefs, defs, reads);
}

/** A string instruction: ESI, EDI, ECX set first, REP now and then, a 67 prefix natively. */
function stringOp(b: Builder): void {
  const r = b.rng;
  const kind = r.pick([0xa4, 0xa6, 0xaa, 0xac, 0xae]);
  const size = r.pick([8, 16, 32]);
  const count = r.below(9);
  // At most 8 elements of 4 bytes either way: stay 32 bytes inside the window.
  const si = WINDOW + 32 + r.below(WINDOW_SIZE - 64), di = WINDOW + 32 + r.below(WINDOW_SIZE - 64);
  b.emit("mov esi", [0xbe, ...le(si, 4)]);
  b.emit("mov edi", [0xbf, ...le(di, 4)]);
  b.emit("mov ecx", [0xb9, ...le(count, 4)]);
  if (r.below(2)) { const std = r.below(3) === 0; b.emit(std ? "std" : "cld", [std ? 0xfd : 0xfc]); }
  const rep = r.below(3) === 0 ? [] : [kind === 0xa6 || kind === 0xae ? r.pick([0xf2, 0xf3]) : 0xf3];
  const compares = kind === 0xa6 || kind === 0xae;
  const bytes = [...rep, ...(size === 16 ? [0x66] : []), kind + (size === 8 ? 0 : 1)];
  // REP with ECX 0 compares nothing: the flags are then as before.
  b.emit(`${rep.length ? "rep " : ""}string ${kind.toString(16)}/${size}`, bytes, [0x67, ...bytes], 0, compares && rep.length === 0 ? STATUS : 0, DF);
  if (compares && rep.length) {
    // Whether any iteration ran is known (count); if one did, the flags are the last compare's.
    if (count > 0) b.undef &= ~STATUS;
  }
}

/** The case of `seed`: 1-8 instructions; `listing` adds their names (for a report). */
export function generate(seed: number, listing = false): NativeCase {
  const rng = new Rng(seed);
  const P = rng.pick([EBX, EBP]);
  const b = new Builder(rng, P, listing);
  const n = 1 + rng.below(8);
  for (let i = 0; i < n; i++) {
    if (rng.below(12) === 0) stringOp(b);
    else instruction(b, rng.pick(ROWS));
  }
  const regs = Array.from({ length: 8 }, () => rng.value());
  regs[ESP] = STACK;
  regs[P] = WINDOW + WINDOW_SIZE / 2;
  const mem = Array.from({ length: WINDOW_SIZE }, () => rng.below(256));
  const flags = (rng.u32() & STATUS) | (rng.below(4) === 0 ? DF : 0);
  const ALLF = STATUS | DF;
  return {
    guest: b.guest, native: b.native, gOff: b.gOff, nOff: b.nOff, regs, flags, mem,
    maskEnd: ALLF & ~b.undef, maskAny: ALLF & ~(b.undefAny | b.undef), listing: b.listing,
  };
}
