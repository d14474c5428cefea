// The differential test against the host CPU: cases from native-gen.ts run natively by
// gen/runner64.c (64-bit mode, the host's own CPU) and in core.wasm (32-bit protected mode,
// through the interpreter and through the JIT) from the same registers, flags and memory
// window; registers, the flags the SDM defines, memory and the exception taken must agree.
// A native result becomes a vector row (the format of gen/generate.mjs), checked by the same
// VectorRunner as the recorded vectors, so a failing case is kept as a vector as it is.
import { spawnSync, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VectorRunner, type Row, type VectorFile, type VectorTest } from "./cpu-vectors.ts";
import { generate, WINDOW, type NativeCase } from "./native-gen.ts";
import { memDiff } from "./gen/mem-diff.mjs";

const SRC = new URL("./gen/runner64.c", import.meta.url).pathname;
/** Vectors that push an error code (SDM Vol. 3 Table 6-1). */
const ERROR_CODE = [8, 10, 11, 12, 13, 14, 17];
const FLAGS = 0xcd5; // CF PF AF ZF SF OF and DF

/** The host's CPU as the vector files name it. */
export function hostCpu(): string {
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const get = (k: string) => (info.match(new RegExp(`^${k}\\s*: (.*)$`, "m")) ?? [])[1] ?? "?";
    return `${get("vendor_id")} ${get("model name")} family ${get("cpu family")} model ${get("model")} stepping ${get("stepping")}`;
  } catch {
    return "unknown";
  }
}

/** Builds runner64 (cached by source hash); returns its path, or why it cannot run here. */
export function nativeRunner(): { path: string } | { skip: string } {
  if (process.arch !== "x64" || process.platform !== "linux") return { skip: `needs an x86-64 Linux host (this is ${process.platform}/${process.arch})` };
  const src = readFileSync(SRC);
  const dir = join(tmpdir(), "vireo-runner64");
  const path = join(dir, createHash("sha256").update(src).digest("hex").slice(0, 16));
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    try {
      execFileSync("gcc", ["-O2", "-o", path + ".tmp", SRC], { stdio: "pipe" });
      execFileSync("mv", [path + ".tmp", path]);
    } catch (e) {
      return { skip: `gcc could not build gen/runner64.c: ${(e as Error).message.split("\n")[0]}` };
    }
  }
  const r = spawnSync(path, [], { input: "9090 2 0 0 0 0 208000 0 0 0 -\n", encoding: "utf8" });
  if (r.status !== 0 || !r.stdout.startsWith("2")) return { skip: `runner64 does not run on this host: ${r.stderr || r.error?.message}` };
  return { path };
}

const hex = (b: number[]) => b.map((x) => (x & 0xff).toString(16).padStart(2, "0")).join("");
const h = (v: number) => (v >>> 0).toString(16);

