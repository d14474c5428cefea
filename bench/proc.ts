// Spawning the Vireo CLI (and other programs) for the benchmarks, with wall time, CPU time and peak RSS.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const READY = "vireo-guest: ready";
const GNU_TIME = "/usr/bin/time";

export interface RunResult {
  code: number | null;
  out: string;
  wall: number; // host seconds, spawn to exit
  stats: Record<string, any> | null; // the CLI's --stats line
  cpu: number | null; // user+sys seconds of the process tree (GNU time), null when unavailable
  maxRssKiB: number | null;
}

/** Run `node --import tsx cli/boot.ts ARGS --stats`, under GNU time -f when present. */
export function runVireo(args: string[], timeoutS = 600): Promise<RunResult> {
  const base = [process.execPath, "--import", "tsx", "cli/boot.ts", ...args, "--stats", "--timeout", String(timeoutS)];
  return runTimed(base, timeoutS + 30);
}

export function runTimed(argv: string[], timeoutS: number): Promise<RunResult> {
  const haveTime = existsSync(GNU_TIME);
  const dir = mkdtempSync(join(tmpdir(), "vireo-bench-"));
  const tf = join(dir, "time.txt");
  const cmd = haveTime ? [GNU_TIME, "-o", tf, "-f", "%U %S %M", ...argv] : argv;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const p = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutS * 1000);
    p.on("close", (code) => {
      clearTimeout(timer);
      const wall = (performance.now() - t0) / 1000;
      let stats: Record<string, any> | null = null;
      for (const line of out.split("\n")) {
        if (line.startsWith('{"reason"')) { try { stats = JSON.parse(line); } catch { /* partial */ } }
      }
      let cpu: number | null = null, maxRssKiB: number | null = null;
      if (haveTime && existsSync(tf)) {
        const last = readFileSync(tf, "utf8").trim().split("\n").pop() ?? "";
        const [u, s, m] = last.split(/\s+/).map(Number);
        if (Number.isFinite(u) && Number.isFinite(s)) cpu = u + s;
        if (Number.isFinite(m)) maxRssKiB = m;
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, out, wall, stats, cpu, maxRssKiB });
    });
  });
}

export function median(xs: number[]): number | null {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Lines "BENCH <tag> <uptime>" printed by guest scripts -> tag -> guest seconds. */
export function marks(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of out.matchAll(/BENCH (\S+) ([0-9.]+)/g)) m.set(r[1], Number(r[2]));
  return m;
}
