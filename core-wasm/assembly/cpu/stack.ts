// Stack pushes and pops through SS (SS.B chooses ESP or SP). ESP is committed after the access;
// a fault later in the instruction is undone by the run loop's GPR snapshot.
import { r32, w32, w16, stackB, ESP, SS } from "./state";
import { fault, readMem16, readMem32, writeMem16, writeMem32 } from "./access";

@inline export function spGet(): u32 { return stackB ? r32(ESP) : r32(ESP) & 0xFFFF; }
@inline export function spSet(v: u32): void { if (stackB) w32(ESP, v); else w16(ESP, v); }
@inline export function spAdd(d: u32): void { spSet(spGet() + d); }
/** Offset d bytes above the stack pointer, wrapped to the stack size. */
@inline export function spOff(d: u32): u32 { return stackB ? r32(ESP) + d : (r32(ESP) + d) & 0xFFFF; }

export function push32(v: u32): void {
  const sp = spOff(0xFFFF_FFFC);
  writeMem32(SS, sp, v);
  if (fault) return;
  spSet(sp);
}
export function push16(v: u32): void {
  const sp = spOff(0xFFFF_FFFE);
  writeMem16(SS, sp, v);
  if (fault) return;
  spSet(sp);
}
@inline export function pushSz(o32: bool, v: u32): void { if (o32) push32(v); else push16(v); }
export function pop32(): u32 {
  const v = readMem32(SS, spGet());
  if (fault) return 0;
  spAdd(4);
  return v;
}
export function pop16(): u32 {
  const v = readMem16(SS, spGet());
  if (fault) return 0;
  spAdd(2);
  return v;
}
@inline export function popSz(o32: bool): u32 { return o32 ? pop32() : pop16(); }
/** Read the stack at offset d without popping. */
export function peek(o32: bool, d: u32): u32 {
  return o32 ? readMem32(SS, spOff(d)) : readMem16(SS, spOff(d));
}