/** Runs a batch natively; one output line per case. */
export function runNative(runner: string, cases: NativeCase[]): string[] {
  const input = cases.map((c) => [hex(c.native), h(c.flags), ...c.regs.map(h), hex(c.mem)].join(" ")).join("\n") + "\n";
  const r = spawnSync(runner, [], { input, maxBuffer: 1 << 30, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`runner64 failed (${r.status}): ${r.stderr}`);
  const out = r.stdout.trimEnd().split("\n");
  if (out.length !== cases.length) throw new Error(`runner64 answered ${out.length} of ${cases.length} cases`);
  return out;
}

/** A native result as a vector row over base registers all 0, or a reason it is unusable. */
export function toRow(c: NativeCase, line: string): Row | string {
  const f = line.split(" ");
  const flags = parseInt(f[0]!, 16) & FLAGS;
  const regs = f.slice(1, 9).map((x) => parseInt(x, 16) >>> 0);
  const trap = parseInt(f[9]!, 10), at = parseInt(f[10]!, 10), err = parseInt(f[11]!, 10), memAfter = f[12]!;
  const inp = [c.flags];
  for (let r = 0; r < 8; r++) inp.push(r, c.regs[r]!);
  const out = [flags];
  for (let r = 0; r < 8; r++) if (regs[r] !== c.regs[r]) out.push(r, regs[r]!);
  const mi = hex(c.mem);
  const extra: NonNullable<Row[3]> = { m: trap >= 0 ? c.maskAny : c.maskEnd, mi };
  if (trap >= 0) {
    const i = c.nOff.indexOf(at);
    if (i < 0 || ![0, 6].includes(trap)) return `exception ${trap} at native offset ${at} (not #DE/#UD at an instruction start): a generator bug`;
    extra.x = trap;
    if (c.gOff[i]) extra.xe = c.gOff[i];
    if (ERROR_CODE.includes(trap)) extra.xc = err;
  }
  if (memAfter !== mi) extra.mo = memDiff(mi, memAfter);
  return [hex(c.guest), inp, out, extra];
}

export interface Difference { seed: number; row: Row; where: string; diffs: string[]; listing: string[] }

/** The interpreter and JIT runners and the file/test shells their messages name. */
export class Differ {
  readonly interp: VectorRunner;
  readonly jit: VectorRunner;
  readonly file: VectorFile;
  readonly test: VectorTest = { name: "native differential", mask: FLAGS, cases: [] };
  constructor(wasm: WebAssembly.Module, host = hostCpu()) {
    this.interp = new VectorRunner(wasm, false, true);
    this.jit = new VectorRunner(wasm, true, true);
    this.file = { group: "native", about: "", host, base: [0, 0, 0, 0, 0, 0, 0, 0], tests: [] };
  }
  private jitCases = 0;
  /** Checks one case (interpreter always, the JIT if `withJit`); returns its differences. */
  check(seed: number, c: NativeCase, line: string, withJit: boolean): Difference[] {
    // Every translated case compiles WebAssembly modules the core keeps until it goes: a fresh
    // core now and then, or a long run exhausts V8's wasm code space (seen after ~47,000).
    if (withJit && ++this.jitCases % 2000 === 0) this.jit.reset();
    const row = toRow(c, line);
    if (typeof row === "string") return [{ seed, row: [hex(c.guest), [], []], where: "native run", diffs: [row], listing: c.listing }];
    const found: Difference[] = [];
    for (const [where, runner] of withJit ? [["interpreter", this.interp], ["jit", this.jit]] as const : [["interpreter", this.interp]] as const) {
      let diffs: string[];
      try { diffs = runner.check(this.file, this.test, row); } catch (e) { diffs = [`core.wasm threw ${(e as Error).message}`]; runner.reset(); }
      if (diffs.length) found.push({ seed, row, where, diffs, listing: c.listing });
    }
    return found;
  }
}

/** Appends failing rows to tests/core-wasm/vectors/native.json (the vector format), so each
 *  difference found stays a checked-in vector after it is fixed. */
export function recordVectors(rows: { seed: number; row: Row }[], host = hostCpu()): string {
  const path = new URL("./vectors/native.json", import.meta.url).pathname;
  const file: VectorFile = existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : {
    group: "native", about: "cases where the native differential test (cpu-native.ts) found Vireo differing from the host CPU; each row is the host's result",
    host, base: [0, 0, 0, 0, 0, 0, 0, 0], tests: [],
  };
  (file as VectorFile & { generator?: string }).generator = "tests/core-wasm/cpu-native.ts (native-gen.ts + gen/runner64.c, 64-bit mode)";
  for (const { seed, row } of rows) {
    if (file.tests.some((t) => t.cases.some((r) => r[0] === row[0] && JSON.stringify(r[1]) === JSON.stringify(row[1])))) continue;
    file.tests.push({ name: `seed ${seed}`, mask: FLAGS, cases: [row] });
  }
  writeFileSync(path, JSON.stringify(file, null, 0).replace(/\{"name"/g, "\n{\"name\"") + "\n");
  return path;
}

export { generate, WINDOW };
