// The snapshot section of `npm run bench` (issue #18): the default guest booted with a --cmd
// and saved (--save-state), then resumed (--restore) to run one command; against a fresh boot
// running the same command. And the increment (--save-increment) after resuming and running
// `ls`: its size and save time. Times are the CLI's own (--stats saveSeconds / restoreSeconds) and,
// for "to first output", this process's wall clock from spawning the CLI (the Node bundle, as
// `npm run boot` runs it) to the command's output on its stdout.
import { spawn, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
/** A command whose output differs from its echo, so the output is what is waited for. */
const CMD = "echo SNAP-$((40+2))";
const OUTPUT = "SNAP-42";

interface CliRun {
  code: number | null;
  /** From spawning the CLI to the command's output. */
  firstOutputS: number | null;
  /** From the VM's start in its worker (after Node, the CLI and the worker have started) to the output. */
  vmFirstOutputS: number | null;
  /** From spawning the CLI to the VM's start: Node, the CLI and the worker starting, the files read. */
  startupS: number | null;
  stats: Record<string, unknown> | null;
  out: string;
}

function cli(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const spawnedAtMs = performance.timeOrigin + t0;
    const p = spawn(process.execPath, [root + "dist-node/boot.mjs", "--timeout", "300", "--stats", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let first: number | null = null;
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString("latin1");
      if (first === null && out.includes(OUTPUT + "\r\n")) first = (performance.now() - t0) / 1000;
      if (first === null && out.includes(OUTPUT + "\n")) first = (performance.now() - t0) / 1000;
    });
    p.stderr.on("data", (d: Buffer) => (out += d.toString("latin1")));
    p.on("close", (code) => {
      const cut = out.lastIndexOf("\n{");
      let stats = null;
      try { stats = cut >= 0 ? JSON.parse(out.slice(cut + 1).split("\n")[0]!) : null; } catch { /* reported as missing */ }
      // The VM's start on the wall clock (--stats startedAtMs), from this process's spawn.
      const vmStartS = typeof stats?.startedAtMs === "number" ? (stats.startedAtMs - spawnedAtMs) / 1000 : null;
      const vmFirst = first !== null && vmStartS !== null ? first - vmStartS : null;
      resolve({ code, firstOutputS: first, vmFirstOutputS: vmFirst, startupS: vmStartS, stats, out });
    });
  });
}

export interface SnapshotFigures {
  sizeMiB: (number | null)[];
  saveS: (number | null)[];
  restoreS: (number | null)[];
  bootS: (number | null)[];
  resumeS: (number | null)[];
  vmBootS: (number | null)[];
  vmResumeS: (number | null)[];
  bootStartupS: (number | null)[];
  resumeStartupS: (number | null)[];
  incrementKiB: (number | null)[];
  incrementSaveS: (number | null)[];
}

export async function measureSnapshots(runs: number, tmp: string, log: (s: string) => void): Promise<SnapshotFigures> {
  const b = spawnSync(process.execPath, [root + "scripts/build-node.mjs", "--if-stale"], { stdio: ["ignore", 2, 2] });
  if (b.status !== 0) throw new Error("scripts/build-node.mjs failed");
  const f: SnapshotFigures = { sizeMiB: [], saveS: [], restoreS: [], bootS: [], resumeS: [], vmBootS: [], vmResumeS: [], bootStartupS: [], resumeStartupS: [], incrementKiB: [], incrementSaveS: [] };
  const num = (r: CliRun, k: string) => (typeof r.stats?.[k] === "number" ? (r.stats[k] as number) : null);
  const failed = (what: string, r: CliRun) => log(`snapshot ${what} failed (exit ${r.code}); last output:\n${r.out.slice(-800)}`);
  for (let i = 0; i < runs; i++) {
    const state = join(tmp, `snap${i}.vmstate`);
    const saved = await cli(["--cmd", "echo saved", "--save-state", state]);
    if (saved.code !== 0) failed("save", saved);
    f.sizeMiB.push(saved.code === 0 ? statSync(state).size / 1048576 : null);
    f.saveS.push(num(saved, "saveSeconds"));
    // Fresh boot and restore alternate, so each ratio pairs runs made moments apart.
    const fresh = await cli(["--cmd", CMD]);
    if (fresh.code !== 0) failed("boot", fresh);
    f.bootS.push(fresh.code === 0 ? fresh.firstOutputS : null);
    f.vmBootS.push(fresh.code === 0 ? fresh.vmFirstOutputS : null);
    f.bootStartupS.push(fresh.code === 0 ? fresh.startupS : null);
    const resumed = await cli(["--restore", state, "--cmd", CMD]);
    if (resumed.code !== 0) failed("restore", resumed);
    f.resumeS.push(resumed.code === 0 ? resumed.firstOutputS : null);
    f.vmResumeS.push(resumed.code === 0 ? resumed.vmFirstOutputS : null);
    f.resumeStartupS.push(resumed.code === 0 ? resumed.startupS : null);
    f.restoreS.push(num(resumed, "restoreSeconds"));
    const inc = join(tmp, `snap${i}-ls.vmstate`);
    const incremented = await cli(["--restore", state, "--cmd", "ls", "--save-increment", inc]);
    if (incremented.code !== 0) failed("increment", incremented);
    f.incrementKiB.push(incremented.code === 0 ? statSync(inc).size / 1024 : null);
    f.incrementSaveS.push(num(incremented, "saveSeconds"));
  }
  return f;
}
