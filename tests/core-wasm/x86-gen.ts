// Random x86 (32-bit, CPL 0, flat) instruction sequences for the differential CPU fuzzer
// (jit.fuzz.test.ts). A sequence is a list of items, each a form from FORMS plus six random
// words the form draws its operands from; build() turns it into code bytes. Fast-check shrinks
// the list and the words, so a failure comes back as a few simple instructions.
//
// The sequences stay inside the machine of cpu-diff.ts: memory operands go through a pointer
// register P (never written by a random instruction) into the data page, the stack is ESP's (never
// a random destination either), and divisors, bit offsets and string counts are guarded where an
// unguarded value would reach arbitrary memory. On purpose some operands fault: loads and stores
// to the unmapped page after the data page (and across into it), unguarded DIV/IDIV.
//
// Flags: the generator tracks which arithmetic flags may be undefined (after MUL, DIV, shifts by
// more than one, logic ops' AF, BT, BSF...) along every path, including forward branches, and puts
// a CMP before any instruction that reads one, so both runs see defined values. The case carries
// the flags still possibly undefined at the end (and anywhere, for a fault's pushed EFLAGS).
import { DATA, UNMAPPED, STACK_TOP } from "./cpu-diff.ts";

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;
const LOGIC_DEF = CF | PF | ZF | SF | OF;
/** The flags each condition code reads (Jcc/SETcc/CMOVcc low nibble). */
const CC_READS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];

const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
/** Candidates for the pointer register (a base that is not ESP). */
export const POINTER_REGS = [EBX, EBP, ESI, EDI];

interface Effect { reads?: number; defs?: number; undefs?: number }
type Item =
  | { t: "ins"; bytes: number[]; refs?: { at: number; label: number; add: number }[]; name: string }
  | { t: "br"; kind: "jcc" | "jmp" | "call" | "loop" | "jecxz"; cc: number; label: number; long: boolean; name: string }
  | { t: "label"; id: number };

/** One case of the fuzzer: code and starting state, everything the two runs need. */
export interface Case {
  /** Code bytes, loaded at `base` (the LGDT/LIDT prologue included). */
  code: string;
  base: number;
  regs: number[];
  flags: number;
  /** Seeds the data, stack and neighbouring pages' bytes. */
  memSeed: number;
  /** JIT threshold of the translated run (1: every block at once; 2: on its second run). */
  threshold: number;
  /** run() budget per call (the slices a VM's run loop makes). */
  slice: number;
  /** Flags possibly undefined where the sequence ends, and anywhere in it (for a fault). */
  undefEnd: number;
  undefAny: number;
  /** The instructions, for the report. */
  listing?: string[];
}

/** One raw item: form index and six words. */
export type RawItem = [number, number, number, number, number, number, number];
export interface RawCase { items: RawItem[]; regs: number[]; flags: number; memSeed: number; pointer: number; pOff: number; pageEnd: boolean; threshold: number; slice: number }

const hex2 = (b: number) => (b & 0xff).toString(16).padStart(2, "0");
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const le16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
const imm = (size: number, v: number) => (size === 8 ? [v & 0xff] : size === 16 ? le16(v) : le32(v));
const opsz = (size: number) => (size === 16 ? [0x66] : []);
const REG_NAMES: Record<number, string[]> = {
  8: ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"],
  16: ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"],
  32: ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"],
};

/** The state of one build: items emitted so far and what the flags may hold. */
class Builder {
  items: Item[] = [];
  subs: Item[][] = [];
  undef = 0;
  undefAny = 0;
  /** Labels of forward branches still to be placed: items left before them, flags at the branch. */
  pending: { label: number; left: number; undef: number }[] = [];
  /** Deferred SMC targets: emitted when `left` reaches 0. */
  deferred: { left: number; emit: () => void }[] = [];
  nextLabel = 1;
  reserved = new Set<number>([ESP]);
  inBody = false;
  /** Prefixes for the instruction that takes the memory operand just made (see mem()). */
  memPrefix: number[] = [];
  words: number[] = [];
  wi = 0;

  constructor(readonly P: number) { this.reserved.add(P); }

  /** The next random word of this item (after the six: a hash of the last one). */
  w(): number {
    if (this.wi < this.words.length) return this.words[this.wi++]! >>> 0;
    const x = Math.imul((this.words[this.words.length - 1] ?? 0) ^ (this.wi++ * 0x9e3779b9), 0x85ebca6b);
    return (x ^ (x >>> 13)) >>> 0;
  }
  r(n: number): number { return this.w() % n; }
  pick<T>(a: readonly T[]): T { return a[this.r(a.length)]!; }

  /** A register the sequence may write (a reg8 index for size 8: its full register must be free). */
  dst(size: number): number {
    const ok = [0, 1, 2, 3, 4, 5, 6, 7].filter((r) => !this.reserved.has(size === 8 ? r & 3 : r));
    return ok[this.r(ok.length)]!;
  }
  /** Any register, for reading. */
  src(): number { return this.r(8); }

