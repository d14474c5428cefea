// One-byte opcode map (SDM Vol. 2 Appendix A, Table A-2): dispatch on the first opcode byte
// (the step loop in run.ts has consumed the prefixes).
// Operand size sz is 1, 2 or 4; `osz` is 2 or 4 from the 66 prefix and CS.D.
import {
  eip, instrEip, cpl, pmode, codeD, cr0, stackB, r32, w32, r16, w16, r8, w8, rget, rset, segSel, shadow,
  EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, ES, CS, SS, DS, FS, GS,
  F_CF, F_PF, F_AF, F_ZF, F_SF, F_OF, F_IF, F_DF, F_IOPL, F_RF, F_VM, F_TF, CR0_EM, CR0_TS, CR0_MP,
} from "./state";
import {
  flags, getFlags, setFlagsRaw, materialize, saveBoundary, setArith, szp, cond, getZF, lfOp, lfA, lfB, LF_SUB, getCF, getAF, getOF, setCFbit, sizeMask,
} from "./flags";
import { fault, raiseException, gp, ud, readMem16, readMemSz, writeMemSz } from "./access";
import {
  o32, a32, segOvr, rep, modrm, mrReg, mrRm, mrIsReg, eaSeg, eaOff, fetch8, fetch16, fetch32, fetchSz, sext8,
  sext16, decodeModrm, decodeModrmInline, rmRead, rmWrite, rmRmwRead, rmRmwWrite, dataSeg, SEG_NONE, eaBaseEsp,
} from "./decode";
import { alu, inc, dec, neg, shift, logicFlags, mulFlags, divFlags } from "./alu";
import { push32, push16, pushSz, popSz, pop16, spGet, spSet, spAdd, spOff, peek } from "./stack";
import { loadSeg } from "./seg";
import { farTransfer, farReturn, iret, mergeFlags } from "./control";
import { doInterrupt } from "./interrupt";
import { stringOp } from "./string";
import { ioAllowed, portIn, portOut } from "./system";
import { runExit, NO_EXIT } from "./paging";
import { EXIT_HLT, EXIT_POWEROFF, EXIT_PAUSE, RUN_PAGE_BASE, RUN_PAUSE_EXIT } from "../layout";
import { exec0f } from "./exec0f";
import { fpuExecute, fpuWait } from "../fpu/index";
import { OP_INFO, OPI_MODRM } from "../../build/opcode-tables";

@inline function jumpTo(t: u32): void { eip = o32 ? t : t & 0xFFFF; }

/** cond(cc) with the commonest inline: JE/JNE (a tenth of all instructions) read ZF alone,
 *  JB/JAE after CMP/SUB compare the operands. */
@inline function condFast(cc: u32): bool {
  if ((cc & 0xE) == 4) return getZF() != ((cc & 1) != 0);
  if ((cc & 0xE) == 2 && lfOp() == LF_SUB) return (lfA() < lfB()) != ((cc & 1) != 0);
  return cond(cc);
}

/** r/m ← r/m op src (group-1 ops; CMP only reads). */
@inline function aluRm(op: u32, sz: u32, src: u32): void {
  if (op == 7) { const a = rmRead(sz); if (fault) return; alu(7, sz, a, src); return; }
  const a = rmRmwRead(sz);
  if (fault) return;
  rmRmwWrite(sz, alu(op, sz, a, src));
}

@inline function group1(sz: u32, immSz: u32): void {
  let imm = immSz == 1 ? fetch8() : fetchSz(sz);
  if (immSz == 1 && sz != 1) imm = sext8(imm) & sizeMask(sz);
  if (fault) return;
  aluRm(mrReg, sz, imm);
}

/** Group 2 (C0 C1 D0-D3): count source 0 = imm8, 1 = one, 2 = CL. */
function group2(sz: u32, countSrc: u32): void {
  let cnt: u32;
  if (countSrc == 0) cnt = fetch8(); else if (countSrc == 1) cnt = 1; else cnt = r8(ECX);
  if (fault) return;
  const v = rmRmwRead(sz);
  if (fault) return;
  if ((cnt & 31) == 0) return;
  rmRmwWrite(sz, shift(mrReg, sz, v, cnt));
}

