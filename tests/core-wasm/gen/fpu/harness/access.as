// Stand-in for core-wasm/assembly/cpu/access.ts, used only to build the FPU test harness
// (tests/core-wasm/gen/fpu/build-harness.ts copies it to <tmp>/cpu/access.ts). Guest memory
// is a flat 64 KiB window at MEM; offsets in [faultLo, faultHi) raise a page fault.

const MEM: usize = 0x10000;
let faultLo: u32 = 0xFFFF_FFFF;
let faultHi: u32 = 0xFFFF_FFFF;
let fault: bool = false;
let excVector: i32 = -1;
let eflags: u32 = 0x2;
let ax: u32 = 0;

@inline function bad(off: u32, len: u32): bool {
  return off + len > faultLo && off < faultHi;
}
function pf(): void {
  fault = true;
  excVector = 14;
}

export function readMem8(seg: u32, off: u32): u32 {
  if (bad(off, 1)) { pf(); return 0; }
  return load<u8>(MEM + (off & 0xFFFF));
}
export function readMem16(seg: u32, off: u32): u32 {
  return readMem8(seg, off) | (readMem8(seg, off + 1) << 8);
}
export function readMem32(seg: u32, off: u32): u32 {
  return readMem16(seg, off) | (readMem16(seg, off + 2) << 16);
}
export function writeMem8(seg: u32, off: u32, v: u32): void {
  if (bad(off, 1)) { pf(); return; }
  store<u8>(MEM + (off & 0xFFFF), <u8>v);
}
export function writeMem16(seg: u32, off: u32, v: u32): void {
  writeMem8(seg, off, v);
  writeMem8(seg, off + 1, v >> 8);
}
export function writeMem32(seg: u32, off: u32, v: u32): void {
  writeMem16(seg, off, v);
  writeMem16(seg, off + 2, v >> 16);
}
export function probeWrite(seg: u32, off: u32, len: u32): bool {
  if (bad(off, len)) { pf(); return false; }
  return true;
}
export function faulted(): bool {
  return fault;
}
export function raiseException(vector: u32, errorCode: i32): void {
  fault = true;
  excVector = <i32>vector;
}
export function setFlagsZPC(zf: bool, pf: bool, cf: bool): void {
  eflags = (eflags & ~0x8D5) | (zf ? 0x40 : 0) | (pf ? 0x4 : 0) | (cf ? 0x1 : 0);
}
export function getEflags(): u32 {
  return eflags;
}
export function writeAX(v: u32): void {
  ax = v & 0xFFFF;
}

// Harness controls (re-exported by entry.ts).
export function hMemBase(): usize { return MEM; }
export function hSetFault(lo: u32, hi: u32): void { faultLo = lo; faultHi = hi; }
export function hBegin(): void { fault = false; excVector = -1; }
export function hException(): i32 { return excVector; }
export function hEflags(): u32 { return eflags; }
export function hSetEflags(v: u32): void { eflags = v; }
export function hAX(): u32 { return ax; }
export function hSetAX(v: u32): void { ax = v; }