  /** Flags effect of one instruction, in program order. */
  private flow(e: Effect): void {
    const defs = e.defs ?? 0, undefs = e.undefs ?? 0;
    this.undef = (this.undef & ~defs) | undefs;
    this.undefAny |= this.undef;
  }
  /** Emit an instruction; a CMP first if it reads a flag that may be undefined. */
  ins(name: string, bytes: number[], e: Effect = {}, refs?: { at: number; label: number; add: number }[]): void {
    if ((e.reads ?? 0) & this.undef) this.fixFlags();
    if (this.memPrefix.length) {
      // Prefixes go first: references into the bytes move with them.
      const k = this.memPrefix.length;
      bytes = [...this.memPrefix, ...bytes];
      refs = refs?.map((x) => ({ ...x, at: x.at + k }));
      name = `${this.memPrefix.map(hex2).join(" ")}: ${name}`;
      this.memPrefix = [];
    }
    this.items.push({ t: "ins", bytes, name, ...(refs ? { refs } : {}) });
    this.flow(e);
  }
  fixFlags(): void {
    const a = this.src(), b = this.src();
    this.items.push({ t: "ins", bytes: [0x39, 0xc0 | (b << 3) | a], name: `cmp ${REG_NAMES[32]![a]}, ${REG_NAMES[32]![b]}` });
    this.flow({ defs: ARITH });
  }
  label(id: number): void { this.items.push({ t: "label", id }); }
  newLabel(): number { return this.nextLabel++; }

  /** A forward branch to a label placed `ahead` items later. */
  forward(kind: "jcc" | "jmp" | "jecxz", cc: number, ahead: number, long: boolean, name: string, reads = 0): void {
    if (reads & this.undef) this.fixFlags();
    const label = this.newLabel();
    this.items.push({ t: "br", kind, cc, label, long, name });
    this.pending.push({ label, left: ahead, undef: this.undef });
  }
  /** Called before each new item: place the labels and deferred targets that are due. */
  tick(): void {
    for (const p of this.pending) p.left--;
    for (const p of this.pending.filter((q) => q.left < 0)) this.placeLabel(p);
    for (const d of this.deferred) d.left--;
    for (const d of this.deferred.filter((q) => q.left < 0)) this.deferred.splice(this.deferred.indexOf(d), 1), d.emit();
  }
  placeLabel(p: { label: number; undef: number }): void {
    this.pending.splice(this.pending.indexOf(p as never), 1);
    this.label(p.label);
    this.undef |= p.undef; // paths merge: a flag undefined on either is undefined here
    this.undefAny |= this.undef;
  }
  flush(): void {
    for (const p of [...this.pending]) this.placeLabel(p);
    for (const d of this.deferred.splice(0)) d.emit();
  }

  /**
   * A memory operand with `reg` in ModRM.reg: bytes from ModRM on. Emits guards first when an
   * index needs one. Mostly the data page through P; sometimes the stack, an absolute address,
   * or (fault) the unmapped page or across into it.
   */
  mem(reg: number, size: number): { modrm: number[]; desc: string } {
    // A segment override (all segments are flat: the same address, another path in the JIT),
    // or LOCK: valid on a read-modify-write of memory, #UD on anything else.
    const pfx = this.r(16);
    const prefix = pfx < 3 ? [[0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65][this.r(6)]!] : pfx === 3 ? [0xf0] : [];
    const m = this.memOperand(reg, size);
    this.memPrefix = prefix;
    return m;
  }
  private memOperand(reg: number, size: number): { modrm: number[]; desc: string } {
    const P = this.P, k = this.r(16);
    const rn = REG_NAMES[32]!;
    if (k === 0) {
      // The unmapped page, or an access that straddles into it.
      const a = this.r(2) ? UNMAPPED + this.r(0x1000) : UNMAPPED - 1 - this.r(size >> 3);
      return { modrm: [(reg << 3) | 5, ...le32(a)], desc: `[0x${a.toString(16)}]` };
    }
    if (k === 1) {
      const a = DATA + this.r(0x1000 - 4);
      return { modrm: [(reg << 3) | 5, ...le32(a)], desc: `[0x${a.toString(16)}]` };
    }
    if (k === 2) {
      const d = this.r(64) - 32;
      return { modrm: [0x40 | (reg << 3) | 4, 0x24, d & 0xff], desc: `[esp${d < 0 ? d : "+" + d}]` };
    }
    if (k <= 5) {
      // [P + idx*scale + disp8], the index masked first (a guard that is an ALU instruction too).
      const idx = this.dst(32), scale = this.r(4);
      if (idx !== ESP) {
        this.ins(`and ${rn[idx]}, 0x3f`, [0x83, 0xe0 | idx, 0x3f], { defs: LOGIC_DEF, undefs: AF });
        const d = this.r(128) - 64;
        return { modrm: [0x44 | (reg << 3), (scale << 6) | (idx << 3) | P, d & 0xff], desc: `[${rn[P]}+${rn[idx]}*${1 << scale}${d < 0 ? d : "+" + d}]` };
      }
    }
    if (k <= 9) {
      const d = this.r(256) - 128;
      return { modrm: [0x40 | (reg << 3) | P, d & 0xff], desc: `[${rn[P]}${d < 0 ? d : "+" + d}]` };
    }
    if (k <= 11) {
      const d = this.r(0x400) - 0x200;
      return { modrm: [0x80 | (reg << 3) | P, ...le32(d)], desc: `[${rn[P]}${d < 0 ? d : "+" + d}]` };
    }
    if (k <= 13 && P !== EBP) return { modrm: [(reg << 3) | P], desc: `[${rn[P]}]` };
    // [P] through a SIB byte with no index.
    const d = this.r(256) - 128;
    return { modrm: [0x44 | (reg << 3), 0x20 | P, d & 0xff], desc: `[${rn[P]}${d < 0 ? d : "+" + d}]` };
  }

