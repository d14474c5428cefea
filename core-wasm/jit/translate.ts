// An x86 region (region-plan.ts: a hot entry's block and the warm blocks it branches to in its
// page) → one WebAssembly function `(budget) => retired`, run against the core's own memory and
// state (assembly/cpu/jit.ts has the contract). The common integer instructions are generated
// inline: the GPRs in wasm locals, memory operands through the core's TLB with a call into the
// core on a miss, lazy flags kept in locals and stored only where something can read them (and
// flags no later instruction reads owed, flag-liveness.ts). Everything else is one call into
// the interpreter (jitStep), so a block may hold any instruction; those that change what a
// block assumes (segments, paging, EFLAGS.IF/TF, control flow) end it.
//
// Precise exceptions: every instruction does its memory accesses (which may fault) before it
// writes a register or the flags, so a fault leaves the state as it was before the instruction,
// with EIP pointing at it — what the interpreter's snapshot gives.
import { Bytes, Op, I32, VOID, type FuncBody } from "./wasm-writer.ts";
import {
  F_READ, F_WRITE, F_RMW_READ, F_RMW_WRITE, F_STEP, F_COND, F_INC, F_DEC, F_SHIFT, F_IMUL_FLAGS, JIT_FUNCS,
  G_EIP, G_EIP0, G_FAULT, G_EXIT, G_READNEED, G_WRITENEED, G_STACKB, G_INSTRET, G_FLAGS,
  type JitLayout,
} from "./core-imports.ts";
import { RegionPlan } from "./region-plan.ts";
import { thunkIn, type Peek, type Thunk } from "./pc-thunk.ts";
import { decode, type Insn, type Mem, SEG_ES, SEG_SS, SEG_DS, SEG_FS, SEG_GS } from "./x86-decode.ts";
import { continuesBlock } from "../x86/derive.ts";
import { flagEffect, flagsReadLater, ARITH, CF, OF } from "./flag-liveness.ts";

// The core's lazy-flag kinds, segment check bits and segment cache shape, as it exports them.
import { LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC, CHK_FLAT, CHK_WIDE, CHK_NOREAD, CHK_NOWRITE, SEG_STRIDE, SEG_BASE_AT,
  LF_OP_AT, LF_SIGN_AT, LF_A_AT, LF_B_AT, LF_RES_AT, LF_CIN_AT } from "../build/layout.ts";
const ESP = 4, ECX = 1;

/** Longest block, in instructions: long enough to amortize the entry, short enough that
 *  interrupts wait little (they are taken between blocks). */
export const MAX_BLOCK = 64;
/** Flag updates owed at once at most (each costs a call wherever the block leaves). */
const MAX_REPLAYS = 4;


const mask = (sz: number) => (sz === 4 ? 0xffffffff : (1 << (sz * 8)) - 1);
const sign = (sz: number) => (sz === 4 ? 0x80000000 : 1 << (sz * 8 - 1));

/** What the flag locals hold: the last flag-setting instruction translated in this block. */
interface Pending { lf: number; sz: number; stored: boolean; cin?: number }
/** A flag update owed (see flag-liveness.ts): `emit` applies it in the core; an INC/DEC of a
 *  register also keeps its operand and result in locals, from which cond() reads ZF SF OF.
 *  `writes`: the flags it may change; `kills`: those it surely sets, whatever it had. */
interface Replay { emit: () => void; writes: number; kills: number; incdec?: { v: number; r: number; sz: number; dec: boolean; cf?: number | undefined } }

/** The interpreter may run i inside a block without ending it: it computes, moves data or
 *  touches the x87, but changes nothing a block assumes (segments, paging, CPL, EFLAGS.IF/TF)
 *  and does not jump — the opcode table's `endsBlock` (core-wasm/x86/opcodes.ts). String
 *  instructions with REP are among them: an unfinished REP leaves EIP on itself, which ends
 *  the block. PAUSE (F3 90) may exit the run loop. */
function continues(i: Insn): boolean {
  if (i.op === 0x90 && i.rep === 0xf3) return false;
  return continuesBlock(i.op, i.reg);
}

/** The TLB permission bits an access needs at the CPL the code runs at (the core's readNeed
 *  and writeNeed). */
export interface Needs { read: number; write: number }

export interface Translation extends FuncBody {
  /** Instructions in the block. */
  length: number;
  /** Of which generated inline (the rest call the interpreter). */
  inline: number;
  /** Basic blocks in the region. */
  blocks: number;
  /** Its branches back are one wasm loop (RegionPlan.loopHead). */
  loop: boolean;
  /** Their byte offsets in the page (the entry's first). */
  members: readonly number[];
}

/** Translate the region entered at byte `offset` of the code page `page` (4 KiB), EIP `eip`:
 *  the block there and the blocks its direct branches reach in the same page, as one function
 *  whose internal branches stay in WebAssembly (a loop over a br_table of the blocks). Null when
 *  there is nothing worth translating there. Two passes: the first finds the blocks (and their
 *  lengths), the second generates them knowing where each branch goes. */
export function translateRegion(page: Uint8Array, offset: number, eip: number, L: JitLayout, needs: Needs,
  seen: (offset: number) => boolean = () => true, peek: Peek = () => null): Translation | null {
  const plan = new RegionPlan(offset, eip >>> 0, seen);
  const first = new Translator(L, eip >>> 0, plan, undefined, page, peek, needs);
  for (let k = 0; k < plan.offsets.length; k++) plan.counted(k, first.block(page, plan.offsets[k]!, k));
  plan.layOut();
  if (first.inlined === 0) return null;
  const t = new Translator(L, eip >>> 0, plan, { used: first.regsUsed, written: first.regsWritten }, page, peek, needs);
  const codes: Bytes[] = [];
  for (let k = 0; k < plan.offsets.length; k++) {
    t.block(page, plan.offsets[k]!, k);
    codes.push(t.takeCode());
  }
  if ((t.regsUsed & ~first.regsUsed) || (t.regsWritten & ~first.regsWritten)) throw new Error("translator: the passes disagree on registers");
  return { locals: t.locals, body: t.finish(codes), length: plan.counts.reduce((a, b) => a + b, 0), inline: t.inlined, blocks: codes.length, loop: plan.loopHead >= 0, members: [plan.entryOff, ...plan.offsets.filter((o) => o !== plan.entryOff)] };
}

class Translator {
  private b = new Bytes();
  locals: number[] = [];
  /** Instructions completed so far on the straight-line path of the current block. */
  count = 0;
  inlined = 0;
  private pending: Pending | null = null;
  private segs = new Set<number>();
  private stack = false;
  /** The current instruction has a slow path that may ask the block to end after it. */
  private slow = false;
  private fa: number; private fb: number; private fr: number;
  /** The block being generated, and the `if` nesting at the current point of its code. */
  private k = 0;
  private depth = 0;
  /** Locals: the block to run next (the br_table index), instructions retired by the blocks
   *  already run in this call. */
  private idx: number; private done: number;
  /** The core's readNeed / writeNeed (TLB permission bits for the CPL), constants of the
   *  translation: a region checks at entry that they are what it was made for (a page's code
   *  runs at one CPL), and nothing inside it changes them (an instruction that could ends its
   *  block). As locals they held two registers through every region. */
  private usesNeed = [false, false];
  /** The return value on the way out; the GPR locals. */
  private ret: number;
  /** What an exit hands the shared exit code at the end of the function (finish): the EIP it
   *  leaves to, relative to the entry's; the instructions of its block it retired; and the
   *  lazy-flags kind (lf | sign) of flags it leaves in fa fb fr for that code to store. */
  private xEip: number; private xN: number; private xF: number;
  /** Instructions added to instretCount; "a slow path asked to leave"; the count a slow call
   *  added for its duration (slowCall). */
  private cred: number; private xl: number; private slowOwed: number;
  private readonly R: number[] = [];
  /** Registers used (read or written) and written by the code generated so far; the sets
   *  loaded and stored (the first pass's, for the whole region). */
  regsUsed = 0;
  regsWritten = 0;
  private loadSet: number; private storeSet: number;
  /** Temporaries of the current block: a block's locals die at its end, so blocks share them. */
  private tempStart: number;
  private nTemp = 0;

  /** EIP at entry (global G_EIP0): blocks are shared by every linear address their page is
   *  mapped at (one physical page of a shared library, the vDSO), so EIPs are generated
   *  relative to it. */

  constructor(private L: JitLayout, private base: number, private plan: RegionPlan, regs: { used: number; written: number } | undefined,
    private page: Uint8Array, private peek: Peek, private needs: Needs) {
    const fixed = () => { this.locals.push(I32); return this.locals.length; /* param 0 is the budget */ };
    this.fa = fixed(); this.fb = fixed(); this.fr = fixed();
    this.idx = fixed(); this.done = fixed(); this.ret = fixed();
    this.xEip = fixed(); this.xN = fixed(); this.xF = fixed();
    this.cred = fixed(); this.xl = fixed(); this.slowOwed = fixed();
    for (let x = 0; x < 8; x++) this.R.push(fixed());
    this.loadSet = regs?.used ?? 0xff;
    this.storeSet = regs?.written ?? 0xff;
    this.tempStart = this.locals.length;
  }

