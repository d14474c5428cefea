// What translated code imports from the core (assembly/cpu/jit.ts has the contract): the
// addresses of the core's tables it reads, the slow paths it calls, the globals it reads and
// writes — and the module prefix (types, imports) every module of regions shares, built once.
import { I32, I64, buildModule, modulePrefix, type FuncType, type FuncBody, type Import } from "./wasm-writer.ts";

/** The core's table addresses a region uses (core-wasm/build/layout.ts). */
export interface JitLayout {
  PAGE_GEN_BASE: number;
  REGS_BASE: number;
  SEGS_BASE: number;
  SEGCHK_BASE: number;
  TLB_BASE: number;
  GUEST_RAM_BASE: number;
}

const TYPES: FuncType[] = [
  { params: [I32], results: [I32] }, // 0: the block; jitCond
  { params: [I32, I32], results: [I32] }, // 1: jitRead*, jitInc, jitDec
  { params: [I32, I32, I32], results: [] }, // 2: jitWrite*
  { params: [I32, I32, I32], results: [I32] }, // 3: jitRmwRead
  { params: [I32, I32], results: [] }, // 4: jitRmwWrite
  { params: [], results: [] }, // 5: jitStep
  { params: [I32, I32, I32, I32], results: [I32] }, // 6: jitShift
];
/** Core exports a block calls. They sit in a table of their own (slot = position), and blocks
 *  reach them by call_indirect: importing them as functions would make V8 compile call wrappers
 *  for every module (≈0.35 ms each, ten times a small block's code). It is not the core's table
 *  of blocks: V8 updates every importing instance on each table.set, so that one stays private. */
export const JIT_FUNCS: [string, number][] = [
  ["jitRead8", 1], ["jitRead16", 1], ["jitRead32", 1], ["jitWrite8", 2], ["jitWrite16", 2], ["jitWrite32", 2],
  ["jitRmwRead", 3], ["jitRmwWrite", 4], ["jitStep", 5], ["jitCond", 0], ["jitInc", 1], ["jitDec", 1], ["jitShift", 6],
  ["jitImulFlags", 2],
];
export const F_READ = [0, 0, 1, 0, 2], F_WRITE = [0, 3, 4, 0, 5]; // by operand size
export const F_RMW_READ = 6, F_RMW_WRITE = 7, F_STEP = 8, F_COND = 9, F_INC = 10, F_DEC = 11, F_SHIFT = 12, F_IMUL_FLAGS = 13;
/** Core globals a block reads or writes, in import order (global index = position). */
export const JIT_GLOBALS: [string, number][] = [
  ["eip", I32], ["fault", I32], ["jitExit", I32], ["readNeed", I32], ["writeNeed", I32], ["stackB", I32],
  ["instretCount", I64], ["flags", I32],
];
export const G_EIP = 0, G_FAULT = 1, G_EXIT = 2, G_READNEED = 3, G_WRITENEED = 4, G_STACKB = 5, G_INSTRET = 6, G_FLAGS = 7;
/** A module's own global: the EIP the running region was entered at. Exits compute their EIP
 *  from it. In a local it was a value the compiler saw as fixed through the whole function, so
 *  V8 computed every exit's EIP at the entry, once per call, and spilled them all (a 500-
 *  instruction region: 400 stack slots filled before its first instruction). */
export const G_EIP0 = JIT_GLOBALS.length;
const OWN_GLOBALS = [I32];


export function jitImports(memPagesMax: number): Import[] {
  const imports: Import[] = [
    { module: "c", name: "memory", kind: "memory", min: 1, max: memPagesMax, shared: true },
    { module: "c", name: "helpers", kind: "table", min: JIT_FUNCS.length },
  ];
  for (const [name, valType] of JIT_GLOBALS) imports.push({ module: "c", name, kind: "global", valType, mutable: true });
  return imports;
}

const prefixes = new Map<string, Uint8Array>();
/** A module of translated blocks, exported as "0", "1", ... in order (named `names` in
 *  profiles, if given). */
export function blocksModule(blocks: FuncBody[], memPagesMax: number, names?: readonly string[]): Uint8Array<ArrayBuffer> {
  const key = `${memPagesMax}/${blocks.length}`;
  let prefix = prefixes.get(key);
  if (!prefix) prefixes.set(key, prefix = modulePrefix(TYPES, jitImports(memPagesMax), 0, blocks.length, OWN_GLOBALS));
  return buildModule(prefix, blocks, names);
}