function group3(sz: u32): void {
  const op = mrReg;
  switch (op) {
    case 0: case 1: { // TEST r/m, imm
      const imm = fetchSz(sz);
      const v = rmRead(sz);
      if (fault) return;
      logicFlags(sz, v & imm);
      return;
    }
    case 2: { const v = rmRmwRead(sz); if (fault) return; rmRmwWrite(sz, ~v & sizeMask(sz)); return; }
    case 3: { const v = rmRmwRead(sz); if (fault) return; rmRmwWrite(sz, neg(sz, v)); return; }
    default: break;
  }
  const v = rmRead(sz);
  if (fault) return;
  if (op == 4) { // MUL
    if (sz == 1) { const r = r8(EAX) * v; w16(EAX, r); mulFlags(1, r, (r >> 8) != 0); }
    else if (sz == 2) { const r = r16(EAX) * v; w16(EAX, r); w16(EDX, r >> 16); mulFlags(2, r, (r >> 16) != 0); }
    else { const r = <u64>r32(EAX) * <u64>v; w32(EAX, <u32>r); w32(EDX, <u32>(r >> 32)); mulFlags(4, <u32>r, (r >> 32) != 0); }
    return;
  }
  if (op == 5) { // IMUL
    if (sz == 1) { const r = <i32><i8>r8(EAX) * <i32><i8>v; w16(EAX, <u32>r); mulFlags(1, <u32>r, r != <i32><i8>r); }
    else if (sz == 2) {
      const r = <i32><i16>r16(EAX) * <i32><i16>v; w16(EAX, <u32>r); w16(EDX, <u32>r >> 16);
      mulFlags(2, <u32>r, r != <i32><i16>r);
    } else {
      const r = <i64><i32>r32(EAX) * <i64><i32>v; w32(EAX, <u32>r); w32(EDX, <u32>(r >> 32));
      mulFlags(4, <u32>r, r != <i64><i32>r);
    }
    return;
  }
  if (v == 0) { raiseException(0, -1); return; }
  if (op == 6) { // DIV
    if (sz == 1) {
      const n = r16(EAX); const q = n / v;
      if (q > 0xFF) { raiseException(0, -1); return; }
      w8(EAX, q); w8(4, n % v);
    } else if (sz == 2) {
      const n = (r16(EDX) << 16) | r16(EAX); const q = n / v;
      if (q > 0xFFFF) { raiseException(0, -1); return; }
      w16(EAX, q); w16(EDX, n % v);
    } else {
      const n = (<u64>r32(EDX) << 32) | <u64>r32(EAX); const q = n / <u64>v;
      if (q > 0xFFFF_FFFF) { raiseException(0, -1); return; }
      w32(EAX, <u32>q); w32(EDX, <u32>(n % <u64>v));
    }
    divFlags();
    return;
  }
  // IDIV (quotient overflow, including MIN / -1, raises #DE before the host division)
  if (sz == 1) {
    const n = <i32><i16>r16(EAX), d = <i32><i8>v;
    const q = n / d;
    if (q > 127 || q < -128) { raiseException(0, -1); return; }
    w8(EAX, <u32>q); w8(4, <u32>(n % d));
  } else if (sz == 2) {
    const n = <i32>((r16(EDX) << 16) | r16(EAX)), d = <i32><i16>v;
    if (n == i32.MIN_VALUE && d == -1) { raiseException(0, -1); return; }
    const q = n / d;
    if (q > 32767 || q < -32768) { raiseException(0, -1); return; }
    w16(EAX, <u32>q); w16(EDX, <u32>(n % d));
  } else {
    const n = <i64>((<u64>r32(EDX) << 32) | <u64>r32(EAX)), d = <i64><i32>v;
    if (n == i64.MIN_VALUE && d == -1) { raiseException(0, -1); return; }
    const q = n / d;
    if (q > 0x7FFF_FFFF || q < -0x8000_0000) { raiseException(0, -1); return; }
    w32(EAX, <u32>q); w32(EDX, <u32>(n % d));
  }
  divFlags();
}

