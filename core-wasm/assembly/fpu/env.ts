// FNSTENV/FLDENV and FNSAVE/FRSTOR memory images (SDM Vol. 1 §8.1.10, Figures 8-9 to 8-12):
// 28 bytes with a 32-bit operand size, 14 with 16-bit; real mode (and virtual-8086) stores
// 20-bit linear instruction/data pointers with FOP, protected mode selector:offset pairs.
// FNSAVE appends ST(0)..ST(7) as 80-bit images. Loads read the whole image before any state
// changes; stores probe the whole span first, so a page fault leaves memory untouched.

import { readMem16, readMem32, writeMem16, writeMem32, probeWrite, faulted } from "../cpu/access";
import {
  fpuCW, fpuTop, fpuFIP, fpuFCS, fpuFOP, fpuFDP, fpuFDS,
  statusWord, tagWord, setControlWord, setStatusWord, setTagWord, recomputeES,
  physOf, physMant, physSexp, physSetRaw, resetState, maskAllExceptions, setPointers,
} from "./state";

/** Register images read by FRSTOR, held until the whole image has been read. */
const REGBUF: usize = memory.data(80, 8);
/** Environment words read by FLDENV/FRSTOR: cw, sw, tw, fip, fcs, fop, fdp, fds. */
const ENVBUF: usize = memory.data(32, 4);

@inline export function envSize(o32: bool): u32 {
  return o32 ? 28 : 14;
}

/** Store the environment at seg:ea (the span is already probed). */
function writeEnv(seg: u32, ea: u32, o32: bool, pm: bool): void {
  const cw = fpuCW;
  // Real mode stores the 20-bit (32-bit with o32) linear instruction address CS·16 + IP. The
  // data pointer stays the offset: the FPU is not given segment bases (FDS is recorded as 0).
  const fipLin = pm ? fpuFIP : (fpuFCS << 4) + fpuFIP;
  const sw = statusWord();
  const tw = tagWord();
  if (o32) {
    // Reserved upper halves read as 1s, as the native vectors show.
    writeMem32(seg, ea, 0xFFFF_0000 | cw);
    writeMem32(seg, ea + 4, 0xFFFF_0000 | sw);
    writeMem32(seg, ea + 8, 0xFFFF_0000 | tw);
    if (pm) {
      writeMem32(seg, ea + 12, fpuFIP);
      writeMem32(seg, ea + 16, (fpuFOP << 16) | (fpuFCS & 0xFFFF));
      writeMem32(seg, ea + 20, fpuFDP);
      writeMem32(seg, ea + 24, 0xFFFF_0000 | (fpuFDS & 0xFFFF));
    } else {
      writeMem32(seg, ea + 12, 0xFFFF_0000 | (fipLin & 0xFFFF));
      writeMem32(seg, ea + 16, ((fipLin >> 16) << 12) | fpuFOP);
      writeMem32(seg, ea + 20, 0xFFFF_0000 | (fpuFDP & 0xFFFF));
      writeMem32(seg, ea + 24, (fpuFDP >> 16) << 12);
    }
  } else {
    writeMem16(seg, ea, cw);
    writeMem16(seg, ea + 2, sw);
    writeMem16(seg, ea + 4, tw);
    if (pm) {
      writeMem16(seg, ea + 6, fpuFIP & 0xFFFF);
      writeMem16(seg, ea + 8, fpuFCS & 0xFFFF);
      writeMem16(seg, ea + 10, fpuFDP & 0xFFFF);
      writeMem16(seg, ea + 12, fpuFDS & 0xFFFF);
    } else {
      writeMem16(seg, ea + 6, fipLin & 0xFFFF);
      writeMem16(seg, ea + 8, (((fipLin >> 16) & 0xF) << 12) | fpuFOP);
      writeMem16(seg, ea + 10, fpuFDP & 0xFFFF);
      writeMem16(seg, ea + 12, ((fpuFDP >> 16) & 0xF) << 12);
    }
  }
}

