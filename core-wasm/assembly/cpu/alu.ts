// Integer arithmetic with EFLAGS semantics (SDM Vol. 2 per-instruction "Flags Affected").
// Operands arrive masked to the operand size sz (1, 2, 4).
import {
  flags, setLfCin, setLazy, getCF, materialize, setArith, szp, sizeMask, sizeSign,
  LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC,
} from "./flags";
import { F_CF, F_PF, F_AF, F_ZF, F_SF, F_OF } from "./state";

/** Group-1 op (ADD OR ADC SBB AND SUB XOR CMP = 0..7); returns the result (CMP: a - b). */
@inline export function alu(op: u32, sz: u32, a: u32, b: u32): u32 {
  let r: u32;
  switch (op) {
    case 0: r = a + b; setLazy(LF_ADD, sz, a, b, r); break;
    case 1: r = a | b; setLazy(LF_LOGIC, sz, a, b, r); break;
    case 2: { const c: u32 = getCF() ? 1 : 0; r = a + b + c; setLfCin(c); setLazy(LF_ADC, sz, a, b, r); break; }
    case 3: { const c: u32 = getCF() ? 1 : 0; r = a - b - c; setLfCin(c); setLazy(LF_SBB, sz, a, b, r); break; }
    case 4: r = a & b; setLazy(LF_LOGIC, sz, a, b, r); break;
    case 6: r = a ^ b; setLazy(LF_LOGIC, sz, a, b, r); break;
    default: r = a - b; setLazy(LF_SUB, sz, a, b, r); break;
  }
  return r & sizeMask(sz);
}

/** Keep CF across INC/DEC: fold the current CF into `flags`, the rest stays lazy. */
@inline function keepCF(): void {
  const c = getCF();
  flags = c ? flags | F_CF : flags & ~F_CF;
}
export function inc(sz: u32, a: u32): u32 {
  keepCF();
  const r = (a + 1) & sizeMask(sz);
  setLazy(LF_INC, sz, a, 1, r);
  return r;
}
export function dec(sz: u32, a: u32): u32 {
  keepCF();
  const r = (a - 1) & sizeMask(sz);
  setLazy(LF_DEC, sz, a, 1, r);
  return r;
}
export function neg(sz: u32, a: u32): u32 {
  const r = (0 - a) & sizeMask(sz);
  setLazy(LF_SUB, sz, 0, a, r);
  return r;
}
export function logicFlags(sz: u32, r: u32): void { setLazy(LF_LOGIC, sz, r, 0, r); }