function group5(sz: u32): void {
  switch (mrReg) {
    case 0: { const v = rmRmwRead(sz); if (fault) return; rmRmwWrite(sz, inc(sz, v)); return; }
    case 1: { const v = rmRmwRead(sz); if (fault) return; rmRmwWrite(sz, dec(sz, v)); return; }
    case 2: { // CALL near r/m
      const t = rmRead(sz);
      if (fault) return;
      pushSz(o32, eip);
      if (fault) return;
      jumpTo(t);
      return;
    }
    case 4: { const t = rmRead(sz); if (fault) return; jumpTo(t); return; }
    case 3: case 5: { // CALL/JMP far m16:16/32
      if (mrIsReg) { ud(); return; }
      saveBoundary(); // nothing written yet; the far transfer may write and then fault
      const off = readMemSz(sz, eaSeg, eaOff);
      const sel = readMem16(eaSeg, eaOff + sz);
      if (fault) return;
      farTransfer(sel, off, mrReg == 3, o32, eip);
      return;
    }
    case 6: { const v = rmRead(sz); if (fault) return; pushSz(o32, v); return; }
    default: ud(); return;
  }
}

@inline function ahFlagsMask(): u32 { return F_SF | F_ZF | F_AF | F_PF | F_CF; }

function bcd(op: u32): void {
  const al = r8(EAX);
  const cf = getCF(), af = getAF();
  switch (op) {
    case 0x27: { // DAA
      let a = al, c = false, f = false;
      if ((al & 0xF) > 9 || af) { a = (al + 6) & 0xFF; c = cf || al + 6 > 0xFF; f = true; }
      if (al > 0x99 || cf) { a = (a + 0x60) & 0xFF; c = true; } else c = false;
      w8(EAX, a);
      setArith(szp(1, a) | (c ? F_CF : 0) | (f ? F_AF : 0));
      return;
    }
    case 0x2F: { // DAS
      let a = al, c = false, f = false;
      if ((al & 0xF) > 9 || af) { a = (al - 6) & 0xFF; c = cf || al < 6; f = true; }
      if (al > 0x99 || cf) { a = (a - 0x60) & 0xFF; c = true; }
      w8(EAX, a);
      setArith(szp(1, a) | (c ? F_CF : 0) | (f ? F_AF : 0));
      return;
    }
    case 0x37: { // AAA
      if ((al & 0xF) > 9 || af) { w16(EAX, r16(EAX) + 0x106); w8(EAX, r8(EAX) & 0xF); setArith(F_AF | F_CF); }
      else { w8(EAX, al & 0xF); setArith(0); }
      return;
    }
    default: { // AAS
      if ((al & 0xF) > 9 || af) { w16(EAX, r16(EAX) - 6); w8(4, r8(4) - 1); w8(EAX, r8(EAX) & 0xF); setArith(F_AF | F_CF); }
      else { w8(EAX, al & 0xF); setArith(0); }
      return;
    }
  }
}

function enter(): void {
  const size = fetch16();
  const level = fetch8() & 31;
  if (fault) return;
  const sz: u32 = o32 ? 4 : 2;
  pushSz(o32, o32 ? r32(EBP) : r16(EBP));
  if (fault) return;
  const frame = spGet();
  if (level > 0) {
    let bp = r32(EBP);
    for (let i: u32 = 1; i < level; i++) {
      bp = spOffFrom(bp, 0 - sz);
      const v = readMemSz(sz, SS, bp);
      if (fault) return;
      pushSz(o32, v);
      if (fault) return;
    }
    pushSz(o32, frame);
    if (fault) return;
  }
  // ENTER does not touch the allocated area (only a segment-limit check, not modelled).
  if (o32) w32(EBP, frame); else w16(EBP, frame);
  spSet(spOff(0 - size));
}
@inline function spOffFrom(bp: u32, d: u32): u32 { return stackB ? bp + d : (bp + d) & 0xFFFF; }

function hlt(): void {
  if (pmode && cpl != 0) { gp(0); return; }
  runExit = (flags & F_IF) != 0 ? EXIT_HLT : EXIT_POWEROFF;
}

function fpuOp(op: u32): void {
  if ((cr0 & (CR0_EM | CR0_TS)) != 0) { raiseException(7, -1); return; }
  const ip = instrEip;
  decodeModrm();
  if (fault) return;
  fpuExecute(op, modrm, mrIsReg ? DS : eaSeg, mrIsReg ? 0 : eaOff, o32, pmode, segSel(CS), ip);
}

