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
  skip?: [number, number][];
}

export const SAVE = 256;

export function loadVectors(): FpuVector[] {
  return JSON.parse(readFileSync(new URL("./fpu-vectors.json", import.meta.url), "utf8")).cases;
}

/** Assert that a run's memory (512 bytes at EBX), EFLAGS and AX match the native record. */
export function checkVector(v: FpuVector, got: Uint8Array, eflags: number, ax: number): void {
  const want = Buffer.from(v.out, "hex");
  const gotB = Buffer.from(got);
  // FIP/FCS/FOP/FDP/FDS depend on where the host code ran (and AMD/Intel differ): skip them.
  const skip = new Set<number>();
  for (let i = SAVE + 12; i < SAVE + 26; i++) skip.add(i);
  for (const [from, to] of v.skip ?? []) for (let i = from; i < to; i++) skip.add(i);
  const diffs: string[] = [];
  for (let i = 0; i < 512; i++) {
    if (skip.has(i) || gotB[i] === want[i]) continue;
    diffs.push(`[${i}] got ${gotB[i]!.toString(16)} want ${want[i]!.toString(16)}`);
  }
  assert.deepEqual(diffs, [], `memory differs (${diffs.length} bytes)`);
  assert.equal((eflags & 0x8d5).toString(16), (v.eflagsOut & 0x8d5).toString(16), "EFLAGS");
  assert.equal(ax.toString(16), v.ax.toString(16), "AX");
}
