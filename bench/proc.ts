// Running the measured programs: a Vireo VM in bench/vm-child.ts (which reports its own samples
// on fd 3), and any other process (QEMU) sampled from /proc/<pid>/stat when its console prints
// something we wait for.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Sample } from "./vm-child.ts";

export const READY = "vireo-guest: ready";
/** Guest lines "BENCH <tag> <uptime>", printed by the scripts in workloads.ts. */
export const MARK_RE = /BENCH (\S+) ([0-9]+\.[0-9]+)/g;

export interface VmRun {
  ok: boolean;
  code: number | null;
  out: string; // the console transcript
  marks: Map<string, Sample>;
  idle: { a: Sample; b: Sample; c: Sample } | null;
  exit: (Sample & { reason: string; message?: string; stats: Record<string, unknown>; maxRssKiB: number }) | null;
}

const root = fileURLToPath(new URL("../", import.meta.url));
let bundleChecked = false;

/**
 * Boot a VM in bench/vm-child.ts with `npm run boot` options (plus --idle S). It runs from the
 * Node bundle (dist-node/vm-child.mjs, rebuilt here first if a source changed), as `npm run boot`
 * does, so the process wall time includes the start-up users get, not tsx's transpiling.
 */
export function runVm(args: string[], timeoutS: number): Promise<VmRun> {
  if (!bundleChecked) {
    const b = spawnSync(process.execPath, [root + "scripts/build-node.mjs", "--if-stale"], { stdio: ["ignore", 2, 2] });
    if (b.status !== 0) throw new Error("scripts/build-node.mjs failed");
    bundleChecked = true;
  }
  const argv = [root + "dist-node/vm-child.mjs", ...args, "--timeout", String(timeoutS)];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "pipe", "pipe"] });
    const outChunks: Buffer[] = [];
    let ev = "";
    const run: VmRun = { ok: false, code: null, out: "", marks: new Map(), idle: null, exit: null };
    p.stdout!.on("data", (d: Buffer) => outChunks.push(d));
    p.stderr!.on("data", (d: Buffer) => outChunks.push(d));
    (p.stdio[3] as NodeJS.ReadableStream).on("data", (d: Buffer) => (ev += d.toString()));
    // The child enforces the timeout itself; this is for a child that hangs anyway.
    const killer = setTimeout(() => p.kill("SIGKILL"), (timeoutS + 60) * 1000);
    p.on("close", (code) => {
      clearTimeout(killer);
      run.code = code;
      run.out = Buffer.concat(outChunks).toString("latin1").replace(/\r/g, "");
      for (const l of ev.split("\n")) {
        if (!l) continue;
        let e;
        try {
          e = JSON.parse(l);
        } catch {
          continue; // a child killed mid-line: the run counts as failed below (no exit event)
        }
        if (e.ev === "mark") run.marks.set(e.tag, e);
        else if (e.ev === "idle") run.idle = { a: e.a, b: e.b, c: e.c };
        else if (e.ev === "exit") run.exit = e;
      }
      run.ok = code === 0 && run.exit !== null;
      resolve(run);
    });
  });
}

let clkTck = 0;
/** user+sys seconds of a live process (all its threads), or null once it is gone. */
export function procCpuS(pid: number): number | null {
  clkTck ||= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // comm may hold spaces; fields from 3 on
    return (Number(f[11]) + Number(f[12])) / clkTck; // utime, stime (fields 14 and 15)
  } catch {
    return null;
  }
}

/** A point in a QEMU run: spawn-relative wall seconds and the process's CPU seconds. */
export interface ProcSample { wallS: number; cpuS: number | null; guestS?: number }

export interface WatchedRun { out: string; ready: ProcSample | null; marks: Map<string, ProcSample> }

/**
 * Spawn `cmd`, sample it at the ready line and at each BENCH mark on its stdout. With `typed`,
 * write it to stdin once a shell prompt follows the ready line. Killed (SIGKILL) once `until`
 * appears (after the typing, if any), the ready line does when there is neither, or at the timeout.
 */
export interface WatchOptions {
  typed?: string;
  until?: RegExp;
  timeoutS: number;
  /** The guest's ready line and shell prompt (default: the default guest's). */
  ready?: string;
  prompt?: RegExp;
}

export function watch(cmd: string, args: string[], opts: WatchOptions): Promise<WatchedRun> {
  const READY_TEXT = opts.ready ?? READY;
  const promptRe = opts.prompt ?? /vireo:[^\n]*# /;
  const t0 = performance.now();
  const now = () => (performance.now() - t0) / 1000;
  return new Promise((resolve) => {
    const p: ChildProcess = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    const run: WatchedRun = { out: "", ready: null, marks: new Map() };
    let typed = false, done = false, scanned = 0;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      p.kill("SIGKILL");
      resolve(run);
    };
    const timer = setTimeout(finish, opts.timeoutS * 1000);
    p.stdout!.on("data", (d: Buffer) => {
      run.out += d.toString("latin1").replace(/\r/g, "");
      let s: ProcSample | null = null;
      const at = () => (s ??= { wallS: now(), cpuS: procCpuS(p.pid!) });
      if (!run.ready && run.out.includes(READY_TEXT)) {
        run.ready = at();
        if (!opts.typed && !opts.until) return finish();
      }
      // Complete lines only, from where the last look stopped.
      const end = run.out.lastIndexOf("\n") + 1;
      for (const m of run.out.slice(scanned, end).matchAll(MARK_RE)) run.marks.set(m[1]!, { ...at(), guestS: Number(m[2]) });
      scanned = Math.max(scanned, end);
      // The prompt (busybox may follow it with a cursor-position query, so no "$" anchor).
      if (run.ready && opts.typed && !typed && promptRe.test(run.out.slice(run.out.indexOf(READY_TEXT)))) {
        typed = true;
        p.stdin!.write(opts.typed + "\n");
      }
      if ((typed || !opts.typed) && opts.until?.test(run.out)) finish();
    });
    p.stderr!.on("data", (d: Buffer) => (run.out += d.toString("latin1")));
    p.on("close", finish);
  });
}