/** Execute the instruction whose first non-prefix byte is b. */
@inline export function exec(b: u32): void {
  const osz: u32 = o32 ? 4 : 2;
  // ModRM (SIB, displacement) once here for every opcode that has one, except those that check
  // something before reading it: ARPL (#UD outside protected mode) and x87 (#NM).
  if ((<u32>load<u8>(OP_INFO + b) & OPI_MODRM) != 0 && b != 0x63 && (b & 0xF8) != 0xD8) {
    decodeModrmInline();
    if (fault) return;
  }
  switch (b) {
    // ---- ALU 00-3F ----
    case 0x00: case 0x08: case 0x10: case 0x18: case 0x20: case 0x28: case 0x30: case 0x38:
      aluRm(b >> 3, 1, r8(mrReg)); return;
    case 0x01: case 0x09: case 0x11: case 0x19: case 0x21: case 0x29: case 0x31: case 0x39:
      if (o32) aluRm(b >> 3, 4, r32(mrReg)); else aluRm(b >> 3, 2, r16(mrReg));
      return;
    case 0x02: case 0x0A: case 0x12: case 0x1A: case 0x22: case 0x2A: case 0x32: case 0x3A: {
      const v = rmRead(1);
      if (fault) return;
      const r = alu(b >> 3, 1, r8(mrReg), v);
      if ((b >> 3) != 7) w8(mrReg, r);
      return;
    }
    case 0x03: case 0x0B: case 0x13: case 0x1B: case 0x23: case 0x2B: case 0x33: case 0x3B: {
      if (o32) {
        const v = rmRead(4);
        if (fault) return;
        const r = alu(b >> 3, 4, r32(mrReg), v);
        if ((b >> 3) != 7) w32(mrReg, r);
        return;
      }
      const v = rmRead(2);
      if (fault) return;
      const r = alu(b >> 3, 2, r16(mrReg), v);
      if ((b >> 3) != 7) w16(mrReg, r);
      return;
    }
    case 0x04: case 0x0C: case 0x14: case 0x1C: case 0x24: case 0x2C: case 0x34: case 0x3C: {
      const imm = fetch8();
      if (fault) return;
      const r = alu(b >> 3, 1, r8(EAX), imm);
      if ((b >> 3) != 7) w8(EAX, r);
      return;
    }
    case 0x05: case 0x0D: case 0x15: case 0x1D: case 0x25: case 0x2D: case 0x35: case 0x3D: {
      const imm = fetchSz(osz);
      if (fault) return;
      const r = alu(b >> 3, osz, rget(osz, EAX), imm);
      if ((b >> 3) != 7) rset(osz, EAX, r);
      return;
    }
    case 0x0F: { // the hottest two-byte opcodes here (Jcc rel32, MOVZX: a tenth of all), the rest in exec0f
      const b2 = fetch8();
      if (fault) return;
      if ((b2 & 0xF0) == 0x80) {
        const d = fetchSz(osz);
        if (fault) return;
        if (condFast(b2 & 0xF)) jumpTo(eip + d);
        return;
      }
      if ((b2 & 0xFE) == 0xB6) { // MOVZX r, r/m8 / r/m16
        decodeModrmInline();
        if (fault) return;
        const v = rmRead(b2 == 0xB6 ? 1 : 2);
        if (fault) return;
        rset(osz, mrReg, v);
        return;
      }
      exec0f(b2);
      return;
    }

    // ---- 40-5F: INC/DEC/PUSH/POP reg ----
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
      rset(osz, b & 7, inc(osz, rget(osz, b & 7))); return;
    case 0x48: case 0x49: case 0x4A: case 0x4B: case 0x4C: case 0x4D: case 0x4E: case 0x4F:
      rset(osz, b & 7, dec(osz, rget(osz, b & 7))); return;
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
      pushSz(o32, rget(osz, b & 7)); return;
    case 0x58: case 0x59: case 0x5A: case 0x5B: case 0x5C: case 0x5D: case 0x5E: case 0x5F: {
      const v = popSz(o32);
      if (fault) return;
      rset(osz, b & 7, v);
      return;
    }

    // ---- 60-6F ----
    case 0x68: { const v = fetchSz(osz); if (fault) return; pushSz(o32, v); return; }
    case 0x6A: { const v = fetch8(); if (fault) return; pushSz(o32, sext8(v)); return; }
    case 0x69: case 0x6B: { // IMUL Gv, Ev, imm
      let imm = b == 0x6B ? sext8(fetch8()) : fetchSz(osz);
      const v = rmRead(osz);
      if (fault) return;
      imul2(osz, v, imm);
      return;
    }
    // ---- 70-7F Jcc rel8 ----
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7A: case 0x7B: case 0x7C: case 0x7D: case 0x7E: case 0x7F: {
      const d = sext8(fetch8());
      if (fault) return;
      if (condFast(b & 0xF)) jumpTo(eip + d);
      return;
    }

    // ---- 80-8F ----
    case 0x80: case 0x82: group1(1, 1); return;
    // 32-bit forms with the size constant: alu() and the r/m accessors branch on it otherwise
    case 0x81: if (o32) group1(4, 4); else group1(2, 2); return;
    case 0x83: if (o32) group1(4, 1); else group1(2, 1); return;
    case 0x84: { const v = rmRead(1); if (fault) return; logicFlags(1, v & r8(mrReg)); return; }
    case 0x85: { const v = rmRead(osz); if (fault) return; logicFlags(osz, v & rget(osz, mrReg)); return; }
    case 0x86: case 0x87: { // XCHG r/m, reg
      const sz: u32 = b == 0x86 ? 1 : osz;
      const v = rmRmwRead(sz);
      if (fault) return;
      rmRmwWrite(sz, rget(sz, mrReg));
      rset(sz, mrReg, v);
      return;
    }
    case 0x88: rmWrite(1, r8(mrReg)); return;
    case 0x89: if (o32) rmWrite(4, r32(mrReg)); else rmWrite(2, r16(mrReg)); return;
    case 0x8A: { const v = rmRead(1); if (fault) return; w8(mrReg, v); return; }
    case 0x8B: {
      if (o32) { const v = rmRead(4); if (fault) return; w32(mrReg, v); return; }
      const v = rmRead(2);
      if (fault) return;
      w16(mrReg, v);
      return;
    }
    case 0x8D: { // LEA
      if (mrIsReg) { ud(); return; }
      rset(osz, mrReg, eaOff);
      return;
    }
    case 0x8F: { // POP r/m (the address is computed after ESP is incremented)
      const v = popSz(o32);
      if (fault) return;
      if (mrIsReg) rset(osz, mrRm, v);
      else rmWriteAt(osz, eaBaseEsp ? eaOff + osz : eaOff, v);
      return;
    }

    // ---- 90-9F ----
    case 0x90: // NOP; with F3, PAUSE: a spin-wait hint the VMM may ask to see (RUN_PAUSE_EXIT)
      if (rep == 0xF3 && load<u32>(RUN_PAGE_BASE + RUN_PAUSE_EXIT) != 0 && runExit == NO_EXIT) runExit = EXIT_PAUSE;
      return;
    case 0x98: if (o32) w32(EAX, sext16(r16(EAX))); else w16(EAX, sext8(r8(EAX))); return;
    case 0x99: if (o32) w32(EDX, <u32>(<i32>r32(EAX) >> 31)); else w16(EDX, (r16(EAX) & 0x8000) != 0 ? 0xFFFF : 0); return;
    // ---- A0-AF ----
    case 0xA4: stringOp(0, 1); return;
    case 0xA5: stringOp(0, osz); return;
    case 0xA6: stringOp(1, 1); return;
    case 0xA7: stringOp(1, osz); return;
    case 0xA8: { const imm = fetch8(); if (fault) return; logicFlags(1, r8(EAX) & imm); return; }
    case 0xA9: { const imm = fetchSz(osz); if (fault) return; logicFlags(osz, rget(osz, EAX) & imm); return; }
    case 0xAA: stringOp(2, 1); return;
    case 0xAB: stringOp(2, osz); return;
    case 0xAC: stringOp(3, 1); return;
    case 0xAD: stringOp(3, osz); return;
    case 0xAE: stringOp(4, 1); return;
    case 0xAF: stringOp(4, osz); return;

    // ---- B0-BF MOV reg, imm ----
    case 0xB0: case 0xB1: case 0xB2: case 0xB3: case 0xB4: case 0xB5: case 0xB6: case 0xB7: {
      const v = fetch8(); if (fault) return; w8(b & 7, v); return;
    }
    case 0xB8: case 0xB9: case 0xBA: case 0xBB: case 0xBC: case 0xBD: case 0xBE: case 0xBF: {
      const v = fetchSz(osz); if (fault) return; rset(osz, b & 7, v); return;
    }

    // ---- C0-CF ----
    case 0xC0: group2(1, 0); return;
    case 0xC1: group2(osz, 0); return;
    case 0xC2: case 0xC3: { // RET near [imm16]
      const imm = b == 0xC2 ? fetch16() : 0;
      if (fault) return;
      const t = popSz(o32);
      if (fault) return;
      spAdd(imm);
      jumpTo(t);
      return;
    }
    case 0xC6: { const v = fetch8(); if (fault) return; rmWrite(1, v); return; }
    case 0xC7: { const v = fetchSz(osz); if (fault) return; rmWrite(osz, v); return; }
    case 0xC9: { // LEAVE
      spSet(stackB ? r32(EBP) : r16(EBP));
      const v = popSz(o32);
      if (fault) return;
      rset(osz, EBP, v);
      return;
    }
    // ---- D0-DF ----
    case 0xD0: group2(1, 1); return;
    case 0xD1: group2(osz, 1); return;
    case 0xD2: group2(1, 2); return;
    case 0xD3: group2(osz, 2); return;
    // ---- E0-EF ----
    case 0xE8: { // CALL rel
      const d = fetchSz(osz);
      if (fault) return;
      pushSz(o32, eip);
      if (fault) return;
      jumpTo(eip + d);
      return;
    }
    case 0xE9: { const d = fetchSz(osz); if (fault) return; jumpTo(eip + d); return; }
    case 0xEB: { const d = sext8(fetch8()); if (fault) return; jumpTo(eip + d); return; }

    // ---- F0-FF ----
    case 0xF6: group3(1); return;
    case 0xF7: group3(osz); return;
    case 0xF8: setCFbit(false); return;
    case 0xF9: setCFbit(true); return;
    case 0xFC: flags &= ~F_DF; return;
    case 0xFD: flags |= F_DF; return;
    case 0xFE: {
      if (mrReg > 1) { ud(); return; }
      const v = rmRmwRead(1);
      if (fault) return;
      rmRmwWrite(1, mrReg == 0 ? inc(1, v) : dec(1, v));
      return;
    }
    case 0xFF: group5(osz); return;
    default: execRare(b, osz); return;
  }
}