  /** Block k (not the entry) is reached only by the region's own branches: when all of them
   *  leave the same kind of ALU result in the core's lazy flags, the block starts with it as
   *  its pending flags (stored already; the operands read back into the flag locals), so a
   *  Jcc there compares inline instead of calling the core's cond() — `cmp; je a; jb b` ends
   *  a block at `je`, and `jb` begins the next. */
  private flagsIn(offset: number, k: number): void {
    if (this.plan.open || k === this.plan.entry) return;
    let kind: number | undefined;
    for (const [f, t, known] of this.plan.edges) {
      if (t !== offset || !this.plan.index.has(f)) continue;
      if (kind !== undefined && known !== kind) return;
      kind = known;
    }
    if (!kind) return; // no branch here from the region, or one whose flags are not known
    const lf = kind & 7;
    if (lf !== LF_ADD && lf !== LF_SUB && lf !== LF_LOGIC) return;
    const sz = (kind & 0x80000000) !== 0 ? 4 : (kind & 0x8000) !== 0 ? 2 : 1;
    this.lf(LF_A_AT).set(this.fa).lf(LF_B_AT).set(this.fb).lf(LF_RES_AT).set(this.fr);
    this.pending = { lf, sz, stored: true };
  }
  /** Generate block k, which starts at byte `offset` of the page; returns its instruction count. */
  block(page: Uint8Array, offset: number, k: number): number {
    this.k = k; this.depth = 0; this.nTemp = 0;
    this.count = 0; this.pending = null; this.slow = false; this.term = false;
    // Decode the straight line first: which flags are read later is known before generating.
    const insns: Insn[] = [];
    let at = offset;
    let pc = (this.base + offset - this.plan.entryOff) >>> 0;
    this.thunks.clear();
    while (insns.length < MAX_BLOCK) {
      // An instruction the decoder does not know, or one crossing the page end, stops it.
      const insn = decode(page, at, pc);
      if (!insn) break;
      insns.push(insn);
      at += insn.len;
      pc = (pc + insn.len) >>> 0;
      if (!continues(insn) && !this.findThunk(insn, insns.length - 1)) break;
    }
    this.readLater = flagsReadLater(insns);
    this.replays = [];
    this.flagsIn(offset, k);
    for (let j = 0; j < insns.length; j++) {
      this.cur = j;
      const insn = insns[j]!;
      if (this.insn(insn, (insn.eip + insn.len) >>> 0) === "end") return this.count;
    }
    // A long straight line: the rest is another block, of this region if the plan has room.
    // An undecodable instruction: the run loop goes on from there (a jump would come straight
    // back here, retiring nothing).
    if (insns.length === MAX_BLOCK) this.jump(pc, this.count);
    else this.exit(pc, this.count);
    return this.count;
  }
  /** The code generated for the current block, handed over (the next block starts anew). */
  takeCode(): Bytes {
    const code = this.b;
    this.b = new Bytes();
    return code;
  }

  /** Push the EIP that is `x` in the translated mapping, relative to this entry's EIP. */
  private eipc(x: number): this {
    this.gget(G_EIP0);
    const d = (x - this.base) | 0;
    if (d !== 0) this.i32(d).op(Op.i32_add);
    return this;
  }

  /** A temporary of the current block. */
  local(): number {
    const n = this.tempStart + this.nTemp++;
    if (n === this.locals.length) this.locals.push(I32);
    return n + 1; // param 0 is the budget
  }

  // ---- emission primitives ----
  private op(o: number): this { this.b.byte(o); return this; }
  private i32(v: number): this { this.b.byte(Op.i32_const).s32(v | 0); return this; }
  private get(l: number): this { this.b.byte(Op.local_get).u32(l); return this; }
  private set(l: number): this { this.b.byte(Op.local_set).u32(l); return this; }
  private tee(l: number): this { this.b.byte(Op.local_tee).u32(l); return this; }
  private gget(g: number): this { this.b.byte(Op.global_get).u32(g); return this; }
  private gset(g: number): this { this.b.byte(Op.global_set).u32(g); return this; }
  /** Call core helper f (JIT_FUNCS index) through the shared table. */
  private call(f: number): this {
    this.i32(f);
    this.b.byte(Op.call_indirect).u32(JIT_FUNCS[f]![1]).byte(0x00);
    return this;
  }
  private mem(o: number, align: number, offset: number): this { this.b.byte(o).u32(align).u32(offset >>> 0); return this; }
  /** Push the core's lazy-flag word at `at` (LF_*_AT: linear memory, not an imported global). */
  private lf(at: number): this { return this.i32(0).mem(Op.i32_load, 2, at); }
  /** Store local `l` into the core's lazy-flag word at `at`. */
  private lfPut(at: number, l: number): this { return this.i32(0).get(l).mem(Op.i32_store, 2, at); }
  /** Store the kind and sign bit of a lazy result: adjacent words, one i64 store. */
  private lfKind(lf: number, sz: number): this {
    this.i32(0).b.byte(Op.i64_const).s64(BigInt(sign(sz) >>> 0) << 32n | BigInt(lf));
    return this.mem(Op.i64_store, 3, LF_OP_AT);
  }
  private if(): this { this.depth++; this.b.byte(Op.if).byte(VOID); return this; }
  private ifI32(): this { this.depth++; this.b.byte(Op.if).byte(I32); return this; }
  private else(): this { return this.op(Op.else); }
  private end(): this { this.depth--; return this.op(Op.end); }

  // ---- registers ----
  // Inside a region the GPRs live in locals (R[0..7]: EAX..EDI; AH..BH are bits 8-15 of
  // EAX..EBX), loaded at entry and stored back (REGS_BASE, u32 each) wherever the core may look:
  // at every exit and around an interpreter step. Only the registers the region uses are
  // loaded, and only those it writes are stored: the first pass finds both sets.
  private regOf(sz: number, r: number): number { return sz === 1 ? r & 3 : r; }
  private getReg(sz: number, r: number): this {
    const x = this.regOf(sz, r);
    this.regsUsed |= 1 << x;
    this.get(this.R[x]!);
    if (sz === 1 && r >= 4) this.i32(8).op(Op.i32_shr_u);
    if (sz !== 4) this.i32(mask(sz)).op(Op.i32_and);
    return this;
  }
  /** reg ← the value `emit` pushes (only its low sz bytes count). */
  private setReg(sz: number, r: number, emit: () => void): this {
    const x = this.regOf(sz, r);
    this.regsUsed |= 1 << x;
    this.regsWritten |= 1 << x;
    if (sz === 4) { emit(); return this.set(this.R[x]!); }
    const hi = sz === 1 && r >= 4;
    this.get(this.R[x]!).i32(~(mask(sz) << (hi ? 8 : 0))).op(Op.i32_and);
    emit();
    this.i32(mask(sz)).op(Op.i32_and);
    if (hi) this.i32(8).op(Op.i32_shl);
    this.op(Op.i32_or);
    return this.set(this.R[x]!);
  }
  /** Store the registers the region writes (their locals are what the core must see). */
  private storeRegs(): void {
    for (let x = 0; x < 8; x++) if (this.storeSet & (1 << x)) this.i32(0).get(this.R[x]!).mem(Op.i32_store, 2, this.L.REGS_BASE + x * 4);
  }
  /** Reload the registers the region uses (after the interpreter ran an instruction). */
  private loadRegs(): void {
    for (let x = 0; x < 8; x++) if (this.loadSet & (1 << x)) this.i32(0).mem(Op.i32_load, 2, this.L.REGS_BASE + x * 4).set(this.R[x]!);
  }