/** Read the environment into ENVBUF; returns false if a fault was raised. */
function readEnv(seg: u32, ea: u32, o32: bool, pm: bool): bool {
  let cw: u32 = 0, sw: u32 = 0, tw: u32 = 0, fip: u32 = 0, fcs: u32 = 0, fop: u32 = 0, fdp: u32 = 0, fds: u32 = 0;
  if (o32) {
    cw = readMem32(seg, ea); if (faulted()) return false;
    sw = readMem32(seg, ea + 4); if (faulted()) return false;
    tw = readMem32(seg, ea + 8); if (faulted()) return false;
    const w3 = readMem32(seg, ea + 12); if (faulted()) return false;
    const w4 = readMem32(seg, ea + 16); if (faulted()) return false;
    const w5 = readMem32(seg, ea + 20); if (faulted()) return false;
    const w6 = readMem32(seg, ea + 24); if (faulted()) return false;
    if (pm) {
      fip = w3;
      fcs = w4 & 0xFFFF;
      fop = (w4 >> 16) & 0x7FF;
      fdp = w5;
      fds = w6 & 0xFFFF;
    } else {
      fip = (w3 & 0xFFFF) | (((w4 >> 12) & 0xFFFF) << 16);
      fop = w4 & 0x7FF;
      fdp = (w5 & 0xFFFF) | (((w6 >> 12) & 0xFFFF) << 16);
    }
  } else {
    cw = readMem16(seg, ea); if (faulted()) return false;
    sw = readMem16(seg, ea + 2); if (faulted()) return false;
    tw = readMem16(seg, ea + 4); if (faulted()) return false;
    const w3 = readMem16(seg, ea + 6); if (faulted()) return false;
    const w4 = readMem16(seg, ea + 8); if (faulted()) return false;
    const w5 = readMem16(seg, ea + 10); if (faulted()) return false;
    const w6 = readMem16(seg, ea + 12); if (faulted()) return false;
    if (pm) {
      fip = w3;
      fcs = w4;
      fdp = w5;
      fds = w6;
    } else {
      fip = w3 | (((w4 >> 12) & 0xF) << 16);
      fop = w4 & 0x7FF;
      fdp = w5 | (((w6 >> 12) & 0xF) << 16);
    }
  }
  store<u32>(ENVBUF, cw & 0xFFFF);
  store<u32>(ENVBUF, sw & 0xFFFF, 4);
  store<u32>(ENVBUF, tw & 0xFFFF, 8);
  store<u32>(ENVBUF, fip, 12);
  store<u32>(ENVBUF, fcs, 16);
  store<u32>(ENVBUF, fop, 20);
  store<u32>(ENVBUF, fdp, 24);
  store<u32>(ENVBUF, fds, 28);
  return true;
}

/** Make ENVBUF the current environment. */
function commitEnv(): void {
  setControlWord(load<u32>(ENVBUF));
  setStatusWord(load<u32>(ENVBUF, 4));
  setTagWord(load<u32>(ENVBUF, 8));
  setPointers(load<u32>(ENVBUF, 16), load<u32>(ENVBUF, 12), load<u32>(ENVBUF, 20),
    load<u32>(ENVBUF, 28), load<u32>(ENVBUF, 24));
  recomputeES();
}

/** FNSTENV: store the environment, then mask all exceptions (SDM Vol. 2 FSTENV). */
export function fnstenv(seg: u32, ea: u32, o32: bool, pm: bool): void {
  if (!probeWrite(seg, ea, envSize(o32))) return;
  writeEnv(seg, ea, o32, pm);
  maskAllExceptions();
  recomputeES(); // with everything masked, ES and B clear (native vectors)
}

/** FLDENV (SDM Vol. 2 FLDENV). */
export function fldenv(seg: u32, ea: u32, o32: bool, pm: bool): void {
  if (!readEnv(seg, ea, o32, pm)) return;
  commitEnv();
}

/** FNSAVE: environment and ST(0)..ST(7), then FNINIT (SDM Vol. 2 FSAVE). */
export function fnsave(seg: u32, ea: u32, o32: bool, pm: bool): void {
  const n = envSize(o32);
  if (!probeWrite(seg, ea, n + 80)) return;
  writeEnv(seg, ea, o32, pm);
  for (let i: u32 = 0; i < 8; i++) {
    const p = physOf(i);
    const m = physMant(p);
    const a = ea + n + i * 10;
    writeMem32(seg, a, <u32>m);
    writeMem32(seg, a + 4, <u32>(m >> 32));
    writeMem16(seg, a + 8, physSexp(p));
  }
  resetState();
}

/** FRSTOR (SDM Vol. 2 FRSTOR). */
export function frstor(seg: u32, ea: u32, o32: bool, pm: bool): void {
  if (!readEnv(seg, ea, o32, pm)) return;
  const n = envSize(o32);
  for (let i: u32 = 0; i < 8; i++) {
    const a = ea + n + i * 10;
    const lo = readMem32(seg, a); if (faulted()) return;
    const hi = readMem32(seg, a + 4); if (faulted()) return;
    const se = readMem16(seg, a + 8); if (faulted()) return;
    store<u64>(REGBUF + i * 8, (<u64>hi << 32) | <u64>lo);
    store<u16>(REGBUF + 64 + i * 2, <u16>se);
  }
  commitEnv();
  // Registers are restored in stack order relative to the loaded TOP; tags were loaded too.
  const empty = load<u32>(ENVBUF, 8);
  for (let i: u32 = 0; i < 8; i++) {
    const p = (fpuTop + i) & 7;
    physSetRaw(p, <u32>load<u16>(REGBUF + 64 + i * 2), load<u64>(REGBUF + i * 8));
  }
  setTagWord(empty);
}