/** Group-2 shifts and rotates (ROL ROR RCL RCR SHL SHR SAL SAR); count already read. */
export function shift(op: u32, sz: u32, v: u32, count: u32): u32 {
  let cnt = count & 31;
  if (cnt == 0) return v;
  const bits = sz << 3;
  const mask = sizeMask(sz);
  const sign = sizeSign(sz);
  let r: u32 = v;
  let cf: bool, ovf: bool;
  switch (op) {
    case 0: { // ROL
      const c = cnt & (bits - 1);
      if (c != 0) r = ((v << c) | (v >>> (bits - c))) & mask;
      materialize();
      cf = (r & 1) != 0;
      ovf = ((r & sign) != 0) != cf;
      setArith((flags & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | (ovf ? F_OF : 0));
      return r;
    }
    case 1: { // ROR
      const c = cnt & (bits - 1);
      if (c != 0) r = ((v >>> c) | (v << (bits - c))) & mask;
      materialize();
      cf = (r & sign) != 0;
      ovf = cf != ((r & (sign >>> 1)) != 0);
      setArith((flags & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | (ovf ? F_OF : 0));
      return r;
    }
    case 2: case 3: { // RCL / RCR through a (bits+1)-bit value
      const c = cnt % (bits + 1);
      if (c == 0) {
        // Nothing rotates and CF stays, but OF is set as for a rotation (AMD Zen, vectors/undefined.json).
        materialize();
        const cin = (flags & F_CF) != 0;
        ovf = op == 2 ? ((v & sign) != 0) != cin : ((v & sign) != 0) != ((v & (sign >>> 1)) != 0);
        setArith((flags & ~F_OF) | (ovf ? F_OF : 0));
        return v;
      }
      const m65: u64 = (<u64>1 << (bits + 1)) - 1;
      const x: u64 = (<u64>(getCF() ? 1 : 0) << bits) | <u64>v;
      let y: u64;
      if (op == 2) y = ((x << c) | (x >> (bits + 1 - c))) & m65;
      else y = ((x >> c) | (x << (bits + 1 - c))) & m65;
      r = <u32>y & mask;
      cf = ((y >> bits) & 1) != 0;
      if (op == 2) ovf = ((r & sign) != 0) != cf;
      else ovf = ((r & sign) != 0) != ((r & (sign >>> 1)) != 0);
      materialize();
      setArith((flags & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | (ovf ? F_OF : 0));
      return r;
    }
    case 4: case 6: { // SHL / SAL
      const w: u64 = <u64>v << cnt;
      r = <u32>w & mask;
      cf = ((w >> bits) & 1) != 0;
      ovf = ((r & sign) != 0) != cf;
      break;
    }
    case 5: { // SHR
      r = cnt >= 32 ? 0 : v >>> cnt;
      cf = ((v >>> (cnt - 1)) & 1) != 0;
      ovf = (r & (sign >>> 1)) != 0; // the top two result bits differ (count 1: the old MSB)
      break;
    }
    default: { // SAR
      const s: i32 = <i32>(v << (32 - bits)) >> (32 - bits);
      r = <u32>(s >> cnt) & mask;
      cf = ((s >> (cnt - 1)) & 1) != 0;
      ovf = false;
      break;
    }
  }
  // AF (undefined) is set, as the AMD Zen host does.
  setArith(szp(sz, r) | F_AF | (cf ? F_CF : 0) | (ovf ? F_OF : 0));
  return r;
}

/** SHLD / SHRD (SDM Vol. 2B): dst shifted with bits from src; count masked to 5 bits.
 *  Where the SDM leaves the outcome undefined (16-bit counts above 16; OF for counts above 1;
 *  AF) this gives what the AMD Zen host the vectors were recorded on does (vectors/shiftd.json):
 *  a 16-bit count c > 16 shifts through dst:src:src (SHLD) or src:src:dst (SHRD), so the result
 *  comes from src alone, with CF = 0; OF is SHL's (MSB xor CF) for SHLD below the operand width
 *  and CF from the width up, ROR's (the two top bits differ) for SHRD; AF is set. */
export function shiftDouble(left: bool, sz: u32, dst: u32, src: u32, count: u32): u32 {
  const cnt = count & 31;
  if (cnt == 0) return dst;
  const bits = sz << 3;
  const sign = sizeSign(sz);
  // The 64-bit pattern whose top (SHLD) or bottom (SHRD) word is shifted.
  const pat: u64 = bits == 32 ? <u64>src : (<u64>src << 16) | <u64>src;
  let r: u32, cf: bool, ovf: bool;
  if (left) {
    r = <u32>((((<u64>dst << 32) | pat) << cnt) >> 32) & sizeMask(sz);
    cf = cnt <= bits && ((dst >>> (bits - cnt)) & 1) != 0;
    ovf = cnt < bits ? ((r & sign) != 0) != cf : cf;
  } else {
    r = <u32>(((pat << bits) | <u64>dst) >> cnt) & sizeMask(sz);
    cf = cnt <= bits && ((dst >>> (cnt - 1)) & 1) != 0;
    ovf = ((r & sign) != 0) != ((r & (sign >>> 1)) != 0);
  }
  setArith(szp(sz, r) | F_AF | (cf ? F_CF : 0) | (ovf ? F_OF : 0));
  return r;
}

/** Flags after MUL/IMUL: CF = OF = `over`; SF ZF AF PF (undefined) stay as they were, as on
 *  the AMD Zen host (vectors/undefined.json). */
export function mulFlags(sz: u32, lo: u32, over: bool): void {
  materialize();
  setArith((flags & (F_SF | F_ZF | F_AF | F_PF)) | (over ? F_CF | F_OF : 0));
}
/** Flags after a DIV/IDIV that did not fault (all undefined): CF and OF stay, AF is set, SF ZF
 *  PF clear, as on the AMD Zen host. */
export function divFlags(): void {
  materialize();
  setArith((flags & (F_CF | F_OF)) | F_AF);
}