  /** An r/m operand: a register (writable if `write`) or memory. */
  rm(reg: number, size: number, write: boolean, memOk = true): { modrm: number[]; desc: string; isReg: boolean; r: number } {
    if (!memOk || this.r(3) !== 0) {
      const r = write ? this.dst(size) : this.src();
      return { modrm: [0xc0 | (reg << 3) | r], desc: REG_NAMES[size]![r]!, isReg: true, r };
    }
    return { ...this.mem(reg, size), isReg: false, r: -1 };
  }
  size(): number { return this.pick([8, 16, 32, 32]); }
}

const ALU = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];
const aluEffect = (op: number): Effect => ({
  reads: op === 2 || op === 3 ? CF : 0,
  defs: op === 1 || op === 4 || op === 6 ? LOGIC_DEF : ARITH,
  undefs: op === 1 || op === 4 || op === 6 ? AF : 0,
});
const SHIFTS = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"];
/** Flags after a shift/rotate of `size` bits by `count` (null: CL, unknown). */
function shiftEffect(op: number, size: number, count: number | null): Effect {
  const rotate = op < 4, reads = op === 2 || op === 3 ? CF : 0;
  if (count === null) return { reads, undefs: OF | (rotate ? 0 : AF) | (!rotate && size < 32 ? CF : 0) };
  const c = count & 31;
  if (c === 0) return { reads };
  if (rotate) {
    // RCL/RCR by a multiple of size+1 (ROL/ROR: CF is taken from the result whatever the count).
    const carryKept = (op === 2 || op === 3) && c % (size + 1) === 0;
    return { reads, defs: (carryKept ? 0 : CF) | (c === 1 ? OF : 0), undefs: c === 1 ? 0 : OF };
  }
  return { defs: SF | ZF | PF | (c < size ? CF : 0) | (c === 1 ? OF : 0), undefs: AF | (c === 1 ? 0 : OF) | (c < size ? 0 : CF) };
}

/** A form: its name, weight, whether it may stand in a loop or subroutine body, and its builder. */
interface Form { name: string; weight: number; body: boolean; build(b: Builder): void }

