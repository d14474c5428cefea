// Which arithmetic flags a later instruction of the same block reads, after each instruction:
// the translator computes an instruction's flags on the spot only when one does (a Jcc after
// CMP, an ADC after ADD). Otherwise it computes the value alone and leaves the flags to be
// replayed, by the core's own helper, on the way out of the block — at an exit (a fault, a slow
// path that ends the block, the block's end) or before the interpreter runs an instruction —
// where they are exact. The CF/OF of `rol esi, 7` in an MD5 round, overwritten by the ADD two
// instructions on, then cost nothing on the path that does not leave.
//
// The facts (what each instruction reads and may write) come from the opcode table; what an
// instruction surely overwrites is decided here.
import { rowFor } from "../x86/derive.ts";
import type { Insn } from "./x86-decode.ts";
import { F_CF, F_PF, F_AF, F_ZF, F_SF, F_OF } from "../build/layout.ts";

export const CF = F_CF, PF = F_PF, AF = F_AF, ZF = F_ZF, SF = F_SF, OF = F_OF;
export const ARITH = CF | PF | AF | ZF | SF | OF;

/** What an instruction does to the flags: reads, may write, surely writes (when it completes). */
export interface FlagEffect { read: number; write: number; kill: number; readsForFlagsOnly: boolean }

export function flagEffect(i: Insn): FlagEffect {
  const op = i.op;
  const row = rowFor(op, i.reg);
  const read = row?.read ?? ARITH, write = row?.write ?? ARITH;
  let kill = 0;
  // ADD OR ADC SBB AND SUB XOR CMP, TEST, NEG: all six flags.
  if (op < 0x40 && (op & 7) < 6) kill = ARITH;
  else if (op === 0x80 || op === 0x81 || op === 0x83 || op === 0x84 || op === 0x85 || op === 0xa8 || op === 0xa9) kill = ARITH;
  else if ((op === 0xf6 || op === 0xf7) && (i.reg === 0 || i.reg === 3)) kill = ARITH;
  // IMUL r, r/m (and an immediate): CF OF from the product, SF ZF PF from the result, AF 0.
  else if (op === 0x1af || op === 0x69 || op === 0x6b) kill = ARITH;
  // INC/DEC keep CF.
  else if ((op >= 0x40 && op <= 0x4f) || ((op === 0xfe || op === 0xff) && i.reg < 2)) kill = ARITH & ~CF;
  // Shifts and rotates by a constant: a masked count of 0 writes nothing; RCL/RCR may rotate
  // by a multiple of size + 1 and leave CF.
  else if (op === 0xc0 || op === 0xc1 || op === 0xd0 || op === 0xd1) {
    const n = op <= 0xc1 ? i.imm & 31 : 1;
    if (n !== 0 && i.reg !== 2 && i.reg !== 3) kill = i.reg < 2 ? CF | OF : ARITH;
  }
  // INC/DEC "read" CF only to carry it along with the flags they write.
  const incDec = (op >= 0x40 && op <= 0x4f) || ((op === 0xfe || op === 0xff) && i.reg < 2);
  return { read, write, kill, readsForFlagsOnly: incDec };
}

/** For each instruction of a block, the flags a later instruction of the block may read before
 *  they are overwritten. Nothing is live after the last one: leaving replays what is owed. */
export function flagsReadLater(insns: readonly Insn[]): number[] {
  const out = new Array<number>(insns.length);
  let live = 0;
  for (let j = insns.length - 1; j >= 0; j--) {
    const e = flagEffect(insns[j]!);
    out[j] = live;
    const deferred = (e.write & live) === 0;
    live = (live & ~e.kill) | (deferred && e.readsForFlagsOnly ? 0 : e.read);
  }
  return out;
}
