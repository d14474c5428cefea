// Loads core.wasm into a fresh shared memory sized for the guest RAM. Used by the VM worker
// in Node and in the browser alike (it takes the module bytes, not a path).
import * as L from "./build/layout.ts";
import { Jit } from "./jit/jit.ts";
import type { CoreExports } from "./build/exports.ts";

export interface CoreImports {
  /** Handle the trap record in the run page (port or MMIO access), synchronously. */
  trap(): void;
  /** Interrupt acknowledge: return the vector of the highest-priority pending interrupt. */
  intack(): number;
  /** Read the virtual time-stamp counter (RDTSC). */
  rdtsc(): bigint;
}

// The exports' types are generated from the AssemblyScript sources at build time
// (scripts/build-core.mjs): a renamed or re-typed export is a type error at its callers.
export type { CoreExports };

export interface Core {
  memory: WebAssembly.Memory;
  exports: CoreExports;
  /** Guest physical RAM as bytes (phys 0 is index 0). */
  ram: Uint8Array;
  /** The run page as 32-bit words; index with layout offsets >> 2. */
  runPage: Int32Array;
  /** The translator of hot blocks; off until `setJit(threshold)`. */
  jit: Jit;
  /** Translate blocks after `threshold` executions (0: interpret only). */
  setJit(threshold: number): void;
}

export function coreMemoryPages(ramBytes: number): number {
  return Math.ceil((L.GUEST_RAM_BASE + ramBytes) / L.WASM_PAGE);
}

export function instantiateCore(module: WebAssembly.Module, ramBytes: number, imports: CoreImports): Core {
  if (ramBytes <= 0 || ramBytes % 4096 !== 0 || ramBytes > L.GUEST_RAM_MAX) {
    throw new RangeError(`guest RAM must be a positive multiple of 4 KiB up to ${L.GUEST_RAM_MAX} bytes`);
  }
  const pages = coreMemoryPages(ramBytes);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const table = new WebAssembly.Table({ element: "anyfunc", initial: 1 });
  let jit: Jit | undefined;
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      table,
      abort(msg: number, file: number, line: number, col: number) {
        throw new Error(`core.wasm abort at ${line}:${col}`);
      },
    },
    vmm: {
      trap: imports.trap, intack: imports.intack, rdtsc: imports.rdtsc,
      jitCompile: (phys: number, eip: number) => jit!.compile(phys >>> 0, eip >>> 0),
      jitFree: (slot: number) => jit!.free(slot),
      jitWarm: (phys: number, eip: number) => jit!.warmBlock(phys >>> 0, eip >>> 0),
    },
  });
  const exports = instance.exports as unknown as CoreExports;
  const err = exports.init(ramBytes);
  if (err !== 0) throw new Error(`core.wasm init failed (code ${err})`);
  jit = new Jit(memory, table, exports as unknown as Record<string, unknown>, L);
  return {
    memory,
    exports,
    jit,
    setJit: (threshold: number) => exports.jitSetThreshold(threshold),
    ram: new Uint8Array(memory.buffer, L.GUEST_RAM_BASE, ramBytes),
    runPage: new Int32Array(memory.buffer, L.RUN_PAGE_BASE, L.RUN_PAGE_SIZE >> 2),
  };
}