export const FORMS: Form[] = [
  { name: "alu r/m, r", weight: 6, body: true, build(b) {
    const op = b.r(8), size = b.size(), toReg = b.r(2) === 1, write = op !== 7;
    const reg = toReg && write ? b.dst(size) : b.src();
    const m = b.rm(reg, size, write && !toReg);
    const n = REG_NAMES[size]!;
    b.ins(`${ALU[op]} ${toReg ? `${n[reg]}, ${m.desc}` : `${m.desc}, ${n[reg]}`}`, [...opsz(size), op * 8 + (size === 8 ? 0 : 1) + (toReg ? 2 : 0), ...m.modrm], aluEffect(op));
  } },
  { name: "alu r/m, imm", weight: 5, body: true, build(b) {
    const op = b.r(8), size = b.size(), v = b.w(), form = b.r(4);
    if (form === 0) {
      // AL/AX/EAX, imm: EAX is never reserved.
      b.ins(`${ALU[op]} ${REG_NAMES[size]![0]}, 0x${(v >>> 0).toString(16)}`, [...opsz(size), op * 8 + (size === 8 ? 4 : 5), ...imm(size, v)], aluEffect(op));
      return;
    }
    const m = b.rm(op, size, op !== 7);
    const sx = size !== 8 && form === 1;
    b.ins(`${ALU[op]} ${m.desc}, ${sx ? (v << 24) >> 24 : v & (size === 8 ? 0xff : size === 16 ? 0xffff : 0xffffffff)}`,
      [...opsz(size), size === 8 ? 0x80 : sx ? 0x83 : 0x81, ...m.modrm, ...(sx ? [v & 0xff] : imm(size, v))], aluEffect(op));
  } },
  { name: "test", weight: 2, body: true, build(b) {
    const size = b.size(), v = b.w();
    if (b.r(2)) {
      const m = b.rm(0, size, false);
      b.ins(`test ${m.desc}, imm`, [...opsz(size), size === 8 ? 0xf6 : 0xf7, ...m.modrm, ...imm(size, v)], { defs: LOGIC_DEF, undefs: AF });
    } else {
      const m = b.rm(b.src(), size, false);
      b.ins(`test ${m.desc}, reg`, [...opsz(size), size === 8 ? 0x84 : 0x85, ...m.modrm], { defs: LOGIC_DEF, undefs: AF });
    }
  } },
  { name: "inc/dec", weight: 3, body: true, build(b) {
    const size = b.size(), dec = b.r(2);
    const e = { defs: OF | SF | ZF | AF | PF };
    if (size !== 8 && b.r(2)) {
      const r = b.dst(size);
      b.ins(`${dec ? "dec" : "inc"} ${REG_NAMES[size]![r]}`, [...opsz(size), (dec ? 0x48 : 0x40) + r], e);
    } else {
      const m = b.rm(dec, size, true);
      b.ins(`${dec ? "dec" : "inc"} ${m.desc}`, [...opsz(size), size === 8 ? 0xfe : 0xff, ...m.modrm], e);
    }
  } },
  { name: "not/neg", weight: 2, body: true, build(b) {
    const size = b.size(), neg = b.r(2);
    const m = b.rm(2 + neg, size, true);
    b.ins(`${neg ? "neg" : "not"} ${m.desc}`, [...opsz(size), size === 8 ? 0xf6 : 0xf7, ...m.modrm], neg ? { defs: ARITH } : {});
  } },
  { name: "shift/rotate", weight: 5, body: true, build(b) {
    const op = b.r(8), size = b.size(), how = b.r(3);
    const m = b.rm(op, size, true);
    const w = size === 8 ? 0 : 1;
    if (how === 0) b.ins(`${SHIFTS[op]} ${m.desc}, 1`, [...opsz(size), 0xd0 + w, ...m.modrm], shiftEffect(op, size, 1));
    else if (how === 1) b.ins(`${SHIFTS[op]} ${m.desc}, cl`, [...opsz(size), 0xd2 + w, ...m.modrm], shiftEffect(op, size, null));
    else {
      const c = b.r(4) ? b.r(size + 2) : b.r(256);
      b.ins(`${SHIFTS[op]} ${m.desc}, ${c}`, [...opsz(size), 0xc0 + w, ...m.modrm, c], shiftEffect(op, size, c));
    }
  } },
  { name: "mul/imul", weight: 3, body: true, build(b) {
    const size = b.size(), form = size === 8 ? 0 : b.r(3);
    const e = { defs: CF | OF, undefs: SF | ZF | AF | PF };
    if (form === 0) {
      const signed = b.r(2), m = b.rm(4 + signed, size, false);
      b.ins(`${signed ? "imul" : "mul"} ${m.desc}`, [...opsz(size), size === 8 ? 0xf6 : 0xf7, ...m.modrm], e);
    } else if (form === 1) {
      const r = b.dst(size), m = b.rm(r, size, false);
      b.ins(`imul ${REG_NAMES[size]![r]}, ${m.desc}`, [...opsz(size), 0x0f, 0xaf, ...m.modrm], e);
    } else {
      const r = b.dst(size), m = b.rm(r, size, false), short = b.r(2), v = b.w();
      b.ins(`imul ${REG_NAMES[size]![r]}, ${m.desc}, imm`, [...opsz(size), short ? 0x6b : 0x69, ...m.modrm, ...(short ? [v & 0xff] : imm(size, v))], e);
    }
  } },
  { name: "div/idiv", weight: 3, body: true, build(b) {
    const size = b.size(), signed = b.r(2), guarded = b.r(4) !== 0;
    const e = { undefs: ARITH };
    const n = REG_NAMES[size]!;
    if (!guarded) {
      const m = b.rm(6 + signed, size, false);
      b.ins(`${signed ? "idiv" : "div"} ${m.desc} (unguarded)`, [...opsz(size), size === 8 ? 0xf6 : 0xf7, ...m.modrm], e);
      return;
    }
    // The dividend's high half from the low one, then a divisor the quotient fits.
    if (size === 8) b.ins(signed ? "cbw" : "mov ah, 0", signed ? [0x66, 0x98] : [0xb4, 0x00]);
    else if (signed) b.ins(size === 16 ? "cwd" : "cdq", [...opsz(size), 0x99]);
    else b.ins(`xor ${n[2]}, ${n[2]}`, [...opsz(size), 0x31, 0xd2], { defs: LOGIC_DEF, undefs: AF });
    const lim = size === 8 ? (signed ? 126 : 255) : signed ? 0x7ffd : 0xffff;
    let d = 2 + b.r(lim - 1);
    if (signed && b.r(2)) d = -d;
    if (size === 8) d = signed ? d : Math.max(1, d);
    // Not the dividend's registers: AL and AH (8-bit), EAX and EDX.
    const regOk = (size === 8 ? [1, 2, 3, 5, 6, 7] : [1, 3, 5, 6, 7]).filter((r) => !b.reserved.has(size === 8 ? r & 3 : r));
    let m;
    if (b.r(2) && regOk.length) {
      const r = regOk[b.r(regOk.length)]!;
      b.ins(`mov ${n[r]}, ${d}`, [...opsz(size), size === 8 ? 0xb0 + r : 0xb8 + r, ...imm(size, d)]);
      m = { modrm: [0xc0 | ((6 + signed) << 3) | r], desc: n[r]! };
    }
    if (!m) {
      // A memory divisor: store it, then divide by the same address (guards apply to both).
      const a = b.mem(0, size);
      b.ins(`mov ${a.desc}, ${d}`, [...opsz(size), size === 8 ? 0xc6 : 0xc7, ...a.modrm, ...imm(size, d)]);
      m = { modrm: [a.modrm[0]! | ((6 + signed) << 3), ...a.modrm.slice(1)], desc: a.desc };
    }
    b.ins(`${signed ? "idiv" : "div"} ${m.desc}`, [...opsz(size), size === 8 ? 0xf6 : 0xf7, ...m.modrm], e);
  } },
  { name: "lea", weight: 2, body: true, build(b) {
    const size = b.r(4) ? 32 : 16, r = b.dst(size);
    // Any base, index and displacement: LEA reads no memory.
    const mod = b.r(3), rm = b.r(8), idx = b.r(8), base = b.r(8), scale = b.r(4), v = b.w();
    const modrm = [(mod << 6) | (r << 3) | rm];
    if (rm === 4) modrm.push((scale << 6) | (idx << 3) | base);
    if (mod === 1) modrm.push(v & 0xff);
    else if (mod === 2 || (mod === 0 && (rm === 5 || (rm === 4 && base === 5)))) modrm.push(...le32(v));
    if (b.r(6) === 0) {
      // 16-bit addressing (67): [BX+SI+disp] and friends.
      const m16 = [(mod << 6) | (r << 3) | rm, ...(mod === 1 ? [v & 0xff] : mod === 2 || (mod === 0 && rm === 6) ? le16(v) : [])];
      b.ins(`lea ${REG_NAMES[size]![r]}, [a16 form]`, [...opsz(size), 0x67, 0x8d, ...m16]);
      return;
    }
    b.ins(`lea ${REG_NAMES[size]![r]}, [form]`, [...opsz(size), 0x8d, ...modrm]);
  } },
  { name: "mov", weight: 6, body: true, build(b) {
    const size = b.size(), form = b.r(6), n = REG_NAMES[size]!, w = size === 8 ? 0 : 1;
    if (form === 0) {
      const r = b.dst(size), v = b.w();
      b.ins(`mov ${n[r]}, imm`, [...opsz(size), size === 8 ? 0xb0 + r : 0xb8 + r, ...imm(size, v)]);
    } else if (form === 1) {
      const m = b.rm(0, size, true), v = b.w();
      b.ins(`mov ${m.desc}, imm`, [...opsz(size), 0xc6 + w, ...m.modrm, ...imm(size, v)]);
    } else if (form === 2) {
      // moffs: AL/AX/EAX to or from an absolute address.
      const store = b.r(2), a = b.r(8) ? DATA + b.r(0x1000 - 4) : UNMAPPED - 2 + b.r(4);
      b.ins(`mov ${store ? `[0x${a.toString(16)}], ${n[0]}` : `${n[0]}, [0x${a.toString(16)}]`}`, [...opsz(size), 0xa0 + store * 2 + w, ...le32(a)]);
    } else if (form === 3 && size !== 8) {
      // MOVZX/MOVSX from 8 or 16 bits.
      const r = b.dst(size), from16 = size === 32 && b.r(2) === 1, sx = b.r(2);
      const m = b.rm(r, from16 ? 16 : 8, false);
      b.ins(`mov${sx ? "sx" : "zx"} ${n[r]}, ${m.desc}`, [...opsz(size), 0x0f, (sx ? 0xbe : 0xb6) + (from16 ? 1 : 0), ...m.modrm]);
    } else {
      const toReg = b.r(2) === 1;
      const reg = toReg ? b.dst(size) : b.src();
      const m = b.rm(reg, size, !toReg);
      b.ins(`mov ${toReg ? `${n[reg]}, ${m.desc}` : `${m.desc}, ${n[reg]}`}`, [...opsz(size), 0x88 + w + (toReg ? 2 : 0), ...m.modrm]);
    }
  } },
  { name: "push/pop", weight: 4, body: true, build(b) {
    const form = b.r(7), size = b.r(6) ? 32 : 16, n = REG_NAMES[size]!;
    if (form === 0 || form === 1) { const r = form ? b.src() : 0; b.ins(`push ${n[r]}`, [...opsz(size), 0x50 + r]); }
    else if (form === 2) { const r = b.dst(size); b.ins(`pop ${n[r]}`, [...opsz(size), 0x58 + r]); }
    else if (form === 3) { const v = b.w(); b.ins("push imm8", [...opsz(size), 0x6a, v & 0xff]); }
    else if (form === 4) { const v = b.w(); b.ins("push imm", [...opsz(size), 0x68, ...imm(size, v)]); }
    else if (form === 5) { const m = b.mem(6, size); b.ins(`push ${m.desc}`, [...opsz(size), 0xff, ...m.modrm]); }
    else {
      // POP r/m: an ESP-based address would be computed after the pop; keep to P's.
      let m = b.mem(0, size);
      while (m.desc.startsWith("[esp")) m = b.mem(0, size);
      b.ins(`pop ${m.desc}`, [...opsz(size), 0x8f, ...m.modrm]);
    }
  } },
  { name: "xchg", weight: 2, body: true, build(b) {
    const size = b.size(), n = REG_NAMES[size]!;
    if (size !== 8 && b.r(3) === 0) { const r = b.dst(size); b.ins(`xchg ${n[0]}, ${n[r]}`, [...opsz(size), 0x90 + r]); return; }
    const reg = b.dst(size), m = b.rm(reg, size, true);
    b.ins(`xchg ${m.desc}, ${n[reg]}`, [...opsz(size), size === 8 ? 0x86 : 0x87, ...m.modrm]);
  } },
  { name: "cmovcc", weight: 2, body: true, build(b) {
    const size = b.r(2) ? 32 : 16, cc = b.r(16), r = b.dst(size), m = b.rm(r, size, false);
    b.ins(`cmov${cc.toString(16)} ${REG_NAMES[size]![r]}, ${m.desc}`, [...opsz(size), 0x0f, 0x40 + cc, ...m.modrm], { reads: CC_READS[cc] });
  } },
  { name: "setcc", weight: 2, body: true, build(b) {
    const cc = b.r(16), m = b.rm(0, 8, true);
    b.ins(`set${cc.toString(16)} ${m.desc}`, [0x0f, 0x90 + cc, ...m.modrm], { reads: CC_READS[cc] });
  } },
  { name: "bt/bts/btr/btc", weight: 2, body: true, build(b) {
    const op = b.r(4), size = b.r(2) ? 32 : 16, e = { defs: CF, undefs: OF | SF | AF | PF };
    const names = ["bt", "bts", "btr", "btc"];
    if (b.r(2)) {
      const m = b.rm(4 + op, size, op !== 0), v = b.r(256);
      b.ins(`${names[op]} ${m.desc}, ${v}`, [...opsz(size), 0x0f, 0xba, ...m.modrm, v], e);
      return;
    }
    // Register bit offset: with a memory operand it reaches bit offset/8 bytes away, so mask it.
    const r = b.dst(32);
    const m = b.rm(r, size, op !== 0);
    if (!m.isReg) b.ins(`and ${REG_NAMES[32]![r]}, 0x3ff`, [0x81, 0xe0 | r, ...le32(0x3ff)], { defs: LOGIC_DEF, undefs: AF });
    b.ins(`${names[op]} ${m.desc}, ${REG_NAMES[size]![r]}`, [...opsz(size), 0x0f, 0xa3 + op * 8, ...m.modrm], e);
  } },
  { name: "shld/shrd", weight: 2, body: true, build(b) {
    const size = b.r(2) ? 32 : 16, right = b.r(2), src = b.src(), n = REG_NAMES[size]!;
    const byCl = b.r(2) === 1 && !b.reserved.has(ECX);
    if (byCl && size === 16) b.ins("and ecx, 15", [0x83, 0xe1, 0x0f], { defs: LOGIC_DEF, undefs: AF }); // a count > 16 leaves the result undefined
    const m = b.rm(src, size, true);
    const name = right ? "shrd" : "shld";
    if (byCl) {
      b.ins(`${name} ${m.desc}, ${n[src]}, cl`, [...opsz(size), 0x0f, right ? 0xad : 0xa5, ...m.modrm], { undefs: OF | AF });
    } else {
      const c = size === 16 ? b.r(17) : b.r(40);
      const k = c & 31;
      b.ins(`${name} ${m.desc}, ${n[src]}, ${c}`, [...opsz(size), 0x0f, right ? 0xac : 0xa4, ...m.modrm, c],
        k === 0 ? {} : { defs: CF | SF | ZF | PF | (k === 1 ? OF : 0), undefs: AF | (k === 1 ? 0 : OF) });
    }
  } },
  { name: "string op", weight: 3, body: false, build(b) {
    // ESI/EDI into the data page (near its end, a run may cross into the unmapped page), a
    // small count, a direction.
    const op = b.r(5), size = b.size(), rep = b.r(3), count = b.r(4) === 0 ? 0 : 1 + b.r(24), down = b.r(3) === 0;
    const si = DATA + b.r(0x1000), di = DATA + b.r(0x1000);
    b.ins(`mov esi, 0x${si.toString(16)}`, [0xbe, ...le32(si)]);
    b.ins(`mov edi, 0x${di.toString(16)}`, [0xbf, ...le32(di)]);
    b.ins(`mov ecx, ${count}`, [0xb9, ...le32(count)]);
    b.ins(down ? "std" : "cld", [down ? 0xfd : 0xfc]);
    const ops = [["movs", 0xa4], ["stos", 0xaa], ["lods", 0xac], ["cmps", 0xa6], ["scas", 0xae]] as const;
    const [name, base] = ops[op]!;
    const compares = op >= 3;
    const prefix = rep === 0 ? [] : [rep === 1 ? 0xf3 : 0xf2];
    b.ins(`${rep ? (rep === 1 ? "rep " : "repne ") : ""}${name}${size === 8 ? "b" : size === 16 ? "w" : "d"}`,
      [...prefix, ...opsz(size), base + (size === 8 ? 0 : 1)], compares && !(rep && count === 0) ? { defs: ARITH } : {});
  } },
  { name: "jcc forward", weight: 4, body: false, build(b) {
    const cc = b.r(16), kind = b.r(8);
    if (kind === 0) b.forward("jmp", 0, b.r(5), b.r(2) === 1, "jmp");
    else if (kind === 1) b.forward("jecxz", 0, b.r(2), false, "jecxz");
    else b.forward("jcc", cc, b.r(6), b.r(2) === 1, `j${cc.toString(16)}`, CC_READS[cc]);
  } },
  { name: "call/ret", weight: 2, body: false, build(b) {
    // The body runs at the call in program order: the flags analysis follows it there.
    const label = b.newLabel(), indirect = b.r(3) === 0;
    if (indirect) {
      const r = b.dst(32);
      b.ins(`mov ${REG_NAMES[32]![r]}, sub${label}`, [0xb8 + r, 0, 0, 0, 0], {}, [{ at: 1, label, add: 0 }]);
      b.ins(`call ${REG_NAMES[32]![r]}`, [0xff, 0xd0 | r]);
    } else b.items.push({ t: "br", kind: "call", cc: 0, label, long: true, name: `call sub${label}` });
    const main = b.items;
    b.items = [{ t: "label", id: label }];
    b.inBody = true;
    bodyItems(b);
    const pop = b.r(4) === 0 ? b.r(3) * 4 : -1;
    b.ins(pop < 0 ? "ret" : `ret ${pop}`, pop < 0 ? [0xc3] : [0xc2, ...le16(pop)]);
    b.inBody = false;
    b.subs.push(b.items);
    b.items = main;
  } },
  { name: "loop", weight: 2, body: false, build(b) {
    const n = 1 + b.r(4), kind = b.r(2);
    b.ins(`mov ecx, ${n}`, [0xb9, ...le32(n)]);
    const top = b.newLabel();
    b.label(top);
    // Whatever the flags are at the back edge reaches the top: assume none defined there.
    b.undef = ARITH;
    b.undefAny |= b.undef;
    b.reserved.add(ECX);
    b.inBody = true;
    bodyItems(b);
    b.inBody = false;
    b.reserved.delete(ECX);
    if (kind === 0) b.items.push({ t: "br", kind: "loop", cc: 0, label: top, long: false, name: "loop" });
    else {
      b.ins("dec ecx", [0x49], { defs: OF | SF | ZF | AF | PF });
      b.items.push({ t: "br", kind: "jcc", cc: 5, label: top, long: b.r(2) === 1, name: "jnz top" });
    }
  } },
  { name: "misc", weight: 3, body: true, build(b) {
    const k = b.r(12);
    if (k === 0) b.ins("cdq", [0x99]);
    else if (k === 1) b.ins("cwde", [0x98]);
    else if (k === 2) b.ins("clc", [0xf8], { defs: CF });
    else if (k === 3) b.ins("stc", [0xf9], { defs: CF });
    else if (k === 4) b.ins("cmc", [0xf5], { reads: CF, defs: CF });
    else if (k === 5) b.ins("sahf", [0x9e], { defs: SF | ZF | AF | PF | CF });
    else if (k === 6) b.ins("lahf", [0x9f], { reads: SF | ZF | AF | PF | CF });
    else if (k === 7) { const r = b.dst(32); b.ins(`bswap ${REG_NAMES[32]![r]}`, [0x0f, 0xc8 + r]); }
    else if (k === 8) {
      // BSF/BSR: a zero source leaves the destination undefined, so set a bit of it first.
      const size = b.r(2) ? 32 : 16, r = b.dst(size), bit = b.r(size);
      const m = b.rm(r, size, true);
      b.ins(`or ${m.desc}, 1<<${bit}`, [...opsz(size), 0x81, (m.modrm[0]! & 0xc7) | (1 << 3), ...m.modrm.slice(1), ...imm(size, 2 ** bit)], { defs: LOGIC_DEF, undefs: AF });
      const rev = b.r(2);
      b.ins(`${rev ? "bsr" : "bsf"} ${REG_NAMES[size]![r]}, ${m.desc}`, [...opsz(size), 0x0f, rev ? 0xbd : 0xbc, ...[(m.modrm[0]! & 0xc7) | (r << 3)], ...m.modrm.slice(1)],
        { defs: ZF, undefs: CF | OF | SF | AF | PF });
    } else if (k === 9) {
      const size = b.size(), reg = b.dst(size), m = b.rm(reg, size, true);
      b.ins(`xadd ${m.desc}, ${REG_NAMES[size]![reg]}`, [...opsz(size), 0x0f, size === 8 ? 0xc0 : 0xc1, ...m.modrm], { defs: ARITH });
    } else if (k === 10) {
      const size = b.size(), reg = b.src(), m = b.rm(reg, size, true);
      b.ins(`cmpxchg ${m.desc}, ${REG_NAMES[size]![reg]}`, [...opsz(size), 0x0f, size === 8 ? 0xb0 : 0xb1, ...m.modrm], { defs: ARITH });
    } else {
      // POPF of a known value: the arithmetic flags, DF, sometimes TF (a single-step trap after
      // the next instruction); PUSHF reads them all.
      const v = (b.w() & (ARITH | 0x400)) | (b.r(8) === 0 ? 0x100 : 0) | 2;
      b.ins(`push 0x${v.toString(16)}`, [0x68, ...le32(v)]);
      b.ins("popf", [0x9d], { defs: ARITH });
      if (b.r(2)) b.ins("pushf", [0x9c], { reads: ARITH });
    }
  } },
  { name: "self-modifying store", weight: 2, body: true, build(b) {
    // A store into the code: the imm32 of a MOV r32, imm32, or INC r32 turned into DEC r32 (both
    // leave the same flags); the target before the store (stale unless in a loop) or after it.
    const label = b.newLabel(), byte = b.r(2) === 1, r = b.dst(32), r2 = b.dst(32), v = b.w();
    const target = () => {
      b.label(label);
      if (byte) b.ins(`inc ${REG_NAMES[32]![r]} (patched)`, [0x40 + r], { defs: OF | SF | ZF | AF | PF });
      else b.ins(`mov ${REG_NAMES[32]![r]}, 0x${v.toString(16)} (patched)`, [0xb8 + r, ...le32(v)]);
    };
    const store = () => {
      if (byte) b.ins(`mov byte [sub${label}], dec ${REG_NAMES[32]![r2]}`, [0xc6, 0x05, 0, 0, 0, 0, 0x48 + r2], {}, [{ at: 2, label, add: 0 }]);
      else b.ins(`mov dword [sub${label}+1], imm`, [0xc7, 0x05, 0, 0, 0, 0, ...le32(Math.imul(v, 0x2545f491))], {}, [{ at: 2, label, add: 1 }]);
    };
    if (b.r(2)) (target(), store());
    else (store(), b.deferred.push({ left: b.r(4), emit: target }));
  } },
];

