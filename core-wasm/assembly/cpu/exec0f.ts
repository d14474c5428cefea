// Two-byte opcode map 0F xx (SDM Vol. 2 Appendix A, Table A-3).
import {
  eip, cpl, pmode, cr0, cr4, gdtrBase, gdtrLimit, idtrBase, idtrLimit, r32, w32, r16, w16, r8, rget, rset,
  segSel, segBase, getDr, setDr,
  EAX, ECX, EDX, EBX, ES, SS, DS, FS, GS, LDTR, TR, CR0_TS, CR4_DE, F_CF, F_PF, F_ZF,
} from "./state";
import { flags, materialize, setArith, cond, sizeMask, getFlags } from "./flags";
import {
  fault, gp, ud, readMem16, readMem32, writeMem16, writeMem32, readMemSz, rmwBegin, rmwRead, rmwWrite, probeWrite,
} from "./access";
import {
  o32, a32, modrm, mrReg, mrRm, mrIsReg, eaSeg, eaOff, fetch8, fetchSz, sext8, sext16, decodeModrm, rmRead,
  rmWrite, rmRmwRead, rmRmwWrite,
} from "./decode";
import { alu, shiftDouble } from "./alu";
import { loadSeg, lldt, ltr, checkSelector, checkOk } from "./seg";
import { sysenter, sysexit } from "./control";
import { writeCr, readCr, cpuid, rdtsc } from "./system";
import { rdmsr, wrmsr, rdpmc } from "./msr";
import { tlbInvlpg } from "./paging";
import { imul2, popSeg, pushSeg } from "./exec";

@inline function jumpTo(t: u32): void { eip = o32 ? t : t & 0xFFFF; }
@inline function needCpl0(): bool { if (pmode && cpl != 0) { gp(0); return false; } return true; }
@inline function setZF(z: bool): void { materialize(); setArith(z ? flags | F_ZF : flags & ~F_ZF); }

/** BT/BTS/BTR/BTC (op 0..3) on r/m with bit offset `bitOff`; register offsets address a bit
 *  string (SDM Vol. 2A BT "Operation"), immediate ones are taken modulo the operand size. */
function bitOp(op: u32, sz: u32, bitOff: u32, imm: bool): void {
  const bits = sz << 3;
  const bit = bitOff & (bits - 1);
  let v: u32, nv: u32 = 0;
  if (mrIsReg) {
    v = rget(sz, mrRm);
  } else {
    let off = eaOff;
    if (!imm) {
      const disp: u32 = sz == 4 ? <u32>((<i32>bitOff >> 5) << 2) : <u32>((<i32><i16>bitOff >> 4) << 1);
      off += disp;
      if (!a32) off &= 0xFFFF;
    }
    if (op == 0) { v = readMemSz(sz, eaSeg, off); if (fault) return; }
    else { if (!rmwBegin(eaSeg, off, sz)) return; v = rmwRead(sz); }
  }
  const m: u32 = 1 << bit;
  if (op == 1) nv = v | m; else if (op == 2) nv = v & ~m; else if (op == 3) nv = v ^ m;
  if (op != 0) { if (mrIsReg) rset(sz, mrRm, nv); else rmwWrite(sz, nv); }
  materialize();
  setArith((v & m) != 0 ? flags | F_CF : flags & ~F_CF);
}

function loadFarPtr(seg: u32, osz: u32): void {
  decodeModrm();
  if (mrIsReg) { ud(); return; }
  const off = readMemSz(osz, eaSeg, eaOff);
  const sel = readMem16(eaSeg, eaOff + osz);
  if (fault) return;
  loadSeg(seg, sel);
  if (fault) return;
  rset(osz, mrReg, off);
}

