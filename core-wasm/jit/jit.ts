// The worker side of the JIT. core.wasm calls it through three imports:
//  - vmm.jitWarm(phys, eip): a block has run JIT_WARM_SHARE of the threshold; it may be compiled
//    along with the next hot one;
//  - vmm.jitCompile(phys, eip): a block is hot; returns its function-table slot (0: declined);
//  - vmm.jitFree(slot): the core dropped a stale block.
// Compiling a module has a fixed cost far above a small function's (≈0.4 ms in V8, whatever
// its size, and more in system time for its code space), so blocks are compiled many to a
// module: a hot block together with warm ones, which the core then takes through jitInstall.
// In a VM (`background`), hot blocks are queued and compiled together between run slices
// (tick), off the thread (WebAssembly.compile), while the interpreter goes on; the run loop
// gives the event loop a turn while compiles are in flight. With a threshold of 1 every block
// is hot once: one module per block made a boot 100 times slower (55,000 modules, 2.4 ms each).
// Guest-visible behaviour does not depend on when a block arrives: blocks take interrupts at
// the same instruction boundaries as the interpreter.
import { translateRegion, type Needs, type Translation } from "./translate.ts";
import { blocksModule, JIT_FUNCS, JIT_GLOBALS, type JitLayout } from "./core-imports.ts";
import type { Peek } from "./pc-thunk.ts";
import { JIT_COMPILING } from "../build/layout.ts";

/** Blocks per module at most (a hot block and warm ones). */
const BATCH = 16;
/** In a VM a hot block is compiled at once (with warm ones) when no module is being compiled,
 *  so it arrives soonest; while one is, hot blocks queue and go together, up to QUEUE_MAX, in
 *  the next (when it lands, or when the queue is full). So a boot's burst of hot blocks — or
 *  every block at `--jit 1` — comes in few modules, and a steady workload's rare hot block
 *  alone. (Compiling each at once cost the default boot ≈10 %; queueing always, until eight
 *  were hot, made md5sum's first pass 1.5× slower.) */
const QUEUE_MAX = 64;
/** Warm blocks remembered (the most recent are compiled first). */
const WARM_MAX = 256;
const COMPILED_MAX = 1 << 16;

/** A translated block: its physical address, the generation of its page it was read at. */
interface Block { phys: number; gen: number; tr: Translation; name: string }
/** A block to translate: [phys, eip, the permission bits of the CPL it ran at]. A queued block
 *  is translated later, between run slices, when the CPU may be at another CPL: made with
 *  that CPL's bits, a kernel region entered from the kernel failed its entry check every time
 *  (measured: 4 million declined entries on the cpu workload, each interpreted instead). */
type Want = [number, number, Needs];

export interface JitStats {
  /** Regions compiled (one per hot entry), the basic blocks in them, and the modules they
   *  came in. */
  blocks: number;
  regionBlocks: number;
  modules: number;
  /** Regions whose branches back all go to one block: a wasm loop of their own, not the loop
   *  around a br_table (translate.ts finish). */
  loops: number;
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

interface CoreJitExports {
  jitDecline(phys: number): void;
  jitRecount(phys: number): void;
  jitMarkCode(phys: number): number;
  jitSeen(phys: number): number;
  jitInstall(phys: number, gen: number, slot: number): number;
}

export class Jit {
  readonly stats: JitStats = { blocks: 0, regionBlocks: 0, modules: 0, loops: 0, instructions: 0, inline: 0, declined: 0, compileMs: 0, bytes: 0, live: 0 };
  private readonly imports: WebAssembly.Imports;
  private readonly freeSlots: number[] = [];
  private readonly maxPages: number;
  private readonly core: CoreJitExports;
  private readonly exportsRef: Record<string, unknown>;
  /** phys → [EIP, needs] of warm blocks, oldest first (a Map keeps insertion order). */
  private readonly warm = new Map<number, [number, Needs]>();
  /** phys → page generation of the blocks compiled into a region so far (entry or not),
   *  forgotten wholesale past COMPILED_MAX: only the warm fill consults it. */
  private readonly compiled = new Map<number, number>();
  private failed = false;
  private nextSlot = 0;
  /** Compile in the background (the VM); synchronously otherwise (tests: a block runs at once). */
  background = false;
  /** Name each region after its entry (`r<eip>_<phys>`, hex) in the modules, so that a CPU
   *  profile (node --cpu-prof) shows which guest code the time went to. */
  names = false;
  /** Modules being compiled in the background. */
  private inFlight = 0;

  /** Hot blocks waiting for the next module (background). */
  private readonly queue: Want[] = [];