  // ---- exits ----
  private flagStores(): void {
    const p = this.pending!;
    this.lfKind(p.lf, p.sz);
    if (p.cin !== undefined) this.lfPut(LF_CIN_AT, p.cin);
    this.lfPut(LF_A_AT, this.fa).lfPut(LF_B_AT, this.fb).lfPut(LF_RES_AT, this.fr);
  }
  /** Store the flag locals into the core's lazy flags (before the core may read them), then
   *  apply what is owed: from here the core holds the flags. */
  private flushFlags(): void {
    if (this.pending && !this.pending.stored) { this.flagStores(); this.pending.stored = true; }
    if (this.replays.length) {
      for (const r of this.replays) r.emit();
      this.replays = [];
      this.pending = null;
    }
  }
  /** The same on a path that leaves (the translator's state stays as it is for the code after). */
  private exitFlags(): void {
    if (this.pending && !this.pending.stored) this.flagStores();
    for (const r of this.replays) r.emit();
  }
  // instretCount: a region adds what it retires when it leaves or steps, not at every branch
  // inside it; local `cred` is how much of this call's work (done + count) it has added.
  /** Push this call's instructions retired after `n` more of this block, not yet added. */
  private owed(n: number): void {
    this.get(this.done);
    if (n !== 0) this.i32(n).op(Op.i32_add);
    this.get(this.cred).op(Op.i32_sub);
  }
  /** instretCount += the (signed) i32 on the stack. */
  private addInstret(): void {
    this.op(Op.i64_extend_i32_s).gget(G_INSTRET).op(Op.i64_add).gset(G_INSTRET);
  }
  /** Around a slow-path call: the core may trap to a device, whose clock (deterministic mode)
   *  is the instruction count, so it must include this call's instructions so far. The call
   *  is on a conditional path, so the count is taken back after it: exits add it again. */
  private slowCall(f: number): void {
    this.owed(this.count); this.tee(this.slowOwed).addInstret();
    this.call(f);
    this.i32(0).get(this.slowOwed).op(Op.i32_sub).addInstret();
  }
  /** Leave the region: flags stored, EIP = `eipTo` (a constant, a local via {local}, or null:
   *  already set), `retired` instructions of this block counted (and those of the blocks run
   *  before it in this call, `done`).
   *  A region has many exits (every memory access has one), so what they have in common —
   *  EIP, the instruction count, the flags of a pending ALU result — is done once, by the code
   *  finish() puts at the end of the function; an exit sets three locals and branches there.
   *  (Each exit doing all of it was 40 % of a region's code, all of it compiled by V8.) */
  exit(eipTo: number | { local: number } | null, retired: number): void {
    const p = this.pending;
    const flagsInTail = p !== null && !p.stored && p.cin === undefined && this.replays.length === 0;
    if (flagsInTail) this.i32(p.lf | sign(p.sz)).set(this.xF);
    else this.exitFlags();
    if (typeof eipTo === "number") this.i32((eipTo - this.base) | 0);
    else { if (eipTo) this.get(eipTo.local); else this.gget(G_EIP); this.gget(G_EIP0).op(Op.i32_sub); }
    this.set(this.xEip);
    this.i32(retired).set(this.xN);
    // Past the ifs open here, the blocks after this one and the loop: the exit code's blocks.
    this.b.byte(Op.br).u32(this.depth + this.inner() + (flagsInTail ? 1 : 2));
  }
  /** The wasm blocks (and loop) between the current block's code and the exit code's blocks,
   *  less one (see finish). */
  private inner(): number {
    const h = this.plan.loopHead, L = this.plan.loopEnd, n = this.plan.offsets.length, k = this.k;
    if (h < 0 || (k >= h && k <= L)) return n - 1 - k;
    return k < h ? h - k + n - 2 - L : n - 2 - k;
  }
  /** The br depth (past the ifs open here) to block j's code, j > k. */
  private forward(j: number): number {
    const h = this.plan.loopHead, L = this.plan.loopEnd, k = this.k;
    if (h < 0 || j <= L || k > L) {
      if (h >= 0 && k < h && j > h && j <= L) throw new Error("translator: a branch into the loop past its head");
      return j - k - 1;
    }
    return k < h ? h - k + j - L - 1 : j - k; // out of the loop, to a block after it
  }
  /** A direct branch to `target` after `retired` instructions of this block: on to the target's
   *  block if it is in the region and the budget allows all of it (the run loop's rule for
   *  entering a block), else leave. Flags are stored: the next block reads them from the core. */
  private jump(target: number, retired: number): void {
    if (this.plan.open) {
      const p = this.pending, known = p && !this.replays.length && p.cin === undefined ? p.lf | sign(p.sz) : 0;
      this.plan.edges.push([this.plan.offsets[this.k]!, this.plan.entryOff + ((target - this.base) | 0), known]);
    }
    const j = this.plan.target(target);
    if (j < 0) { this.exit(target, retired); return; }
    // A slow path of this instruction asked to leave (a code page written, a device's exit).
    if (this.slow) { this.get(this.xl).if(); this.exit(target, retired); this.end(); }
    // The next block reads the flags from the core. (Keeping them in the flag locals across
    // blocks, with their kind in a local, was slower in an A/B run under load: more values
    // live around the loop.)
    this.flushFlags();
    this.get(0).get(this.done).op(Op.i32_sub).i32(retired + this.plan.counts[j]! + 1).op(Op.i32_lt_u);
    this.if();
    this.exit(target, retired);
    this.end();
    this.get(this.done).i32(retired).op(Op.i32_add).set(this.done);
    // Forward: out of the blocks up to the one whose end block j's code follows. Back: to the
    // loop around the dispatch, past the ifs open here and the blocks after this one.
    if (j > this.k) { this.b.byte(Op.br).u32(this.depth + this.forward(j)); return; }
    const h = this.plan.loopHead;
    if (h < 0) this.i32(j).set(this.idx);
    else if (j !== h || this.k > this.plan.loopEnd) throw new Error("translator: a branch back that is not the loop's");
    this.b.byte(Op.br).u32(this.depth + (h < 0 ? this.plan.offsets.length - 1 - this.k : this.plan.loopEnd - this.k));
  }
  /** After a slow-path call: if it faulted, leave with EIP at this instruction. */
  private faultExit(insn: Insn): void {
    this.gget(G_FAULT).if();
    this.exit(insn.eip, this.count);
    this.end();
    this.slowDone();
  }
  /** On a slow path: remember whether the core asked to leave after this instruction (a local
   *  the fast path never touches; it is 0 until the one time it is not, which leaves). */
  private slowDone(): void {
    this.gget(G_EXIT).set(this.xl);
    this.slow = true;
  }

  // ---- memory operands ----
  private ea(m: Mem): void {
    let any = false;
    if (m.base >= 0) { this.getReg(4, m.base); any = true; }
    if (m.index >= 0) {
      this.getReg(4, m.index);
      if (m.scale) this.i32(m.scale).op(Op.i32_shl);
      if (any) this.op(Op.i32_add);
      any = true;
    }
    if (!any) this.i32(m.disp);
    else if (m.disp !== 0) this.i32(m.disp).op(Op.i32_add);
  }
  /** The TLB lets this access take the fast path: segment flat (ES SS DS) or 4 GiB (FS GS),
   *  checked at region entry; page mapped for this CPL, access within the page. */
  private fastSeg(seg: number): boolean {
    if (seg !== SEG_ES && seg !== SEG_SS && seg !== SEG_DS && seg !== SEG_FS && seg !== SEG_GS) return false;
    this.segs.add(seg);
    return true;
  }
  /** The local holding the linear address of offset `off` in seg: the offset itself in a flat
   *  segment, else offset + base (the base is fixed inside a region: a segment load ends it). */
  private linear(seg: number, off: number): number {
    if (seg !== SEG_FS && seg !== SEG_GS) return off;
    const lin = this.local();
    this.get(off).i32(0).mem(Op.i32_load, 2, this.L.SEGS_BASE + seg * SEG_STRIDE + SEG_BASE_AT).op(Op.i32_add).set(lin);
    return lin;
  }
  /** Push "the TLB lets sz bytes at seg:off (linear lin) take the fast path"; `e` = TLB entry.
   *  With a base, the offset must not wrap past 4 GiB (the limit, which the core faults). */
  private fastCheck(sz: number, off: number, lin: number, e: number, need: number): void {
    this.tlbCheck(sz, lin, e, need);
    if (lin !== off) this.get(off).i32(-sz).op(Op.i32_le_u).op(Op.i32_and);
  }
  private tlbCheck(sz: number, lin: number, e: number, need: number): void {
    this.get(lin).i32(12).op(Op.i32_shr_u).i32(2).op(Op.i32_shl).mem(Op.i32_load, 2, this.L.TLB_BASE).tee(e);
    const bits = need === G_READNEED ? this.needs.read : this.needs.write;
    this.usesNeed[need === G_READNEED ? 0 : 1] = true;
    this.i32(bits).op(Op.i32_and).i32(bits).op(Op.i32_eq);
    if (sz > 1) this.get(lin).i32(0xfff).op(Op.i32_and).i32(0x1000 - sz).op(Op.i32_le_u).op(Op.i32_and);
  }
  private phys(lin: number, e: number): void {
    this.get(e).i32(0xfffff000 | 0).op(Op.i32_and).get(lin).i32(0xfff).op(Op.i32_and).op(Op.i32_or);
  }
  private loadOp(sz: number): [number, number] {
    return sz === 4 ? [Op.i32_load, 2] : sz === 2 ? [Op.i32_load16_u, 1] : [Op.i32_load8_u, 0];
  }
  private storeOp(sz: number): [number, number] {
    return sz === 4 ? [Op.i32_store, 2] : sz === 2 ? [Op.i32_store16, 1] : [Op.i32_store8, 0];
  }
  /** Where the TLB does not let an access take the fast path (a miss, a page crossing, MMIO,
   *  a write to a page holding translated code), the region leaves *before* the instruction
   *  and the interpreter does it (and the rest of its block). A call into the core there
   *  instead made V8 keep every register local in a stack slot on the fast path too: a wasm
   *  call clobbers every machine register, and its register allocator spills a value live
   *  across any call where the value is made, cold path or not. Nothing of the instruction
   *  has been done yet (accesses come before register and flag writes), so leaving is exact. */
  private missExit(insn: Insn): void {
    this.exit(insn.eip, this.count);
  }
  /** Push the sz-byte value at seg:lin (lin a local holding the offset). */
  private readMem(insn: Insn, sz: number, seg: number, lin: number): void {
    if (this.fastSeg(seg)) {
      const e = this.local(), at = this.linear(seg, lin);
      this.fastCheck(sz, lin, at, e, G_READNEED);
      this.ifI32();
      this.phys(at, e);
      const [o, a] = this.loadOp(sz);
      this.mem(o, a, this.L.GUEST_RAM_BASE);
      this.else();
      this.missExit(insn);
      this.end();
    } else {
      this.i32(seg).get(lin).slowCall(F_READ[sz]!);
      this.faultExit(insn);
    }
  }
  /** seg:lin ← the value in local v. */
  private writeMem(insn: Insn, sz: number, seg: number, lin: number, v: number): void {
    const slowPath = () => { this.i32(seg).get(lin).get(v).slowCall(F_WRITE[sz]!); this.faultExit(insn); };
    if (!this.fastSeg(seg)) { slowPath(); return; }
    const e = this.local(), at = this.linear(seg, lin);
    this.fastCheck(sz, lin, at, e, G_WRITENEED);
    this.if();
    this.phys(at, e);
    this.get(v);
    const [o, a] = this.storeOp(sz);
    this.mem(o, a, this.L.GUEST_RAM_BASE);
    this.else();
    this.missExit(insn);
    this.end();
  }
  /** Read for a read-modify-write: pushes the value; `ph` gets the physical address on the
   *  fast path, or -1 when the core holds the (pre-translated) access. */
  private rmwRead(insn: Insn, sz: number, seg: number, lin: number, ph: number): void {
    const slowPath = () => { this.i32(seg).get(lin).i32(sz).slowCall(F_RMW_READ); this.faultExit(insn); this.i32(-1).set(ph); };
    this.rmwFast = this.fastSeg(seg);
    if (!this.rmwFast) { slowPath(); return; }
    const e = this.local(), at = this.linear(seg, lin);
    this.fastCheck(sz, lin, at, e, G_WRITENEED);
    this.ifI32();
    this.phys(at, e);
    this.tee(ph);
    const [o, a] = this.loadOp(sz);
    this.mem(o, a, this.L.GUEST_RAM_BASE);
    this.else();
    this.missExit(insn);
    this.end();
  }
  /** The last rmwRead took the fast path or left: its write goes straight to `ph`. */
  private rmwFast = false;
  private rmwWrite(sz: number, ph: number, v: number): void {
    if (this.rmwFast) {
      this.get(ph).get(v);
      const [o, a] = this.storeOp(sz);
      this.mem(o, a, this.L.GUEST_RAM_BASE);
      return;
    }
    this.get(ph).i32(-1).op(Op.i32_ne).if();
    this.get(ph).get(v);
    const [o, a] = this.storeOp(sz);
    this.mem(o, a, this.L.GUEST_RAM_BASE);
    this.else();
    this.i32(sz).get(v).slowCall(F_RMW_WRITE);
    this.slowDone();
    this.end();
  }
  private memLocal(m: Mem): number {
    const lin = this.local();
    this.ea(m);
    this.set(lin);
    return lin;
  }