/** Execute the two-byte instruction 0F b (b already fetched). */
export function exec0f(b: u32): void {
  const osz: u32 = o32 ? 4 : 2;
  switch (b) {
    case 0x00: { // group 6
      if (!pmode) { ud(); return; }
      decodeModrm();
      switch (mrReg) {
        case 0: rmWrite(mrIsReg ? osz : 2, segSel(LDTR)); return;
        case 1: rmWrite(mrIsReg ? osz : 2, segSel(TR)); return;
        case 2: case 3: {
          if (!needCpl0()) return;
          const v = rmRead(2);
          if (fault) return;
          if (mrReg == 2) lldt(v); else ltr(v);
          return;
        }
        case 4: case 5: {
          const v = rmRead(2);
          if (fault) return;
          checkSelector(mrReg - 2, v);
          if (fault) return;
          setZF(checkOk);
          return;
        }
        default: ud(); return;
      }
    }
    case 0x01: { // group 7
      decodeModrm();
      switch (mrReg) {
        case 0: case 1: {
          if (mrIsReg) { ud(); return; }
          const lim = mrReg == 0 ? gdtrLimit : idtrLimit;
          const base = mrReg == 0 ? gdtrBase : idtrBase;
          if (!probeWrite(eaSeg, eaOff, 6)) return;
          writeMem16(eaSeg, eaOff, lim);
          writeMem32(eaSeg, eaOff + 2, o32 ? base : base & 0xFF_FFFF);
          return;
        }
        case 2: case 3: {
          if (mrIsReg) { ud(); return; }
          if (!needCpl0()) return;
          const lim = readMem16(eaSeg, eaOff);
          let base = readMem32(eaSeg, eaOff + 2);
          if (fault) return;
          if (!o32) base &= 0xFF_FFFF;
          if (mrReg == 2) { gdtrBase = base; gdtrLimit = lim; } else { idtrBase = base; idtrLimit = lim; }
          return;
        }
        case 4: rmWrite(mrIsReg ? osz : 2, cr0); return; // SMSW
        case 6: { // LMSW: can set PE but never clear it
          if (!needCpl0()) return;
          const v = rmRead(2);
          if (fault) return;
          writeCr(0, (cr0 & ~0xE) | (v & 0xF) | (cr0 & 1));
          return;
        }
        case 7: // INVLPG
          if (mrIsReg) { ud(); return; }
          if (!needCpl0()) return;
          tlbInvlpg(segBase(eaSeg) + eaOff);
          return;
        default: ud(); return;
      }
    }
    case 0x02: case 0x03: { // LAR / LSL
      if (!pmode) { ud(); return; }
      decodeModrm();
      const sel = rmRead(2);
      if (fault) return;
      const v = checkSelector(b - 2, sel);
      if (fault) return;
      if (checkOk) rset(osz, mrReg, b == 2 && !o32 ? v & 0xFF00 : v);
      setZF(checkOk);
      return;
    }
    case 0x06: if (!needCpl0()) return; cr0 &= ~CR0_TS; return; // CLTS
    case 0x08: case 0x09: needCpl0(); return; // INVD / WBINVD: no caches to manage
    case 0x0B: case 0xB9: case 0xFF: ud(); return; // UD2 / UD1 / UD0
    case 0x0D: case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
      decodeModrm(); return; // prefetch hints and multi-byte NOP
    case 0x20: case 0x22: { // MOV r32, CRn / MOV CRn, r32 (mod is ignored: always registers)
      decodeModrm();
      if (!needCpl0()) return;
      if (b == 0x20) { const v = readCr(mrReg); if (fault) return; w32(mrRm, v); }
      else writeCr(mrReg, r32(mrRm));
      return;
    }
    case 0x21: case 0x23: { // MOV DRn
      decodeModrm();
      if (!needCpl0()) return;
      let n = mrReg;
      if (n == 4 || n == 5) { if ((cr4 & CR4_DE) != 0) { ud(); return; } n += 2; }
      if (b == 0x21) w32(mrRm, getDr(n)); else setDr(n, r32(mrRm));
      return;
    }
    case 0x30: wrmsr(); return;
    case 0x31: rdtsc(); return;
    case 0x32: rdmsr(); return;
    case 0x33: rdpmc(); return;
    case 0x33: gp(0); return; // RDPMC: no performance counters (CR4.PCE cannot be set)
    case 0x34: sysenter(); return;
    case 0x35: sysexit(); return;
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F: { // CMOVcc
      decodeModrm();
      const v = rmRead(osz);
      if (fault) return;
      if (cond(b & 0xF)) rset(osz, mrReg, v);
      return;
    }
    case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
    case 0x88: case 0x89: case 0x8A: case 0x8B: case 0x8C: case 0x8D: case 0x8E: case 0x8F: {
      const d = fetchSz(osz);
      if (fault) return;
      if (cond(b & 0xF)) jumpTo(eip + d);
      return;
    }
    case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
    case 0x98: case 0x99: case 0x9A: case 0x9B: case 0x9C: case 0x9D: case 0x9E: case 0x9F:
      decodeModrm(); rmWrite(1, cond(b & 0xF) ? 1 : 0); return;
    case 0xA0: pushSeg(FS); return;
    case 0xA1: popSeg(FS); return;
    case 0xA8: pushSeg(GS); return;
    case 0xA9: popSeg(GS); return;
    case 0xA2: cpuid(); return;
    case 0xA3: case 0xAB: case 0xB3: case 0xBB: { // BT BTS BTR BTC r/m, reg
      decodeModrm();
      if (fault) return;
      bitOp((b >> 3) & 3, osz, rget(osz, mrReg), false);
      return;
    }
    case 0xBA: { // group 8: BT* r/m, imm8
      decodeModrm();
      const imm = fetch8();
      if (fault) return;
      if (mrReg < 4) { ud(); return; }
      bitOp(mrReg - 4, osz, imm, true);
      return;
    }
    case 0xA4: case 0xA5: case 0xAC: case 0xAD: { // SHLD / SHRD
      decodeModrm();
      const cnt = (b & 1) == 0 ? fetch8() : r8(ECX);
      if (fault) return;
      const d = rmRmwRead(osz);
      if (fault) return;
      if ((cnt & 31) == 0) return;
      rmRmwWrite(osz, shiftDouble(b < 0xA8, osz, d, rget(osz, mrReg), cnt));
      return;
    }
    case 0xAF: { decodeModrm(); const v = rmRead(osz); if (fault) return; imul2(osz, rget(osz, mrReg), v); return; }
    case 0xB0: case 0xB1: { // CMPXCHG
      const sz: u32 = b == 0xB0 ? 1 : osz;
      decodeModrm();
      const d = rmRmwRead(sz);
      if (fault) return;
      const acc = rget(sz, EAX);
      alu(7, sz, acc, d);
      if (acc == d) rmRmwWrite(sz, rget(sz, mrReg));
      else { rmRmwWrite(sz, d); rset(sz, EAX, d); }
      return;
    }
    case 0xB2: loadFarPtr(SS, osz); return;
    case 0xB4: loadFarPtr(FS, osz); return;
    case 0xB5: loadFarPtr(GS, osz); return;
    case 0xB6: { decodeModrm(); const v = rmRead(1); if (fault) return; rset(osz, mrReg, v); return; }
    case 0xB7: { decodeModrm(); const v = rmRead(2); if (fault) return; rset(osz, mrReg, v); return; }
    case 0xBE: { decodeModrm(); const v = rmRead(1); if (fault) return; rset(osz, mrReg, sext8(v)); return; }
    case 0xBF: { decodeModrm(); const v = rmRead(2); if (fault) return; rset(osz, mrReg, sext16(v)); return; }
    case 0xBC: case 0xBD: { // BSF / BSR (F3 0F BC/BD too: no BMI1/LZCNT here)
      decodeModrm();
      const v = rmRead(osz);
      if (fault) return;
      // The undefined flags as the AMD Zen host leaves them: CF OF SF AF clear, PF from the
      // index (set for a zero source, whose destination stays as it was).
      if (v == 0) { setArith(F_ZF | F_PF); return; }
      const i = b == 0xBC ? ctz<u32>(v) : 31 - clz<u32>(v);
      rset(osz, mrReg, i);
      setArith((popcnt<u32>(i) & 1) == 0 ? F_PF : 0);
      return;
    }
    case 0xC0: case 0xC1: { // XADD
      const sz: u32 = b == 0xC0 ? 1 : osz;
      decodeModrm();
      const d = rmRmwRead(sz);
      if (fault) return;
      const s = rget(sz, mrReg);
      const sum = alu(0, sz, d, s);
      rset(sz, mrReg, d);
      rmRmwWrite(sz, sum);
      return;
    }
    case 0xC7: { // group 9: CMPXCHG8B m64
      decodeModrm();
      if (mrReg != 1 || mrIsReg) { ud(); return; }
      if (!probeWrite(eaSeg, eaOff, 8)) return;
      const lo = readMem32(eaSeg, eaOff), hi = readMem32(eaSeg, eaOff + 4);
      if (fault) return;
      if (lo == r32(EAX) && hi == r32(EDX)) {
        writeMem32(eaSeg, eaOff, r32(EBX));
        writeMem32(eaSeg, eaOff + 4, r32(ECX));
        setZF(true);
      } else {
        writeMem32(eaSeg, eaOff, lo);
        writeMem32(eaSeg, eaOff + 4, hi);
        w32(EAX, lo); w32(EDX, hi);
        setZF(false);
      }
      return;
    }
    case 0xC8: case 0xC9: case 0xCA: case 0xCB: case 0xCC: case 0xCD: case 0xCE: case 0xCF: {
      const r = b & 7;
      if (o32) w32(r, bswap<u32>(r32(r))); else w16(r, 0); // 16-bit BSWAP is undefined; zero like hardware
      return;
    }
    default: ud(); return;
  }
}
