// Loads core.wasm into a fresh shared memory sized for the guest RAM. Used by the VM worker
// in Node and in the browser alike (it takes the module bytes, not a path).
import * as L from "./build/layout.ts";

export interface CoreImports {
  /** Handle the trap record in the run page (port or MMIO access), synchronously. */
  trap(): void;
  /** Interrupt acknowledge: return the vector of the highest-priority pending interrupt. */
  intack(): number;
  /** Read the virtual time-stamp counter (RDTSC). */
  rdtsc(): bigint;
}

export interface CoreExports {
  init(ramBytes: number): number;
  [name: string]: unknown;
}

export interface Core {
  memory: WebAssembly.Memory;
  exports: CoreExports;
  /** Guest physical RAM as bytes (phys 0 is index 0). */
  ram: Uint8Array;
  /** The run page as 32-bit words; index with layout offsets >> 2. */
  runPage: Int32Array;
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
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort(msg: number, file: number, line: number, col: number) {
        throw new Error(`core.wasm abort at ${line}:${col}`);
      },
    },
    vmm: { trap: imports.trap, intack: imports.intack, rdtsc: imports.rdtsc },
  });
  const exports = instance.exports as unknown as CoreExports;
  const err = exports.init(ramBytes);
  if (err !== 0) throw new Error(`core.wasm init failed (code ${err})`);
  return {
    memory,
    exports,
    ram: new Uint8Array(memory.buffer, L.GUEST_RAM_BASE, ramBytes),
    runPage: new Int32Array(memory.buffer, L.RUN_PAGE_BASE, L.RUN_PAGE_SIZE >> 2),
  };
}
