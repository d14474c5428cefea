// `node --import tsx bench/p9.ts [--runs N] [--transport T] [--msize BYTES] [--opts MOUNT-OPTIONS]`: virtio-9p read
// throughput, the two figures of issue #9 — one 16 MiB file, and 1,000 small (4 KiB) files —
// plus a 16 MiB write and `ls -l` of the 1,000 files. Timed on the host: the moment each
// phase's "BENCH" line reaches the CLI's stdout (the guest's uptime is printed alongside; under
// heavy 9p traffic the realtime guest clock has been seen running ahead of the host's).
// Figures only: nothing is asserted.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { MARK_RE } from "./proc.ts";
import { median } from "./table.ts";
import { TRANSPORTS, deviceTypeWithRole } from "../devices/registry.ts";

/** The guest shell function that prints "BENCH <tag> <uptime>" (the bench's mark lines). */
const MARK = "m(){ echo BENCH $1 $(cut -d' ' -f1 /proc/uptime); }";
/** Mark lines in `out`: tag → guest seconds. */
function marks(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of out.matchAll(MARK_RE)) m.set(r[1]!, Number(r[2]));
  return m;
}

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => { const i = argv.indexOf(name); return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : def; };
const RUNS = Math.max(1, Number(opt("--runs", "3")));
const TRANSPORT = opt("--transport", TRANSPORTS.find((t) => t.bus === "pci" && t.version1 === "required")!.name);
const SHARE = deviceTypeWithRole("share")!.name;
const MSIZE = opt("--msize", "");
const EXTRA = opt("--opts", ""); // more mount options, e.g. cache=loose
const BIG_MIB = 16, SMALL = 1000, SMALL_BYTES = 4096;

const dir = mkdtempSync(join(tmpdir(), "vireo-bench-9p-"));
try {
  writeFileSync(join(dir, "big.bin"), randomBytes(BIG_MIB << 20));
  mkdirSync(join(dir, "small"));
  for (let i = 0; i < SMALL; i++) writeFileSync(join(dir, "small", `f${String(i).padStart(4, "0")}`), randomBytes(SMALL_BYTES));
  const mountOpts = `trans=virtio,version=9p2000.L${MSIZE ? `,msize=${MSIZE}` : ""}${EXTRA ? `,${EXTRA}` : ""}`;
  const script = [
    MARK,
    `mount -t 9p -o ${mountOpts} share /mnt`,
    "m r0", "cat /mnt/big.bin > /dev/null", "m r1",
    "cat /mnt/small/* > /dev/null", "m r2",
    "ls -l /mnt/small > /dev/null", "m r3",
    `dd if=/dev/zero of=/mnt/w.bin bs=128k count=${BIG_MIB * 8} 2>/dev/null`, "m r4",
  ].join("; ");
  const phases: Record<string, number[]> = { big: [], small: [], ls: [], write: [] };
  const guest: Record<string, number[]> = { big: [], small: [], ls: [], write: [] };
  for (let i = 0; i < RUNS; i++) {
    const r = await run(["--device", `${SHARE},transport=${TRANSPORT},path=${dir}`, "--cmd", script]);
    const m = r.host; // host seconds at each mark
    const g = marks(r.out);
    if (g.has("r4")) {
      guest.big!.push(g.get("r1")! - g.get("r0")!);
      guest.small!.push(g.get("r2")! - g.get("r1")!);
      guest.ls!.push(g.get("r3")! - g.get("r2")!);
      guest.write!.push(g.get("r4")! - g.get("r3")!);
    }
    if (r.code !== 0 || !m.has("r4")) {
      console.error(`bench 9p: run ${i + 1} failed (exit ${r.code}):\n${r.out.slice(-800)}`);
      continue;
    }
    phases.big!.push(m.get("r1")! - m.get("r0")!);
    phases.small!.push(m.get("r2")! - m.get("r1")!);
    phases.ls!.push(m.get("r3")! - m.get("r2")!);
    phases.write!.push(m.get("r4")! - m.get("r3")!);
    const last = (o: Record<string, number[]>) => JSON.stringify(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.at(-1)?.toFixed(2)])));
    console.error(`bench 9p: run ${i + 1}: host ${last(phases)} s, guest uptime ${last(guest)} s; ${r.stats}`);
  }
  const s = (k: string) => median(phases[k]!);
  const f = (v: number | null, d = 2) => (v === null ? "n/a" : v.toFixed(d));
  console.log(`virtio-9p on ${TRANSPORT}, ${mountOpts}, median of ${phases.big!.length} runs (node ${process.version}):`);
  console.log(`  read one ${BIG_MIB} MiB file         ${f(s("big"))} s   ${f(s("big") && BIG_MIB / s("big")!, 1)} MiB/s`);
  console.log(`  read ${SMALL} files of ${SMALL_BYTES} B      ${f(s("small"))} s   ${f(s("small") && SMALL / s("small")!, 0)} files/s`);
  console.log(`  ls -l of those ${SMALL} files     ${f(s("ls"))} s`);
  console.log(`  write one ${BIG_MIB} MiB file (dd 128k) ${f(s("write"))} s   ${f(s("write") && BIG_MIB / s("write")!, 1)} MiB/s`);
  console.log(`  (guest uptime medians: ${Object.entries(guest).map(([k, v]) => `${k} ${f(median(v))} s`).join(", ")})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Run the CLI, noting the host time at which each "BENCH tag" line arrives. */
function run(args: string[]): Promise<{ code: number | null; out: string; host: Map<string, number>; stats: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", "cli/boot.ts", ...args, "--stats", "--timeout", "900"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const host = new Map<string, number>();
    p.stdout.on("data", (d) => {
      out += d;
      for (const r of out.matchAll(/BENCH (\S+) [0-9.]+/g)) if (!host.has(r[1]!)) host.set(r[1]!, performance.now() / 1000);
    });
    p.stderr.on("data", (d) => (out += d));
    p.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith('{"reason"')) ?? "";
      let stats = "";
      try { stats = JSON.stringify(JSON.parse(line).virtio["virtio-9p0"]); } catch { /* no stats */ }
      resolve({ code, out, host, stats });
    });
  });
}