  /** Between run slices: compile what is queued. True while compiles are in flight (the run
   *  loop should let the event loop turn). */
  tick(): boolean {
    if (this.queue.length && this.inFlight === 0) this.compileQueued();
    return this.inFlight > 0;
  }

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly table: WebAssembly.Table,
    exports: Record<string, unknown>,
    private readonly L: JitLayout,
  ) {
    this.maxPages = memory.buffer.byteLength / 65536;
    const helpers = new WebAssembly.Table({ element: "anyfunc", initial: JIT_FUNCS.length });
    JIT_FUNCS.forEach(([name], k) => helpers.set(k, exports[name] as Function));
    const c: Record<string, WebAssembly.ImportValue> = { memory, helpers };
    this.nextSlot = Math.max(1, table.length); // slot 0: the null function
    for (const [name] of JIT_GLOBALS) c[name] = exports[name] as WebAssembly.ImportValue;
    this.imports = { c };
    this.core = exports as unknown as CoreJitExports;
    this.exportsRef = exports;
  }

  warmBlock(phys: number, eip: number): void {
    this.warm.delete(phys);
    this.warm.set(phys, [eip, this.needs()]);
    if (this.warm.size > WARM_MAX) this.warm.delete(this.warm.keys().next().value!);
  }

  /** Translate the hot block at guest physical `phys` (EIP `eip`) and some warm ones; the hot
   *  block's table slot, or 0. */
  compile(phys: number, eip: number): number {
    if (this.failed) return 0;
    this.warm.delete(phys);
    if (this.background) {
      this.queue.push([phys, eip, this.needs()]);
      if (this.inFlight === 0 || this.queue.length >= QUEUE_MAX) this.compileQueued();
      return JIT_COMPILING;
    }
    const t0 = performance.now();
    const covered = new Set<number>();
    const blocks = this.translate([[phys, eip, this.needs()]], () => { this.stats.declined++; }, covered)
      .concat(this.translate(this.takeWarm(BATCH - 1), undefined, covered, true));
    return this.compileNow(blocks, phys, eip, t0);
  }

  /** Compile blocks (translated since t0) into a module at once and install them; the slot of
   *  the one at `hotPhys`. */
  private compileNow(blocks: Block[], hotPhys: number, eip: number, t0: number): number {
    if (blocks.length === 0) { this.stats.compileMs += performance.now() - t0; return 0; }
    const bytes = blocksModule(blocks.map((b) => b.tr), this.maxPages, this.names ? blocks.map((b) => b.name) : undefined);
    this.stats.bytes += bytes.length;
    let exported: Record<string, unknown>;
    try {
      exported = new WebAssembly.Instance(new WebAssembly.Module(bytes), this.imports).exports;
    } catch (e) {
      this.broken(e, eip);
      return 0;
    }
    const hot = this.install(blocks, exported, hotPhys);
    this.stats.compileMs += performance.now() - t0;
    return hot;
  }

  /** Code at linear address `lin` as the CPU would fetch it now at a CPL whose read bits are
   *  `need` (its TLB entry; nothing if the page is not in the TLB, not readable so, or not
   *  RAM), its page marked as code so a write to it moves the generation the translation is
   *  checked against. (The region checks the mapping again where it uses what it saw.) */
  private peekAt(lin: number, need: number): ReturnType<Peek> {
    const tlb = new Uint32Array(this.memory.buffer, this.L.TLB_BASE + (lin >>> 12) * 4, 1)[0]!;
    if ((tlb & need) !== need) return null;
    const phys = (tlb & 0xfffff000) >>> 0;
    if (this.L.GUEST_RAM_BASE + phys + 4096 > this.memory.buffer.byteLength) return null;
    const gen = this.core.jitMarkCode(phys);
    const at = phys + (lin & 0xfff);
    return { bytes: new Uint8Array(this.memory.buffer, this.L.GUEST_RAM_BASE + at, Math.min(8, 4096 - (lin & 0xfff))), phys, gen };
  }

  private pageGen(phys: number): number {
    return new Uint32Array(this.memory.buffer, this.L.PAGE_GEN_BASE + (phys >>> 12) * 4, 1)[0]!;
  }

  /** The permission bits the core's accesses need now (its CPL's). */
  private needs(): Needs {
    const g = (name: string) => (this.exportsRef[name] as WebAssembly.Global).value as number;
    return { read: g("readNeed"), write: g("writeNeed") };
  }

  /** The most recently warmed blocks, up to n, taken off the warm list. */
  private takeWarm(n: number): Want[] {
    const out: Want[] = [];
    for (const [phys, [eip, needs]] of [...this.warm].reverse()) {
      if (out.length >= n) break;
      out.push([phys, eip, needs]);
      this.warm.delete(phys);
    }
    return out;
  }

