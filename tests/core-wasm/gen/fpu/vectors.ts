// The native x87 vectors (fpu-vectors.json, written by gen.mjs) and how a result is compared
// with them; shared by the harness test (fpu-native) and the whole-CPU test (fpu-cpu).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

export interface FpuVector {
  name: string;
  /** Case body: x87 instructions, 66 prefixes, FWAIT, LAHF and `mov [ebx+d], ax`. */
  code: string;
  /** Initial bytes at EBX (hex, trailing zeros trimmed). */
  mem: string;
  eflags: number;
  /** 512 bytes at EBX afterwards: 0..255 the case's memory, 256.. the final FNSAVE image. */
  out: string;
  eflagsOut: number;
  ax: number;
  /** A waiting instruction raised #MF (SIGFPE on the host) and ended the case. */
  mf: boolean;
  approx?: number[];
  skip?: [number, number][];
}

export const SAVE = 256;

export function loadVectors(): FpuVector[] {
  return JSON.parse(readFileSync(new URL("./fpu-vectors.json", import.meta.url), "utf8")).cases;
}

function f64At(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset + off, 8).getFloat64(0, true);
}

function closeEnough(got: number, want: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (got === want) return true;
  return Math.abs(got - want) <= 4 * Number.EPSILON * Math.abs(want);
}

/** Assert that a run's memory (512 bytes at EBX), EFLAGS and AX match the native record. */
export function checkVector(v: FpuVector, got: Uint8Array, eflags: number, ax: number): void {
  const want = Buffer.from(v.out, "hex");
  const gotB = Buffer.from(got);
  // FIP/FCS/FOP/FDP/FDS depend on where the host code ran (and AMD/Intel differ): skip them.
  const skip = new Set<number>();
  for (let i = SAVE + 12; i < SAVE + 26; i++) skip.add(i);
  for (const [from, to] of v.skip ?? []) for (let i = from; i < to; i++) skip.add(i);
  let swMask = 0xffff;
  if (v.approx) {
    for (const off of v.approx) {
      assert.ok(closeEnough(f64At(gotB, off), f64At(want, off)), `f64 at ${off}: ${f64At(gotB, off)} vs ${f64At(want, off)}`);
      for (let i = 0; i < 8; i++) skip.add(off + i);
    }
    for (let i = SAVE + 28; i < SAVE + 108; i++) skip.add(i);
    swMask = ~0x0220 & 0xffff; // C1 and PE depend on the last bits of the result
  }
  const diffs: string[] = [];
  for (let i = 0; i < 512; i++) {
    if (skip.has(i) || gotB[i] === want[i]) continue;
    // In approximate cases status words (at 200.. and in the save image) ignore C1/PE.
    if (v.approx && ((i >= 200 && i < 256) || i === SAVE + 4 || i === SAVE + 5)) {
      const even = i & ~1;
      if (((gotB.readUInt16LE(even) ^ want.readUInt16LE(even)) & swMask) === 0) continue;
    }
    diffs.push(`[${i}] got ${gotB[i]!.toString(16)} want ${want[i]!.toString(16)}`);
  }
  assert.deepEqual(diffs, [], `memory differs (${diffs.length} bytes)`);
  assert.equal((eflags & 0x8d5).toString(16), (v.eflagsOut & 0x8d5).toString(16), "EFLAGS");
  assert.equal((ax & swMask).toString(16), (v.ax & swMask).toString(16), "AX");
}