  // ---- flags ----
  /** Set the flag locals for an ALU result: fa, fb operands (locals), fr = result (masked). */
  private aluFlags(lf: number, sz: number, cin?: number): void {
    this.pending = { lf, sz, stored: false, ...(cin !== undefined ? { cin } : {}) };
    this.replays = []; // all six flags overwritten
  }
  /** Push 1 if condition cc (Jcc/SETcc/CMOVcc low nibble, SDM Vol. 1 App. B) holds. */
  private cond(cc: number): void {
    const last = this.replays[this.replays.length - 1];
    if (last?.incdec && this.incDecCond(cc, last.incdec)) return;
    const p = this.replays.length ? null : this.pending;
    const neg = (cc & 1) !== 0;
    const not = () => { if (neg) this.op(Op.i32_eqz); };
    const sf = () => { this.get(this.fr).i32(sign(p!.sz)).op(Op.i32_and).i32(0).op(Op.i32_ne); };
    const sx = (l: number) => { this.get(l); if (p!.sz === 1) this.op(Op.i32_extend8_s); else if (p!.sz === 2) this.op(Op.i32_extend16_s); };
    if (p && p.lf === LF_SUB) {
      switch (cc) {
        case 2: this.get(this.fa).get(this.fb).op(Op.i32_lt_u); return;
        case 3: this.get(this.fa).get(this.fb).op(Op.i32_ge_u); return;
        case 4: this.get(this.fa).get(this.fb).op(Op.i32_eq); return;
        case 5: this.get(this.fa).get(this.fb).op(Op.i32_ne); return;
        case 6: this.get(this.fa).get(this.fb).op(Op.i32_le_u); return;
        case 7: this.get(this.fa).get(this.fb).op(Op.i32_gt_u); return;
        case 8: case 9: sf(); not(); return;
        case 0xc: sx(this.fa); sx(this.fb); this.op(Op.i32_lt_s); return;
        case 0xd: sx(this.fa); sx(this.fb); this.op(Op.i32_ge_s); return;
        case 0xe: sx(this.fa); sx(this.fb); this.op(Op.i32_le_s); return;
        case 0xf: sx(this.fa); sx(this.fb); this.op(Op.i32_gt_s); return;
      }
    } else if (p && p.lf === LF_LOGIC) {
      switch (cc) { // CF = OF = 0
        case 0: case 1: this.i32(neg ? 1 : 0); return;
        case 2: case 3: this.i32(neg ? 1 : 0); return;
        case 4: case 5: case 6: case 7: this.get(this.fr).op(Op.i32_eqz); not(); return;
        case 8: case 9: case 0xc: case 0xd: sf(); not(); return;
        case 0xe: case 0xf: this.get(this.fr).op(Op.i32_eqz); sf(); this.op(Op.i32_or); not(); return;
      }
    } else if (p && p.lf === LF_ADD) {
      switch (cc) {
        case 2: case 3: this.get(this.fr).get(this.fa).op(Op.i32_lt_u); not(); return;
        case 4: case 5: this.get(this.fr).op(Op.i32_eqz); not(); return;
        case 8: case 9: sf(); not(); return;
      }
    }
    if (!p && !this.replays.length && cc >> 1 !== 5) { this.coreCond(cc); return; }
    this.flushFlags();
    this.i32(cc).call(F_COND);
  }

  // ---- the core's lazy flags, read inline ----
  // Where no ALU result of this block is pending and nothing is owed, the flags are the core's
  // (the block was entered from outside, or flushed them): a condition or INC/DEC's CF reads
  // them here as the core's getCF/getZF/getSF/getOF do (assembly/cpu/flags.ts) — a call into
  // the core there made V8 spill the region's register locals on every path (PF: rare, a call).
  /** Push the core's CF (0 or 1); `o` holds lfOp. */
  private coreCF(o: number): void {
    const isOp = (a: number, b: number) => { this.get(o).i32(a).op(Op.i32_eq).get(o).i32(b).op(Op.i32_eq).op(Op.i32_or); };
    const carried = (lf: number) => { this.get(o).i32(lf).op(Op.i32_eq).lf(LF_CIN_AT).i32(0).op(Op.i32_ne).op(Op.i32_and); };
    isOp(LF_ADD, LF_ADC); this.ifI32(); // result below the first operand (or equal, with a carry in)
    this.lf(LF_RES_AT).lf(LF_A_AT).op(Op.i32_le_u).lf(LF_RES_AT).lf(LF_A_AT).op(Op.i32_lt_u); carried(LF_ADC); this.op(Op.select);
    this.else(); isOp(LF_SUB, LF_SBB); this.ifI32(); // a borrow
    this.lf(LF_A_AT).lf(LF_B_AT).op(Op.i32_le_u).lf(LF_A_AT).lf(LF_B_AT).op(Op.i32_lt_u); carried(LF_SBB); this.op(Op.select);
    this.else(); // logic: 0; none, INC, DEC: the flags word's
    this.gget(G_FLAGS).i32(CF).op(Op.i32_and).get(o).i32(LF_LOGIC).op(Op.i32_ne).op(Op.i32_and);
    this.end().end();
  }
  /** Push the core's ZF, SF (0 or 1). */
  private coreZF(o: number): void {
    this.get(o).op(Op.i32_eqz).ifI32().gget(G_FLAGS).i32(6).op(Op.i32_shr_u).i32(1).op(Op.i32_and);
    this.else().lf(LF_RES_AT).op(Op.i32_eqz).end();
  }
  private coreSF(o: number): void {
    this.get(o).op(Op.i32_eqz).ifI32().gget(G_FLAGS).i32(7).op(Op.i32_shr_u).i32(1).op(Op.i32_and);
    this.else().lf(LF_RES_AT).lf(LF_SIGN_AT).op(Op.i32_and).i32(0).op(Op.i32_ne).end();
  }
  /** Push the core's OF: sign of (a ^ r) & (b ^ r) after an addition, (a ^ b) & (a ^ r) after a
   *  subtraction; 0 after a logic op. */
  private coreOF(o: number): void {
    this.get(o).op(Op.i32_eqz).ifI32().gget(G_FLAGS).i32(11).op(Op.i32_shr_u).i32(1).op(Op.i32_and);
    this.else();
    this.lf(LF_A_AT).lf(LF_RES_AT).op(Op.i32_xor);
    this.lf(LF_B_AT).lf(LF_RES_AT).op(Op.i32_xor).lf(LF_A_AT).lf(LF_B_AT).op(Op.i32_xor);
    this.get(o).i32(LF_ADD).op(Op.i32_eq).get(o).i32(LF_ADC).op(Op.i32_eq).op(Op.i32_or).get(o).i32(LF_INC).op(Op.i32_eq).op(Op.i32_or);
    this.op(Op.select).op(Op.i32_and).lf(LF_SIGN_AT).op(Op.i32_and).i32(0).op(Op.i32_ne);
    this.get(o).i32(LF_LOGIC).op(Op.i32_ne).op(Op.i32_and);
    this.end();
  }
  /** Push 1 if condition cc (not PF's) holds on the core's lazy flags. */
  private coreCond(cc: number): void {
    const o = this.local();
    this.lf(LF_OP_AT).set(o);
    switch (cc >> 1) {
      case 0: this.coreOF(o); break;
      case 1: this.coreCF(o); break;
      case 2: this.coreZF(o); break;
      case 3: this.coreCF(o); this.coreZF(o); this.op(Op.i32_or); break;
      case 4: this.coreSF(o); break;
      case 6: this.coreSF(o); this.coreOF(o); this.op(Op.i32_xor); break;
      case 7: this.coreZF(o); this.coreSF(o); this.coreOF(o); this.op(Op.i32_xor).op(Op.i32_or); break;
    }
    if (cc & 1) this.op(Op.i32_eqz);
  }