  /** Translate blocks [phys, eip]; `declined` hears of those with nothing to translate. */
  private translate(want: Want[], declined: (phys: number) => void = () => {}, covered?: Set<number>, warm = false): Block[] {
    const blocks: Block[] = [];
    for (const [p, e, needs] of want) {
      if (covered?.has(p)) { if (!warm) this.core.jitRecount(p); continue; }
      // A warm block fills the module only if no region holds it yet, in this batch (covered)
      // or an earlier one at the page's generation: else most of a hot page was compiled again
      // and again (gzip's deflate page: regions at 15 of its blocks, each with the same seven).
      if (warm && this.compiled.get(p) === this.pageGen(p)) continue;
      // Mark the page before reading it: from here on a write to it makes the block stale.
      const gen = this.core.jitMarkCode(p);
      const page = new Uint8Array(this.memory.buffer, this.L.GUEST_RAM_BASE + (p & ~0xfff), 4096);
      const tr = translateRegion(page, p & 0xfff, e, this.L, needs, (off) => this.core.jitSeen((p & ~0xfff) + off) !== 0, (lin) => this.peekAt(lin, needs.read));
      if (tr) {
        blocks.push({ phys: p, gen, tr, name: `r${(e >>> 0).toString(16)}_${p.toString(16)}` });
        for (const off of tr.members.slice(1)) covered?.add((p & ~0xfff) + off);
        if (this.compiled.size > COMPILED_MAX) this.compiled.clear();
        for (const off of tr.members) this.compiled.set((p & ~0xfff) + off, gen);
      } else declined(p);
    }
    return blocks;
  }

  /** Compile the queued hot blocks (and warm ones, to fill the module) in the background. */
  private compileQueued(): void {
    const t0 = performance.now();
    const hot = this.queue.splice(0);
    const warm = this.takeWarm(Math.max(0, BATCH - hot.length));
    // A queued block the translator declines is waiting as "being compiled": say it never will
    // be. One that a region of this batch already holds (the blocks of a loop turn hot together)
    // is not compiled again on its own: it counts again, and gets a region of its own only if it
    // turns hot entered from elsewhere.
    const covered = new Set<number>();
    const blocks = this.translate(hot, (p) => { this.stats.declined++; this.core.jitDecline(p); }, covered).concat(this.translate(warm, undefined, covered, true));
    if (blocks.length === 0) { this.stats.compileMs += performance.now() - t0; return; }
    const bytes = blocksModule(blocks.map((b) => b.tr), this.maxPages, this.names ? blocks.map((b) => b.name) : undefined);
    this.stats.bytes += bytes.length;
    this.inFlight++;
    WebAssembly.compile(bytes)
      .then((m) => WebAssembly.instantiate(m, this.imports))
      .then((inst) => this.install(blocks, inst.exports, -1), (e) => this.broken(e, blocks[0]!.phys))
      .finally(() => { this.inFlight--; });
    this.stats.compileMs += performance.now() - t0;
  }

  /** Put the module's blocks in the table; the core takes all but `hotPhys` (whose slot is
   *  returned) through jitInstall. */
  private install(blocks: Block[], exported: Record<string, unknown>, hotPhys: number): number {
    let hot = 0;
    const s = this.stats;
    blocks.forEach((b, k) => {
      const slot = this.freeSlots.pop() ?? this.newSlot();
      this.table.set(slot, exported[String(k)] as Function);
      s.live++;
      if (b.phys === hotPhys) hot = slot;
      else if (!this.core.jitInstall(b.phys, b.gen, slot)) { this.free(slot); return; }
      s.blocks++; s.regionBlocks += b.tr.blocks; if (b.tr.loop) s.loops++; s.instructions += b.tr.length; s.inline += b.tr.inline;
    });
    s.modules++;
    return hot;
  }

  /** A translator bug must not take the VM down: say so once and interpret from now on. */
  private broken(e: unknown, eip: number): void {
    this.failed = true;
    console.error(`vireo: JIT disabled, block at ${eip.toString(16)} did not compile: ${(e as Error).message}`);
  }

  /** A never-used slot. The table grows by doubling: V8 resizes the dispatch table of every
   *  instance that imports it, so growing one slot at a time is quadratic. */
  private newSlot(): number {
    if (this.nextSlot === this.table.length) this.table.grow(this.table.length);
    return this.nextSlot++;
  }

  free(slot: number): void {
    this.table.set(slot, null);
    this.freeSlots.push(slot);
    this.stats.live--;
  }
}
