// The worker side of the JIT: called by core.wasm (vmm.jitCompile) when a block gets hot, it
// translates the block (translate.ts), compiles and instantiates it against the core's memory,
// globals and slow paths, and puts it in the core's function table; vmm.jitFree gives a slot
// back when the core drops a stale block.
import { translateBlock, JIT_FUNCS, JIT_GLOBALS, type JitLayout } from "./translate.ts";

export interface JitStats {
  /** Blocks compiled. */
  blocks: number;
  /** Instructions in them, and how many were generated inline (the rest call the interpreter). */
  instructions: number;
  inline: number;
  /** Blocks the translator declined (nothing to generate at that address). */
  declined: number;
  /** Milliseconds spent translating + compiling + instantiating. */
  compileMs: number;
  /** Module bytes generated. */
  bytes: number;
  /** Table slots in use. */
  live: number;
}

export class Jit {
  readonly stats: JitStats = { blocks: 0, instructions: 0, inline: 0, declined: 0, compileMs: 0, bytes: 0, live: 0 };
  private readonly imports: WebAssembly.Imports;
  private readonly freeSlots: number[] = [];
  private readonly maxPages: number;
  private failed = false;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly table: WebAssembly.Table,
    exports: Record<string, unknown>,
    private readonly L: JitLayout,
  ) {
    this.maxPages = memory.buffer.byteLength / 65536;
    const c: Record<string, unknown> = { memory };
    for (const [name] of JIT_FUNCS) c[name] = exports[name];
    for (const [name] of JIT_GLOBALS) c[name] = exports[name];
    this.imports = { c: c as Record<string, WebAssembly.ImportValue> };
  }

  /** Translate the block at guest physical `phys` (EIP `eip`); its table index, or 0. */
  compile(phys: number, eip: number): number {
    if (this.failed) return 0;
    const t0 = performance.now();
    const pageBase = phys & ~0xfff;
    const page = new Uint8Array(this.memory.buffer, this.L.GUEST_RAM_BASE + pageBase, 4096);
    const tr = translateBlock(page, phys & 0xfff, eip, this.L, this.maxPages);
    if (!tr) { this.stats.declined++; return 0; }
    let fn: Function;
    try {
      const t1 = performance.now();
      const module = new WebAssembly.Module(tr.bytes);
      const t2 = performance.now();
      fn = new WebAssembly.Instance(module, this.imports).exports.b as Function;
      const t3 = performance.now();
      (this.stats as any).tTr = ((this.stats as any).tTr ?? 0) + (t1 - t0);
      (this.stats as any).tMod = ((this.stats as any).tMod ?? 0) + (t2 - t1);
      (this.stats as any).tInst = ((this.stats as any).tInst ?? 0) + (t3 - t2);
    } catch (e) {
      // A translator bug must not take the VM down: say so once and interpret from now on.
      this.failed = true;
      console.error(`vireo: JIT disabled, block at ${eip.toString(16)} did not compile: ${(e as Error).message}`);
      return 0;
    }
    let slot = this.freeSlots.pop();
    if (slot === undefined) slot = this.table.grow(1); // returns the old length: the new slot
    this.table.set(slot, fn);
    const s = this.stats;
    s.blocks++; s.instructions += tr.length; s.inline += tr.inline; s.bytes += tr.bytes.length; s.live++;
    s.compileMs += performance.now() - t0;
    return slot;
  }

  free(slot: number): void {
    this.table.set(slot, null);
    this.freeSlots.push(slot);
    this.stats.live--;
  }
}