/** The one-byte opcodes rarely run in hot code, out of exec() so its switch stays small
 *  (measured: a bigger exec() is a slower one under V8's optimizing compiler). */
function execRare(b: u32, osz: u32): void {
  switch (b) {
    case 0x06: pushSeg(ES); return;
    case 0x07: popSeg(ES); return;
    case 0x0E: pushSeg(CS); return;
    case 0x16: pushSeg(SS); return;
    case 0x17: popSeg(SS); return;
    case 0x1E: pushSeg(DS); return;
    case 0x1F: popSeg(DS); return;
    case 0x27: case 0x2F: case 0x37: case 0x3F: bcd(b); return;
    case 0x60: { // PUSHA
      const sp = rget(osz, ESP);
      for (let i: u32 = 0; i < 8; i++) {
        pushSz(o32, i == 4 ? sp : rget(osz, i));
        if (fault) return;
      }
      return;
    }
    case 0x61: { // POPA
      for (let i: i32 = 7; i >= 0; i--) {
        const v = popSz(o32);
        if (fault) return;
        if (i != 4) rset(osz, <u32>i, v);
      }
      return;
    }
    case 0x62: { // BOUND
      if (mrIsReg) { ud(); return; }
      const lo = readMemSz(osz, eaSeg, eaOff), hi = readMemSz(osz, eaSeg, eaOff + osz);
      if (fault) return;
      const sh = 32 - (osz << 3);
      const i = <i32>(rget(osz, mrReg) << sh) >> sh;
      if (i < <i32>(lo << sh) >> sh || i > <i32>(hi << sh) >> sh) raiseException(5, -1);
      return;
    }
    case 0x63: { // ARPL
      if (!pmode) { ud(); return; }
      decodeModrm();
      const d = rmRmwRead(2);
      if (fault) return;
      const s = r16(mrReg);
      materialize();
      if ((d & 3) < (s & 3)) { rmRmwWrite(2, (d & ~3) | (s & 3)); setArith(flags | F_ZF); }
      else setArith(flags & ~F_ZF);
      return;
    }
    case 0x6C: stringOp(5, 1); return;
    case 0x6D: stringOp(5, osz); return;
    case 0x6E: stringOp(6, 1); return;
    case 0x6F: stringOp(6, osz); return;

    case 0x8C: { // MOV r/m, Sreg
      if (mrReg > 5) { ud(); return; }
      if (mrIsReg) rset(osz, mrRm, segSel(mrReg)); else rmWrite(2, segSel(mrReg));
      return;
    }
    case 0x8E: { // MOV Sreg, r/m16
      if (mrReg == CS || mrReg > 5) { ud(); return; }
      const v = rmRead(2);
      if (fault) return;
      loadSeg(mrReg, v);
      if (mrReg == SS && !fault) shadow = true;
      return;
    }
    case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: {
      const t = rget(osz, EAX);
      rset(osz, EAX, rget(osz, b & 7));
      rset(osz, b & 7, t);
      return;
    }
    case 0x9A: { // CALL far ptr16:16/32
      const off = fetchSz(osz);
      const sel = fetch16();
      if (fault) return;
      farTransfer(sel, off, true, o32, eip);
      return;
    }
    case 0x9B: // WAIT/FWAIT
      if ((cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP)) { raiseException(7, -1); return; }
      fpuWait();
      return;
    case 0x9C: { // PUSHF (VM and RF read as 0 in the image)
      const f = getFlags() & ~(F_VM | F_RF);
      if (o32) push32(f); else push16(f);
      return;
    }
    case 0x9D: { // POPF
      const v = popSz(o32);
      if (fault) return;
      setFlagsRaw(mergeFlags(v, o32, pmode ? cpl : 0, false));
      return;
    }
    case 0x9E: { // SAHF
      materialize();
      setArith((flags & ~ahFlagsMask()) | (r8(4) & ahFlagsMask()));
      return;
    }
    case 0x9F: w8(4, (getFlags() & 0xD5) | 2); return; // LAHF

    case 0xA0: case 0xA1: case 0xA2: case 0xA3: {
      const off = a32 ? fetch32() : fetch16();
      if (fault) return;
      const sz: u32 = (b & 1) != 0 ? osz : 1;
      if (b < 0xA2) { const v = readMemSz(sz, dataSeg(), off); if (fault) return; rset(sz, EAX, v); }
      else writeMemSz(sz, dataSeg(), off, rget(sz, EAX));
      return;
    }
    case 0xC4: case 0xC5: { // LES / LDS
      if (mrIsReg) { ud(); return; }
      const off = readMemSz(osz, eaSeg, eaOff);
      const sel = readMem16(eaSeg, eaOff + osz);
      if (fault) return;
      loadSeg(b == 0xC4 ? ES : DS, sel);
      if (fault) return;
      rset(osz, mrReg, off);
      return;
    }
    case 0xC8: enter(); return;
    case 0xCA: case 0xCB: {
      const imm = b == 0xCA ? fetch16() : 0;
      if (fault) return;
      farReturn(o32, imm);
      return;
    }
    case 0xCC: doInterrupt(3, true, -1, eip); return;
    case 0xCD: { const v = fetch8(); if (fault) return; doInterrupt(v, true, -1, eip); return; }
    case 0xCE: if (getOF()) doInterrupt(4, true, -1, eip); return;
    case 0xCF: iret(o32); return;

    case 0xD4: { // AAM imm8
      const base = fetch8();
      if (fault) return;
      if (base == 0) { raiseException(0, -1); return; }
      const al = r8(EAX);
      w8(4, al / base); w8(EAX, al % base);
      logicFlags(1, al % base);
      return;
    }
    case 0xD5: { // AAD imm8
      const base = fetch8();
      if (fault) return;
      const al = (r8(EAX) + r8(4) * base) & 0xFF;
      w16(EAX, al);
      logicFlags(1, al);
      return;
    }
    case 0xD6: w8(EAX, getCF() ? 0xFF : 0); return; // SALC
    case 0xD7: { // XLAT
      const off = a32 ? r32(EBX) + r8(EAX) : (r16(EBX) + r8(EAX)) & 0xFFFF;
      const v = readMemSz(1, dataSeg(), off);
      if (fault) return;
      w8(EAX, v);
      return;
    }
    case 0xD8: case 0xD9: case 0xDA: case 0xDB: case 0xDC: case 0xDD: case 0xDE: case 0xDF:
      fpuOp(b); return;

    case 0xE0: case 0xE1: case 0xE2: case 0xE3: {
      const d = sext8(fetch8());
      if (fault) return;
      let c: u32;
      if (b == 0xE3) c = a32 ? r32(ECX) : r16(ECX);
      else {
        c = (a32 ? r32(ECX) : r16(ECX)) - 1;
        if (a32) w32(ECX, c); else { w16(ECX, c); c &= 0xFFFF; }
      }
      let take: bool;
      if (b == 0xE3) take = c == 0;
      else if (b == 0xE2) take = c != 0;
      else if (b == 0xE1) take = c != 0 && cond(4);
      else take = c != 0 && !cond(4);
      if (take) jumpTo(eip + d);
      return;
    }
    case 0xE4: case 0xE5: case 0xEC: case 0xED: {
      const port = b < 0xE8 ? fetch8() : r16(EDX);
      const sz: u32 = (b & 1) != 0 ? osz : 1;
      if (fault || !ioAllowed(port, sz)) return;
      rset(sz, EAX, portIn(port, sz));
      return;
    }
    case 0xE6: case 0xE7: case 0xEE: case 0xEF: {
      const port = b < 0xE8 ? fetch8() : r16(EDX);
      const sz: u32 = (b & 1) != 0 ? osz : 1;
      if (fault || !ioAllowed(port, sz)) return;
      portOut(port, sz, rget(sz, EAX));
      return;
    }
    case 0xEA: {
      const off = fetchSz(osz);
      const sel = fetch16();
      if (fault) return;
      farTransfer(sel, off, false, o32, eip);
      return;
    }
    case 0xF1: doInterrupt(1, false, -1, eip); return; // INT1 / ICEBP
    case 0xF4: hlt(); return;
    case 0xF5: { const c = getCF(); setCFbit(!c); return; }
    case 0xFA: // CLI
      if (pmode && cpl > ((flags & F_IOPL) >> 12)) { gp(0); return; }
      flags &= ~F_IF;
      return;
    case 0xFB: // STI: interrupts are recognized only after the next instruction
      if (pmode && cpl > ((flags & F_IOPL) >> 12)) { gp(0); return; }
      if ((flags & F_IF) == 0) shadow = true;
      flags |= F_IF;
      return;
    default: ud(); return;
  }
}

