// Instruction decoding for the translator (SDM Vol. 2 §2.1 and Appendix A): prefixes, opcode,
// ModRM/SIB/displacement and immediates of one instruction of 32-bit code, from a byte array.
// The interpreter (assembly/cpu/decode.ts) decodes while it executes; this one only describes,
// so the translator can choose what to generate and where the next instruction starts.
// The opcode facts (ModRM, immediates, which opcodes it knows) come from the opcode table.
import { KNOWN, MODRM, immOf } from "../x86/derive.ts";

export const SEG_ES = 0, SEG_CS = 1, SEG_SS = 2, SEG_DS = 3, SEG_FS = 4, SEG_GS = 5;

export interface Mem {
  /** Base register, or -1. */
  base: number;
  /** Index register, or -1 (ESP cannot be an index). */
  index: number;
  scale: number;
  disp: number;
  /** Effective segment: the override, or SS for an EBP/ESP base, else DS. */
  seg: number;
}

export interface Insn {
  eip: number;
  len: number;
  /** Opcode: 0x00..0xFF, or 0x100 | second byte after 0F. */
  op: number;
  o16: boolean;
  a16: boolean;
  /** Segment override, or -1. */
  segOvr: number;
  rep: number; // 0, 0xF2 or 0xF3
  lock: boolean;
  hasModrm: boolean;
  mod: number;
  reg: number;
  rm: number;
  /** The memory operand (mod != 3, 32-bit addressing), else null. */
  mem: Mem | null;
  /** First immediate (sign-extended where the opcode says so), else 0. */
  imm: number;
  /** Second immediate (ENTER's nesting level, a far pointer's selector). */
  imm2: number;
}

/** Decode the instruction at code[at] (EIP `eip`). Null: not decodable here (unknown opcode,
 *  longer than 15 bytes, or it runs past the end of `code`) — the interpreter deals with it. */
export function decode(code: Uint8Array, at: number, eip: number): Insn | null {
  const start = at;
  const end = code.length;
  const u8 = () => (at < end ? code[at++]! : -1);
  const insn: Insn = {
    eip, len: 0, op: 0, o16: false, a16: false, segOvr: -1, rep: 0, lock: false,
    hasModrm: false, mod: 0, reg: 0, rm: 0, mem: null, imm: 0, imm2: 0,
  };
  let b: number;
  for (;;) {
    b = u8();
    if (b < 0) return null;
    if (b === 0x66) insn.o16 = true;
    else if (b === 0x67) insn.a16 = true;
    else if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e) insn.segOvr = (b >> 3) & 3;
    else if (b === 0x64 || b === 0x65) insn.segOvr = b - 0x60;
    else if (b === 0xf0) insn.lock = true;
    else if (b === 0xf2 || b === 0xf3) insn.rep = b;
    else break;
    if (at - start >= 15) return null;
  }
  let op = b;
  if (op === 0x0f) {
    const b2 = u8();
    if (b2 < 0) return null;
    op = 0x100 | b2;
  }
  // Unknown or undocumented (SALC, INT1): leave it to the interpreter.
  if (!KNOWN[op]) return null;
  const hasModrm = MODRM[op] === 1;
  insn.op = op;
  if (hasModrm) {
    const m = u8();
    if (m < 0) return null;
    insn.hasModrm = true;
    insn.mod = m >> 6; insn.reg = (m >> 3) & 7; insn.rm = m & 7;
    if (insn.mod !== 3) {
      if (insn.a16) {
        // 16-bit addressing is left to the interpreter; only its length matters here.
        if (insn.mod === 1) at += 1;
        else if (insn.mod === 2 || (insn.mod === 0 && insn.rm === 6)) at += 2;
      } else {
        const mem: Mem = { base: -1, index: -1, scale: 0, disp: 0, seg: SEG_DS };
        let ss = false;
        if (insn.rm === 4) {
          const sib = u8();
          if (sib < 0) return null;
          const base = sib & 7, idx = (sib >> 3) & 7;
          if (base === 5 && insn.mod === 0) { mem.disp = i32(code, at); at += 4; } else { mem.base = base; ss = base === 4 || base === 5; }
          if (idx !== 4) { mem.index = idx; mem.scale = sib >> 6; }
        } else if (insn.rm === 5 && insn.mod === 0) {
          mem.disp = i32(code, at); at += 4;
        } else {
          mem.base = insn.rm; ss = insn.rm === 5;
        }
        if (insn.mod === 1) { mem.disp = (mem.disp + ((code[at] ?? 0) << 24 >> 24)) | 0; at += 1; } else if (insn.mod === 2) { mem.disp = (mem.disp + i32(code, at)) | 0; at += 4; }
        mem.seg = insn.segOvr >= 0 ? insn.segOvr : ss ? SEG_SS : SEG_DS;
        insn.mem = mem;
      }
    }
  }
  const osz = insn.o16 ? 2 : 4;
  switch (immOf(op, insn.reg)) {
    case "ib": insn.imm = code[at] ?? 0; at += 1; break;
    case "iw": insn.imm = u16(code, at); at += 2; break;
    case "iz": insn.imm = osz === 4 ? i32(code, at) : u16(code, at); at += osz; break;
    case "iwib": insn.imm = u16(code, at); insn.imm2 = code[at + 2] ?? 0; at += 3; break;
    case "ptr": insn.imm = osz === 4 ? i32(code, at) : u16(code, at); at += osz; insn.imm2 = u16(code, at); at += 2; break;
    case "moffs": insn.imm = insn.a16 ? u16(code, at) : i32(code, at); at += insn.a16 ? 2 : 4; break;
    case "none": break;
  }
  if (at > end || at - start > 15) return null;
  insn.len = at - start;
  return insn;
}

function i32(code: Uint8Array, at: number): number {
  return ((code[at] ?? 0) | ((code[at + 1] ?? 0) << 8) | ((code[at + 2] ?? 0) << 16) | ((code[at + 3] ?? 0) << 24)) | 0;
}
function u16(code: Uint8Array, at: number): number {
  return (code[at] ?? 0) | ((code[at + 1] ?? 0) << 8);
}