const FORM_WEIGHTS: number[] = FORMS.flatMap((f, i) => Array(f.weight).fill(i));
/** Number of distinct raw form indices (weighted): items draw from [0, FORM_SLOTS). */
export const FORM_SLOTS = FORM_WEIGHTS.length;

/** The items of a loop or subroutine body: the builder draws them itself (1 to 4, simple forms). */
function bodyItems(b: Builder): void {
  const n = 1 + b.r(4);
  const savedWords = b.words, savedWi = b.wi;
  const bodyForms = FORMS.filter((f) => f.body);
  for (let i = 0; i < n; i++) {
    const f = bodyForms[b.r(bodyForms.length)]!;
    const seed = b.w();
    b.words = [seed, seed * 3 + 1, seed ^ 0x5bd1e995, seed + 7, seed >>> 3, ~seed].map((x) => x >>> 0);
    b.wi = 0;
    f.build(b);
    b.words = savedWords;
    b.wi = savedWi;
  }
}

/** The prologue: LGDT and LIDT from the images cpu-diff.ts writes. */
function prologue(gdtr: number, idtr: number): number[] {
  return [0x0f, 0x01, 0x15, ...le32(gdtr), 0x0f, 0x01, 0x1d, ...le32(idtr)];
}

function assemble(main: Item[], subs: Item[][], base: number, head: number[]): Uint8Array {
  const all: Item[] = [...main, { t: "ins", bytes: [0xf4], name: "hlt" }, ...subs.flat()];
  const long = new Map<Item, boolean>();
  for (const it of all) if (it.t === "br") long.set(it, it.long);
  const size = (it: Item) => it.t === "label" ? 0 : it.t === "ins" ? it.bytes.length
    : it.kind === "call" ? 5 : it.kind === "jecxz" ? 2 : it.kind === "loop" ? (long.get(it) ? 7 : 2) : long.get(it) ? (it.kind === "jmp" ? 5 : 6) : 2;
  for (let pass = 0; ; pass++) {
    const at = new Map<number, number>();
    let pc = base + head.length;
    const pcOf = new Map<Item, number>();
    for (const it of all) {
      pcOf.set(it, pc);
      if (it.t === "label") at.set(it.id, pc);
      pc += size(it);
    }
    let changed = false;
    const out: number[] = [...head];
    for (const it of all) {
      const here = pcOf.get(it)!;
      if (it.t === "label") continue;
      if (it.t === "ins") {
        const bytes = it.bytes.slice();
        for (const ref of it.refs ?? []) bytes.splice(ref.at, 4, ...le32(at.get(ref.label)! + ref.add));
        out.push(...bytes);
        continue;
      }
      const end = here + size(it), rel = at.get(it.label)! - end;
      if (it.kind === "call") out.push(0xe8, ...le32(rel));
      else if (it.kind === "jecxz") {
        if (rel < -128 || rel > 127) throw new Error(`jecxz target out of rel8 range (${rel})`);
        out.push(0xe3, rel & 0xff);
      } else if (it.kind === "loop" && !long.get(it) && (rel < -128 || rel > 127)) {
        // A body too long for LOOP's rel8: DEC ECX; JNZ rel32 instead. It defines flags LOOP
        // leaves alone, which the analysis (no flag defined at the loop's top) already allows.
        long.set(it, true);
        changed = true;
      } else if (it.kind === "loop") out.push(...(long.get(it) ? [0x49, 0x0f, 0x85, ...le32(rel)] : [0xe2, rel & 0xff]));
      else if (!long.get(it) && (rel < -128 || rel > 127)) {
        long.set(it, true);
        changed = true;
      } else if (long.get(it)) out.push(...(it.kind === "jmp" ? [0xe9] : [0x0f, 0x80 + it.cc]), ...le32(rel));
      else out.push(it.kind === "jmp" ? 0xeb : 0x70 + it.cc, rel & 0xff);
    }
    if (!changed) return Uint8Array.from(out);
    if (pass > 20) throw new Error("branch sizes did not settle");
  }
}