/** Two- and three-operand IMUL: reg ← a * b, CF = OF = the product does not fit. */
export function imul2(sz: u32, a: u32, b: u32): void {
  if (sz == 4) {
    const r = <i64><i32>a * <i64><i32>b;
    rset(4, mrReg, <u32>r);
    mulFlags(4, <u32>r, r != <i64><i32>r);
  } else {
    const r = <i32><i16>a * <i32><i16>b;
    rset(2, mrReg, <u32>r);
    mulFlags(2, <u32>r, r != <i32><i16>r);
  }
}

export function pushSeg(s: u32): void {
  // With a 32-bit operand size the CPU moves only 16 bits into the 4-byte slot (SDM PUSH).
  if (o32) {
    const sp = spOff(0xFFFF_FFFC);
    writeMemSz(2, SS, sp, segSel(s));
    if (fault) return;
    spSet(sp);
  } else push16(segSel(s));
}
export function popSeg(s: u32): void {
  const v = peek(o32, 0);
  if (fault) return;
  loadSeg(s, v & 0xFFFF);
  if (fault) return;
  spAdd(o32 ? 4 : 2);
  if (s == SS) shadow = true;
}
function rmWriteAt(sz: u32, off: u32, v: u32): void { writeMemSz(sz, eaSeg, off, v); }