  /** A local holding CF as the flags stand now (0 or 1), when the translator knows it; set
   *  here from the flag locals, or the one an owed INC/DEC (which keeps CF) already has. */
  private cfBefore(): number | undefined {
    const last = this.replays[this.replays.length - 1];
    if (last) return last.incdec?.cf;
    const p = this.pending;
    if (!p) {
      const o = this.local(), cf = this.local();
      this.lf(LF_OP_AT).set(o);
      this.coreCF(o);
      this.set(cf);
      return cf;
    }
    if (p.lf === LF_ADD) this.get(this.fr).get(this.fa).op(Op.i32_lt_u);
    else if (p.lf === LF_SUB) this.get(this.fa).get(this.fb).op(Op.i32_lt_u);
    else if (p.lf === LF_LOGIC) this.i32(0);
    else return undefined;
    const cf = this.local();
    this.set(cf);
    return cf;
  }
  /** Push condition cc after INC/DEC v → r, if it reads only ZF SF OF (true); else false. */
  private incDecCond(cc: number, x: { v: number; r: number; sz: number; dec: boolean }): boolean {
    const sg = sign(x.sz);
    const zf = () => this.get(x.r).op(Op.i32_eqz);
    const sf = () => this.get(x.r).i32(sg).op(Op.i32_and).i32(0).op(Op.i32_ne);
    // INC overflows to the sign bit alone; DEC from it.
    const of = () => this.get(x.dec ? x.v : x.r).i32(sg).op(Op.i32_eq);
    switch (cc >> 1) {
      case 0: of(); break;
      case 2: zf(); break;
      case 4: sf(); break;
      case 6: sf(); of(); this.op(Op.i32_ne); break;
      case 7: zf(); sf(); of(); this.op(Op.i32_ne).op(Op.i32_or); break;
      default: return false;
    }
    if (cc & 1) this.op(Op.i32_eqz);
    return true;
  }

  // ---- instructions ----
  /** Translate one instruction; "end" when the block ends with it (exit emitted). */
  insn(i: Insn, next: number): "cont" | "end" {
    if (!i.a16 && !i.lock && this.inline(i, next)) {
      this.inlined++;
      if (this.term) { this.count++; return "end"; } // its exits already counted it
      this.count += this.retires;
      if (this.slow) { this.get(this.xl).if(); this.exit(next, this.count); this.end(); this.slow = false; }
      return "cont";
    }
    this.slow = false;
    this.term = false;
    // The interpreter runs it: it reads and writes the core's lazy flags itself.
    this.flushFlags();
    this.eipc(i.eip).gset(G_EIP);
    this.owed(this.count); this.addInstret();
    this.get(this.done).i32(this.count).op(Op.i32_add).set(this.cred);
    this.storeRegs();
    this.call(F_STEP);
    this.loadRegs();
    this.gget(G_FAULT).if();
    this.exit(null, this.count); // the interpreter has put EIP back on the instruction
    this.end();
    this.pending = null;
    if (!continues(i)) { this.exit(null, this.count + 1); this.count++; return "end"; }
    this.gget(G_EIP).eipc(next).op(Op.i32_ne).gget(G_EXIT).op(Op.i32_or).if();
    this.exit(null, this.count + 1);
    this.end();
    this.count++;
    return "cont";
  }
  private term = false;
  /** Instructions the current one stands for (a call of a PC thunk: the CALL, MOV and RET). */
  private retires = 1;
  /** The calls of the current block that go to a PC thunk, by instruction index. */
  private readonly thunks = new Map<number, Thunk>();

  /** Is `i` (instruction k of the block) a CALL of a PC thunk — `mov reg, [esp]; ret`, which
   *  position-independent i386 code calls at every function entry to learn its own address?
   *  Then it is generated as the three instructions it runs (reg = return address, the return
   *  address written below ESP), and the block goes on after it: without this, every such call
   *  left the region twice (a third of the region exits of gzip and md5sum). */
  private findThunk(i: Insn, k: number): boolean {
    if (i.op !== 0xe8 || i.o16 || i.a16 || i.lock) return false;
    const target = (i.eip + i.len + i.imm) >>> 0;
    const off = this.plan.entryOff + ((target - this.base) | 0);
    let t: Thunk | null = null;
    if (off >= 0 && off <= 4096 - 4) t = thunkIn(this.page.subarray(off, off + 4), null);
    else if (off < 0 || off >= 4096) {
      const p = this.peek(target);
      if (p) t = thunkIn(p.bytes, p);
    }
    if (!t) return false;
    this.thunks.set(k, t);
    return true;
  }
  /** CALL of a PC thunk (findThunk), inline. A thunk in another page is checked at run time:
   *  still mapped at the physical page it was read from, and that page not written since; if
   *  not, this is an ordinary call. */
  private thunkCall(i: Insn, next: number, t: Thunk): void {
    const target = (next + i.imm) >>> 0;
    const v = this.local();
    this.eipc(next).set(v);
    if (t.at) {
      const e = this.local();
      this.usesNeed[0] = true;
      this.eipc(target).i32(12).op(Op.i32_shr_u).i32(2).op(Op.i32_shl).mem(Op.i32_load, 2, this.L.TLB_BASE).tee(e);
      this.i32(this.needs.read).op(Op.i32_and).i32(this.needs.read).op(Op.i32_eq);
      this.get(e).i32(0xfffff000 | 0).op(Op.i32_and).i32(t.at.phys).op(Op.i32_eq).op(Op.i32_and);
      this.i32(0).mem(Op.i32_load, 2, this.L.PAGE_GEN_BASE + (t.at.phys >>> 12) * 4).i32(t.at.gen).op(Op.i32_eq).op(Op.i32_and);
      this.if();
    }
    this.push(i, v); // a fault leaves EIP on the CALL
    // The return address went through the core (not plain RAM, or a code page): go on at the
    // thunk if the core asked to leave.
    if (this.slow) { this.get(this.xl).if(); this.exit(target, this.count + 1); this.end(); this.slow = false; }
    this.setReg(4, t.reg, () => this.get(v));
    this.setReg(4, ESP, () => this.getReg(4, ESP).i32(4).op(Op.i32_add));
    if (t.at) {
      this.else();
      this.push(i, v);
      this.exit(target, this.count + 1);
      this.end();
      this.slow = false;
    }
    this.retires = 3;
  }
  /** Flags a later instruction of the current block reads, after each of its instructions;
   *  the current instruction's index. */
  private readLater: number[] = [];
  private cur = 0;
  /** No later instruction of the block reads what the current instruction does to the flags:
   *  generate the value only, and owe the flags (replays) to whatever leaves or steps. */
  private flagsDeferred(i: Insn, kills = flagEffect(i).kill): boolean {
    return (flagEffect(i).write & this.readLater[this.cur]!) === 0 && this.superseding(kills).length < MAX_REPLAYS;
  }
  /** The replays owed that still count after one that surely sets `kills`: those writing
   *  nothing else are dropped (four IMULs in a row owe the last one's CF and OF only — the
   *  multiply step of the kernel's RSA check of module signatures, 7 % of a distro boot
   *  when each of them called the core). */
  private superseding(kills: number): Replay[] {
    return this.replays.filter((r) => (r.writes & ~kills) !== 0);
  }
  private owe(r: Replay): void {
    this.replays = this.superseding(r.kills);
    this.replays.push(r);
  }
  /** Flag updates owed, in order, on top of `pending` (or of the core's flags if it is null or
   *  stored): each emits a call of the core helper that applies the instruction's flags. */
  private replays: Replay[] = [];