/** Where the code goes: the start of a page, or its last bytes (so blocks cross into the next). */
export const CODE_BASES = [0x10000, 0x10ff0];

/** Build a case from fast-check's raw values. */
export function build(raw: RawCase, gdtr: number, idtr: number): Case {
  const P = POINTER_REGS[raw.pointer % POINTER_REGS.length]!;
  const b = new Builder(P);
  b.undef = 0;
  for (const [f, ...words] of raw.items) {
    b.tick();
    const form = FORMS[FORM_WEIGHTS[f % FORM_SLOTS]!]!;
    b.words = words;
    b.wi = 0;
    form.build(b);
  }
  b.flush();
  const base = CODE_BASES[raw.pageEnd ? 1 : 0]!;
  const code = assemble(b.items, b.subs, base, prologue(gdtr, idtr));
  const regs = raw.regs.map((r) => r >>> 0);
  regs[ESP] = STACK_TOP;
  regs[P] = DATA + 0x100 + (raw.pOff % 0xe00);
  const listing = [...b.items, { t: "ins", name: "hlt" } as Item, ...b.subs.flat()].map((it) =>
    it.t === "label" ? `L${it.id}:` : it.t === "ins" ? `  ${it.name}` : `  ${it.name} -> L${it.label}`);
  return {
    code: Array.from(code, hex2).join(""), base, regs, flags: raw.flags & (ARITH | 0x400), memSeed: raw.memSeed >>> 0,
    threshold: raw.threshold, slice: raw.slice, undefEnd: b.undef, undefAny: b.undefAny | b.undef, listing,
  };
}