  /** Generate i inline if it is one of the common cases; false leaves it to the interpreter. */
  private inline(i: Insn, next: number): boolean {
    this.term = false;
    this.retires = 1;
    this.slow = false;
    const op = i.op;
    const osz = i.o16 ? 2 : 4;
    const reg = i.mod === 3;
    // A memory operand is decoded for 32-bit addressing only (insn() leaves 67h to the
    // interpreter), so below, mod != 3 means i.mem is set.
    if (i.hasModrm && !reg && !i.mem) return false;
    // ---- ALU: ADD OR ADC SBB AND SUB XOR CMP ----
    if (op < 0x40 && (op & 7) < 6) {
      const alu = op >> 3;
      if (alu === 2 || alu === 3) this.carryIn();
      const sz = (op & 1) === 0 ? 1 : osz;
      switch (op & 7) {
        case 0: case 1: { this.aluRm(i, alu, sz, () => this.getReg(sz, i.reg)); return true; }
        case 2: case 3: {
          const b = this.local();
          if (reg) this.getReg(sz, i.rm).set(b);
          else { const lin = this.memLocal(i.mem!); this.readMem(i, sz, i.mem!.seg, lin); this.set(b); }
          this.aluReg(alu, sz, i.reg, () => this.get(b));
          return true;
        }
        case 4: case 5: this.aluReg(alu, sz, 0, () => this.i32(i.imm & mask(sz))); return true;
      }
    }
    if (op === 0x80 || op === 0x81 || op === 0x83) {
      if (i.reg === 2 || i.reg === 3) this.carryIn();
      const sz = op === 0x80 ? 1 : osz;
      const imm = op === 0x83 ? ((i.imm << 24) >> 24) & mask(sz) : i.imm & mask(sz);
      this.aluRm(i, i.reg, sz, () => this.i32(imm));
      return true;
    }
    // ---- TEST ----
    if (op === 0x84 || op === 0x85 || ((op === 0xf6 || op === 0xf7) && i.reg === 0)) {
      const sz = op === 0x84 || op === 0xf6 ? 1 : osz;
      const b = this.local();
      if (op === 0x84 || op === 0x85) this.getReg(sz, i.reg).set(b); else this.i32(i.imm & mask(sz)).set(b);
      this.rmValue(i, sz, this.fa);
      this.get(b).set(this.fb);
      this.get(this.fa).get(this.fb).op(Op.i32_and).set(this.fr);
      this.aluFlags(LF_LOGIC, sz);
      return true;
    }
    if (op === 0xa8 || op === 0xa9) {
      const sz = op === 0xa8 ? 1 : osz;
      this.getReg(sz, 0).set(this.fa).i32(i.imm & mask(sz)).set(this.fb);
      this.get(this.fa).get(this.fb).op(Op.i32_and).set(this.fr);
      this.aluFlags(LF_LOGIC, sz);
      return true;
    }
    // ---- MOV ----
    if (op === 0x88 || op === 0x89) {
      const sz = op === 0x88 ? 1 : osz;
      const v = this.local();
      this.getReg(sz, i.reg).set(v);
      this.rmStore(i, sz, v);
      return true;
    }
    if (op === 0x8a || op === 0x8b) {
      const sz = op === 0x8a ? 1 : osz;
      const v = this.local();
      this.rmValue(i, sz, v);
      this.setReg(sz, i.reg, () => this.get(v));
      return true;
    }
    if ((op === 0xc6 || op === 0xc7) && i.reg === 0) {
      const sz = op === 0xc6 ? 1 : osz;
      const v = this.local();
      this.i32(i.imm & mask(sz)).set(v);
      this.rmStore(i, sz, v);
      return true;
    }
    if (op >= 0xb0 && op <= 0xbf) {
      const sz = op < 0xb8 ? 1 : osz;
      this.setReg(sz, op & 7, () => this.i32(i.imm & mask(sz)));
      return true;
    }
    if (op >= 0xa0 && op <= 0xa3) {
      const sz = (op & 1) === 0 ? 1 : osz;
      const seg = i.segOvr >= 0 ? i.segOvr : SEG_DS;
      const lin = this.local();
      this.i32(i.imm).set(lin);
      const v = this.local();
      if (op < 0xa2) {
        this.readMem(i, sz, seg, lin); this.set(v);
        this.setReg(sz, 0, () => this.get(v));
      } else {
        this.getReg(sz, 0).set(v);
        this.writeMem(i, sz, seg, lin, v);
      }
      return true;
    }
    if (op === 0x8d) {
      if (!i.mem) return false; // LEA r, r: #UD, the interpreter raises it
      this.setReg(osz, i.reg, () => this.ea(i.mem!));
      return true;
    }
    if (op === 0x90 && i.rep === 0) return true;
    // ---- MOVZX / MOVSX ----
    if (op === 0x1b6 || op === 0x1b7 || op === 0x1be || op === 0x1bf) {
      const ssz = (op & 1) === 0 ? 1 : 2;
      const v = this.local();
      this.rmValue(i, ssz, v);
      this.setReg(osz, i.reg, () => {
        this.get(v);
        if (op >= 0x1be) this.op(ssz === 1 ? Op.i32_extend8_s : Op.i32_extend16_s);
      });
      return true;
    }
    // ---- INC / DEC ----
    if ((op >= 0x40 && op <= 0x4f) || ((op === 0xfe || op === 0xff) && i.reg < 2)) {
      // A plain add; the flags owed (CF is the one before, which the core has), ZF SF OF for
      // a Jcc from the locals (incDecCond). With as many owed as allowed, those are paid first.
      const incDecFlags = ARITH & ~CF;
      if (this.superseding(incDecFlags).length >= MAX_REPLAYS) this.flushFlags();
      const sz = op < 0x50 ? osz : op === 0xfe ? 1 : osz;
      const down = op < 0x50 ? op >= 0x48 : i.reg === 1;
      const v = this.local(), res = this.local();
      const add = () => {
        this.get(v).i32(down ? -1 : 1).op(Op.i32_add);
        if (sz !== 4) this.i32(mask(sz)).op(Op.i32_and);
        this.set(res);
      };
      if (op < 0x50 || reg) {
        const r = op < 0x50 ? op & 7 : i.rm;
        this.getReg(sz, r).set(v);
        add();
        this.setReg(sz, r, () => this.get(res));
      } else {
        const lin = this.memLocal(i.mem!), ph = this.local();
        this.rmwRead(i, sz, i.mem!.seg, lin, ph); this.set(v);
        add();
        this.rmwWrite(sz, ph, res);
      }
      // The owed flags are paid inline when CF before the instruction is known here (an ADD,
      // SUB or logic result in the flag locals, or an INC/DEC owed before, which kept it):
      // CF into the core's flags word, the rest as its lazy INC/DEC (what the core's inc()
      // and dec() do). A call of those on the path of a loop's `dec ecx; jnz` made V8 spill
      // every register local of the loop.
      const cf = this.cfBefore();
      const emit = cf === undefined
        ? () => { this.i32(sz).get(v).call(down ? F_DEC : F_INC).op(Op.drop); }
        : () => {
          this.gget(G_FLAGS).i32(~CF).op(Op.i32_and).get(cf).op(Op.i32_or).gset(G_FLAGS);
          this.lfKind(down ? LF_DEC : LF_INC, sz);
          this.lfPut(LF_A_AT, v).i32(0).i32(1).mem(Op.i32_store, 2, LF_B_AT).lfPut(LF_RES_AT, res);
        };
      this.owe({ emit, writes: incDecFlags, kills: incDecFlags, incdec: { v, r: res, sz, dec: down, cf } });
      return true;
    }
    // ---- shifts and rotates by imm8, 1 or CL (not RCL/RCR, same helper though) ----
    if (op === 0xc0 || op === 0xc1 || (op >= 0xd0 && op <= 0xd3)) {
      const sz = (op & 1) === 0 ? 1 : osz;
      if (op <= 0xc1 && (i.imm & 31) === 0) return false; // a no-op shift: rare, interpret
      if (reg && i.reg !== 2 && i.reg !== 3 && this.flagsDeferred(i)) { this.shiftDeferred(i, sz); return true; }
      const cnt = this.local();
      if (op <= 0xc1) this.i32(i.imm).set(cnt); else if (op <= 0xd1) this.i32(1).set(cnt); else this.getReg(1, ECX).set(cnt);
      const v = this.local();
      let ph = -1;
      if (reg) this.getReg(sz, i.rm).set(v);
      else {
        const lin = this.memLocal(i.mem!);
        ph = this.local();
        this.rmwRead(i, sz, i.mem!.seg, lin, ph); this.set(v);
      }
      this.flushFlags(); // before the branch: both paths must leave the flags stored
      this.get(cnt).i32(31).op(Op.i32_and).if();
      this.i32(i.reg).i32(sz).get(v).get(cnt).call(F_SHIFT).set(v);
      if (reg) this.setReg(sz, i.rm, () => this.get(v)); else this.rmwWrite(sz, ph, v);
      this.end();
      this.pending = null;
      return true;
    }
    // ---- XCHG, CBW/CWDE, CWD/CDQ, BSWAP ----
    if (op >= 0x91 && op <= 0x97) {
      const t = this.local();
      this.getReg(osz, 0).set(t);
      this.setReg(osz, 0, () => this.getReg(osz, op & 7));
      this.setReg(osz, op & 7, () => this.get(t));
      return true;
    }
    if (op === 0x86 || op === 0x87) {
      const sz = op === 0x86 ? 1 : osz;
      const r = this.local(), old = this.local();
      this.getReg(sz, i.reg).set(r);
      if (reg) {
        this.getReg(sz, i.rm).set(old);
        this.setReg(sz, i.rm, () => this.get(r));
      } else {
        const lin = this.memLocal(i.mem!), ph = this.local();
        this.rmwRead(i, sz, i.mem!.seg, lin, ph); this.set(old);
        this.rmwWrite(sz, ph, r);
      }
      this.setReg(sz, i.reg, () => this.get(old));
      return true;
    }
    if (op === 0x98) { // CWDE: EAX = sign-extended AX; CBW: AX = sign-extended AL
      this.setReg(osz, 0, () => this.getReg(osz === 4 ? 2 : 1, 0).op(osz === 4 ? Op.i32_extend16_s : Op.i32_extend8_s));
      return true;
    }
    if (op === 0x99) { // CDQ: EDX = EAX's sign; CWD: DX = AX's sign
      this.setReg(osz, 2, () => {
        this.getReg(osz, 0);
        if (osz === 2) this.op(Op.i32_extend16_s);
        this.i32(31).op(Op.i32_shr_s);
      });
      return true;
    }
    if (op >= 0x1c8 && op <= 0x1cf && !i.o16) { // BSWAP (with a 16-bit operand: undefined)
      const v = this.local(), r = op & 7;
      this.getReg(4, r).set(v);
      this.setReg(4, r, () => {
        this.get(v).i32(24).op(Op.i32_shr_u);
        this.get(v).i32(8).op(Op.i32_shr_u).i32(0xff00).op(Op.i32_and).op(Op.i32_or);
        this.get(v).i32(8).op(Op.i32_shl).i32(0xff0000).op(Op.i32_and).op(Op.i32_or);
        this.get(v).i32(24).op(Op.i32_shl).op(Op.i32_or);
      });
      return true;
    }
    // ---- IMUL r, r/m (and an immediate) ----
    if (op === 0x1af || op === 0x69 || op === 0x6b) {
      const a = this.local(), b = this.local();
      if (op === 0x1af) { this.rmValue(i, osz, b); this.getReg(osz, i.reg).set(a); }
      else { this.rmValue(i, osz, a); this.i32((op === 0x6b ? (i.imm << 24) >> 24 : i.imm) & mask(osz)).set(b); }
      this.setReg(osz, i.reg, () => this.get(a).get(b).op(Op.i32_mul));
      // CF = OF = the signed product does not fit; SF ZF AF PF stay as the instruction before
      // left them (the core's helper, where they are read): owed after that one's flags.
      const flags = () => { this.i32(osz).get(a).get(b).call(F_IMUL_FLAGS); };
      // The core's helper sets CF and OF only (SF ZF AF PF stay: undefined after IMUL).
      if (this.flagsDeferred(i, CF | OF)) this.owe({ emit: flags, writes: CF | OF, kills: CF | OF });
      else { this.flushFlags(); flags(); this.pending = null; }
      return true;
    }
    // ---- NOT / NEG ----
    if ((op === 0xf6 || op === 0xf7) && (i.reg === 2 || i.reg === 3)) {
      const sz = op === 0xf6 ? 1 : osz;
      if (i.reg === 3) { this.aluRm(i, 5, sz, () => this.i32(0), true); return true; }
      if (reg) { this.setReg(sz, i.rm, () => { this.getReg(sz, i.rm).i32(mask(sz)).op(Op.i32_xor); }); return true; }
      const lin = this.memLocal(i.mem!), ph = this.local(), v = this.local();
      this.rmwRead(i, sz, i.mem!.seg, lin, ph); this.i32(mask(sz)).op(Op.i32_xor).set(v);
      this.rmwWrite(sz, ph, v);
      return true;
    }
    // ---- SETcc / CMOVcc ----
    if (op >= 0x190 && op <= 0x19f) {
      const v = this.local();
      this.cond(op & 15);
      this.set(v);
      this.rmStore(i, 1, v);
      return true;
    }
    if (op >= 0x140 && op <= 0x14f) {
      const v = this.local();
      this.rmValue(i, osz, v);
      this.cond(op & 15);
      this.if();
      this.setReg(osz, i.reg, () => this.get(v));
      this.end();
      return true;
    }
    // ---- stack ----
    if (!i.o16 && op >= 0x50 && op <= 0x57) {
      const v = this.local();
      this.getReg(4, op & 7).set(v);
      this.push(i, v);
      return true;
    }
    if (!i.o16 && op === 0xff && i.reg === 6) {
      const v = this.local();
      this.rmValue(i, 4, v);
      this.push(i, v);
      return true;
    }
    if (!i.o16 && (op === 0x68 || op === 0x6a)) {
      const v = this.local();
      this.i32(op === 0x6a ? (i.imm << 24) >> 24 : i.imm).set(v);
      this.push(i, v);
      return true;
    }
    if (!i.o16 && op >= 0x58 && op <= 0x5f) {
      const v = this.pop(i, 0);
      this.setReg(4, op & 7, () => this.get(v));
      return true;
    }
    // ---- control transfers: each ends the block ----
    if (i.o16) return false;
    if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) {
      const rel = op < 0x100 ? (i.imm << 24) >> 24 : i.imm;
      this.flushFlags();
      this.cond(op & 15);
      this.if();
      this.jump((next + rel) >>> 0, this.count + 1);
      this.end();
      this.jump(next, this.count + 1);
      return this.ends();
    }
    if (op === 0xeb || op === 0xe9) {
      const rel = op === 0xeb ? (i.imm << 24) >> 24 : i.imm;
      this.jump((next + rel) >>> 0, this.count + 1);
      return this.ends();
    }
    if (op === 0xe8 && this.thunks.has(this.cur)) { this.thunkCall(i, next, this.thunks.get(this.cur)!); return true; }
    if (op === 0xe8) {
      const v = this.local();
      this.eipc(next).set(v);
      this.push(i, v);
      this.jump((next + i.imm) >>> 0, this.count + 1);
      return this.ends();
    }
    if (op === 0xc3 || op === 0xc2) {
      const v = this.pop(i, op === 0xc2 ? i.imm : 0);
      this.exit({ local: v }, this.count + 1);
      return this.ends();
    }
    if (op === 0xff && (i.reg === 2 || i.reg === 4)) {
      const target = this.local();
      this.rmValue(i, 4, target);
      if (i.reg === 2) {
        const v = this.local();
        this.eipc(next).set(v);
        this.push(i, v);
      }
      this.exit({ local: target }, this.count + 1);
      return this.ends();
    }
    return false;
  }
  private ends(): boolean { this.term = true; return true; }

  /** Local v ← the r/m operand (register or memory). */
  private rmValue(i: Insn, sz: number, v: number): void {
    if (i.mod === 3) { this.getReg(sz, i.rm).set(v); return; }
    const m = i.mem!;
    this.readMem(i, sz, m.seg, this.memLocal(m));
    this.set(v);
  }
  /** r/m operand ← local v. */
  private rmStore(i: Insn, sz: number, v: number): void {
    if (i.mod === 3) { this.setReg(sz, i.rm, () => this.get(v)); return; }
    const m = i.mem!;
    this.writeMem(i, sz, m.seg, this.memLocal(m), v);
  }
  /** Push a op b, masked to sz, for group-1 op `alu` (ADD OR ADC SBB AND SUB XOR CMP; ADC and
   *  SBB add or subtract the carry carryIn() left in `cin`). */
  private aluOp(alu: number, sz: number, a: number, b: number): void {
    this.get(a).get(b);
    this.op(alu === 0 || alu === 2 ? Op.i32_add : alu === 1 ? Op.i32_or : alu === 4 ? Op.i32_and : alu === 6 ? Op.i32_xor : Op.i32_sub);
    if (alu === 2 || alu === 3) this.get(this.cin).op(alu === 2 ? Op.i32_add : Op.i32_sub);
    if (sz !== 4) this.i32(mask(sz)).op(Op.i32_and);
  }
  private static lf(alu: number): number {
    return alu === 0 ? LF_ADD : alu === 2 ? LF_ADC : alu === 3 ? LF_SBB : alu === 5 || alu === 7 ? LF_SUB : LF_LOGIC;
  }
  /** The carry ADC/SBB read, into a new local `cin` (before the instruction touches the flag
   *  locals): from the flag locals when the last flag-setting instruction of the block is known
   *  here, else from the core. */
  private carryIn(): void {
    this.cin = this.local();
    const p = this.replays.length ? null : this.pending;
    if (p && !p.stored) {
      switch (p.lf) {
        case LF_ADD: this.get(this.fr).get(this.fa).op(Op.i32_lt_u).set(this.cin); return;
        case LF_SUB: this.get(this.fa).get(this.fb).op(Op.i32_lt_u).set(this.cin); return;
        case LF_LOGIC: this.i32(0).set(this.cin); return;
        case LF_ADC: this.get(p.cin!).if().get(this.fr).get(this.fa).op(Op.i32_le_u).set(this.cin).else()
          .get(this.fr).get(this.fa).op(Op.i32_lt_u).set(this.cin).end(); return;
        case LF_SBB: this.get(p.cin!).if().get(this.fa).get(this.fb).op(Op.i32_le_u).set(this.cin).else()
          .get(this.fa).get(this.fb).op(Op.i32_lt_u).set(this.cin).end(); return;
      }
    }
    this.flushFlags();
    this.i32(2).call(F_COND).set(this.cin); // condition B: CF
  }
  private cin = 0;
  /** fr ← fa op fb; the caller writes fr back. */
  private aluCompute(alu: number, sz: number): void {
    this.aluOp(alu, sz, this.fa, this.fb);
    this.set(this.fr);
    this.aluFlags(Translator.lf(alu), sz, alu === 2 || alu === 3 ? this.cin : undefined);
  }
  /** r/m ← r/m op b (CMP: only compares); with `neg`, r/m ← b - r/m (NEG, b = 0). */
  private aluRm(i: Insn, alu: number, sz: number, b: () => void, neg = false): void {
    const vb = this.local();
    b(); this.set(vb);
    if (i.mod === 3) {
      this.getReg(sz, i.rm).set(neg ? this.fb : this.fa);
      this.get(vb).set(neg ? this.fa : this.fb);
      this.aluCompute(alu, sz);
      if (alu !== 7) this.setReg(sz, i.rm, () => this.get(this.fr));
      return;
    }
    const m = i.mem!;
    const lin = this.memLocal(m);
    const va = this.local();
    if (alu === 7) {
      this.readMem(i, sz, m.seg, lin); this.set(va);
      this.get(va).set(this.fa).get(vb).set(this.fb);
      this.aluCompute(alu, sz);
      return;
    }
    // Compute into temporaries: until the write is done, a fault exit must see the old flags.
    const ph = this.local(), tb = this.local(), tr = this.local();
    this.rmwRead(i, sz, m.seg, lin, ph); this.set(va);
    this.get(vb).set(tb);
    if (neg) this.aluOp(alu, sz, tb, va); else this.aluOp(alu, sz, va, tb);
    this.set(tr);
    this.rmwWrite(sz, ph, tr);
    if (neg) this.get(tb).set(this.fa).get(va).set(this.fb).get(tr).set(this.fr);
    else this.get(va).set(this.fa).get(tb).set(this.fb).get(tr).set(this.fr);
    this.aluFlags(Translator.lf(alu), sz, alu === 2 || alu === 3 ? this.cin : undefined);
  }
  /** reg ← reg op b (CMP: only compares). */
  private aluReg(alu: number, sz: number, r: number, b: () => void): void {
    this.getReg(sz, r).set(this.fa);
    b(); this.set(this.fb);
    this.aluCompute(alu, sz);
    if (alu !== 7) this.setReg(sz, r, () => this.get(this.fr));
  }
  /** A shift or rotate of a register whose flags no later instruction reads: the value, and
   *  the flags owed (the core's shift of the same operands sets them). */
  private shiftDeferred(i: Insn, sz: number): void {
    const op = i.op, bits = sz * 8;
    const count = () => {
      if (op <= 0xc1) this.i32(i.imm & 31); else if (op <= 0xd1) this.i32(1); else this.getReg(1, ECX).i32(31).op(Op.i32_and);
    };
    const v = this.local(), c = this.local();
    count(); this.set(c);
    this.getReg(sz, i.rm).set(v); // zero-extended to 32 bits
    this.owe({ emit: () => {
      // A masked count of 0 changes no flag (and the core's shift is not called for it).
      this.get(c).if().i32(i.reg).i32(sz).get(v).get(c).call(F_SHIFT).op(Op.drop).end();
    }, writes: i.reg < 2 ? CF | OF : ARITH, kills: flagEffect(i).kill }); // ROL ROR: CF OF
    this.setReg(sz, i.rm, () => {
      switch (i.reg) {
        case 0: case 1: { // ROL, ROR
          if (sz === 4) { this.get(v).get(c).op(i.reg === 0 ? Op.i32_rotl : Op.i32_rotr); break; }
          const n = this.local();
          this.get(c).i32(bits - 1).op(Op.i32_and).set(n);
          const left = i.reg === 0 ? Op.i32_shl : Op.i32_shr_u, right = i.reg === 0 ? Op.i32_shr_u : Op.i32_shl;
          this.get(v).get(n).op(left).get(v).i32(bits).get(n).op(Op.i32_sub).op(right).op(Op.i32_or);
          this.i32(mask(sz)).op(Op.i32_and);
          break;
        }
        case 4: case 6: this.get(v).get(c).op(Op.i32_shl); if (sz !== 4) this.i32(mask(sz)).op(Op.i32_and); break;
        case 5: this.get(v).get(c).op(Op.i32_shr_u); break;
        default: // SAR
          this.get(v);
          if (sz !== 4) this.op(sz === 1 ? Op.i32_extend8_s : Op.i32_extend16_s);
          this.get(c).op(Op.i32_shr_s);
          if (sz !== 4) this.i32(mask(sz)).op(Op.i32_and);
      }
    });
  }
  /** PUSH local v (32-bit, flat SS with SS.B = 1, checked at block entry). */
  private push(i: Insn, v: number): void {
    this.stack = true;
    const sp = this.local();
    this.getReg(4, ESP).i32(4).op(Op.i32_sub).set(sp);
    this.writeMem(i, 4, SEG_SS, sp, v);
    this.setReg(4, ESP, () => this.get(sp));
  }
  /** POP into a new local (then ESP += 4 + extra); returns the local. */
  private pop(i: Insn, extra: number): number {
    this.stack = true;
    const sp = this.local(), v = this.local();
    this.getReg(4, ESP).set(sp);
    this.readMem(i, 4, SEG_SS, sp);
    this.set(v);
    this.setReg(4, ESP, () => this.get(sp).i32(4 + extra).op(Op.i32_add));
    return v;
  }

  /** The function body: entry checks, then the blocks' code (`codes`, block k's at k) in a
   *  loop around a br_table on `idx`: block k's code follows the end of the k-th nested
   *  wasm block (blocks in address order, the entry's idx set first). A branch to a later
   *  block j leaves the wasm blocks up to j's; one back sets idx = j and goes to the loop's top.
   *  After the loop, the code every exit shares (exit()): the flags an exit left in the flag
   *  locals, then EIP and the instruction count, then the registers stored. */
  /** br_table on idx over the m innermost blocks. */
  private dispatch(m: number): void {
    this.get(this.idx);
    this.b.byte(Op.br_table).u32(m);
    for (let k = 0; k < m; k++) this.b.u32(k);
    this.b.u32(m - 1);
  }
  finish(codes: Bytes[]): Bytes {
    const n = codes.length;
    this.b = new Bytes();
    // Not enough budget left for the whole entry block: let the interpreter go on.
    this.get(0).i32(this.plan.counts[this.plan.entry]! + 1).op(Op.i32_lt_u);
    // The segments used inline must still be flat, FS and GS 4 GiB (and the stack 32-bit).
    for (const s of this.segs) {
      const need = s === SEG_FS || s === SEG_GS ? CHK_WIDE : CHK_FLAT;
      this.i32(0).mem(Op.i32_load, 2, this.L.SEGCHK_BASE + s * 4).i32(need | CHK_NOREAD | CHK_NOWRITE).op(Op.i32_and)
        .i32(need).op(Op.i32_ne).op(Op.i32_or);
    }
    if (this.stack) this.gget(G_STACKB).op(Op.i32_eqz).op(Op.i32_or);
    // Made for this CPL's permission bits.
    if (this.usesNeed[0]) this.gget(G_READNEED).i32(this.needs.read).op(Op.i32_ne).op(Op.i32_or);
    if (this.usesNeed[1]) this.gget(G_WRITENEED).i32(this.needs.write).op(Op.i32_ne).op(Op.i32_or);
    this.if().i32(0).op(Op.return).end();
    this.gget(G_EIP).gset(G_EIP0);
    if (this.plan.entry !== 0 && this.plan.loopHead < 0) this.i32(this.plan.entry).set(this.idx);
    this.loadRegs();
    const h = this.plan.loopHead;
    if (h < 0) {
      // block (exit) block (exit with flags) loop (dispatch) block * n
      this.b.byte(Op.block).byte(VOID).byte(Op.block).byte(VOID).byte(Op.loop).byte(VOID);
      for (let k = 0; k < n; k++) this.b.byte(Op.block).byte(VOID);
      this.dispatch(n);
      for (const code of codes) this.b.byte(Op.end).bytes(code.view());
      this.b.byte(Op.end); // the loop
    } else {
      // block (exit) block (exit with flags); the blocks after the loop, outermost, then those
      // before it and the loop's (whose end is the loop's start): block * (n - 1 - L + h + 1);
      // a br to the entry's; the blocks before the loop; the loop, with the blocks inside it
      // nested in it (the head's code first); the blocks after it.
      const L = this.plan.loopEnd, e = this.plan.entry;
      this.b.byte(Op.block).byte(VOID).byte(Op.block).byte(VOID);
      for (let k = 0; k < n - 1 - L + h + 1; k++) this.b.byte(Op.block).byte(VOID);
      if (e > 0) this.b.byte(Op.br).u32(e <= h ? e : h + e - L);
      for (let k = 0; k < h; k++) this.b.byte(Op.end).bytes(codes[k]!.view());
      this.b.byte(Op.end).byte(Op.loop).byte(VOID);
      for (let k = h + 1; k <= L; k++) this.b.byte(Op.block).byte(VOID);
      this.b.bytes(codes[h]!.view());
      for (let k = h + 1; k <= L; k++) this.b.byte(Op.end).bytes(codes[k]!.view());
      this.b.byte(Op.end); // the loop
      for (let k = L + 1; k < n; k++) this.b.byte(Op.end).bytes(codes[k]!.view());
    }
    this.b.byte(Op.unreachable).byte(Op.end); // exits with flags go on here
    this.i32(0).get(this.xF).i32(7).op(Op.i32_and).mem(Op.i32_store, 2, LF_OP_AT);
    this.i32(0).get(this.xF).i32(~7).op(Op.i32_and).mem(Op.i32_store, 2, LF_SIGN_AT);
    this.lfPut(LF_A_AT, this.fa).lfPut(LF_B_AT, this.fb).lfPut(LF_RES_AT, this.fr);
    this.b.byte(Op.end); // every exit goes on here
    this.gget(G_EIP0).get(this.xEip).op(Op.i32_add).gset(G_EIP);
    this.get(this.done).get(this.xN).op(Op.i32_add).tee(this.ret).get(this.cred).op(Op.i32_sub).addInstret();
    this.storeRegs();
    this.get(this.ret).op(Op.return);
    return this.b;
  }
}
