// `npm run bench [-- --only boot,cpu,io,idle,memory,reference] [--runs N] [--cpu-md5-mib N] [--cpu-gzip-mib N]
//   [--io-transports T,...]`: Vireo benchmarks. Prints a table and writes bench/results/<timestamp>.json.
// Figures only: nothing here is asserted, and none of it is part of `npm test`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureQemu, runQemu } from "./qemu.ts";
import { READY, marks, median, runVireo, type RunResult } from "./proc.ts";
import { CPU_PHASES, QEMU_END, cpuScript, ioReadScript } from "./workloads.ts";

const ALL = ["boot", "cpu", "io", "idle", "memory", "reference"];
// idle is not in the default set: it subtracts two whole runs' CPU time, and boot-to-boot noise
// (~1 s) swamps the signal (it has printed negative shares). Measure idle by sampling
// /proc/<pid>/stat during the sleep window before putting it back (issue 6).
const DEFAULT = ALL.filter((s) => s !== "idle");
const argv = process.argv.slice(2);
function opt(name: string, def: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
}
if (argv.includes("-h") || argv.includes("--help")) {
  console.log(`usage: npm run bench -- [--only ${ALL.join(",")}] [--runs N (3)] [--cpu-md5-mib N (8)]
  [--cpu-gzip-mib N (1)] [--io-mib N (32)] [--io-transports T,... (pci-legacy,pci-modern,mmio-v2)] [--idle-seconds S (10)]`);
  process.exit(0);
}
const only = new Set(opt("--only", DEFAULT.join(",")).split(","));
const RUNS = Math.max(1, Number(opt("--runs", "3")));
const MD5_MIB = Number(opt("--cpu-md5-mib", "8")); // the target is 32 MiB; 8 keeps one run well under 60 s at ~25 MIPS
const GZIP_MIB = Number(opt("--cpu-gzip-mib", "1")); // gzip costs ~8 s/MiB at ~30 MIPS; /bin/busybox caps it (~2 MiB)
const IO_MIB = Number(opt("--io-mib", "32"));
const TRANSPORTS = opt("--io-transports", "pci-legacy,pci-modern,mmio-v2").split(",");
const IDLE_S = Number(opt("--idle-seconds", "10"));

const KERNELS = {
  bzImage: { kernel: "guest-images/bzImage", append: "console=ttyS0 tsc=reliable" },
  "bzImage-apic": { kernel: "guest-images/bzImage-apic", append: "console=ttyS0 tsc=reliable noapic nolapic" },
  // The same kernel on the APIC board (local APIC, I/O APIC, MP table), with the APIC in use.
  "bzImage-apic --apic": { kernel: "guest-images/bzImage-apic", append: "console=ttyS0 tsc=reliable", args: ["--apic"] },
} as const satisfies Record<string, { kernel: string; append: string; args?: readonly string[] }>;
const boardArgs = (k: object): string[] => ("args" in k ? [...(k.args as readonly string[])] : []);

const rows: { section: string; name: string; value: number | null; unit: string; note?: string }[] = [];
const raw: Record<string, unknown> = {};
function row(section: string, name: string, value: number | null, unit: string, note?: string) {
  rows.push({ section, name, value, unit, note });
  console.error(`bench: ${section} ${name} = ${fmt(value)} ${unit}${note ? "  (" + note + ")" : ""}`);
}
function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "n/a";
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3);
}
function ok(r: RunResult, what: string): boolean {
  if (r.code === 0 && r.stats) return true;
  console.error(`bench: ${what} failed (exit ${r.code}); last output:\n${r.out.slice(-600)}`);
  return false;
}
async function repeat(n: number, f: () => Promise<RunResult>, what: string): Promise<RunResult[]> {
  const res: RunResult[] = [];
  for (let i = 0; i < n; i++) {
    const r = await f();
    if (ok(r, `${what} #${i + 1}`)) res.push(r);
  }
  (raw[what] = res.map((r) => ({ wall: r.wall, cpu: r.cpu, maxRssKiB: r.maxRssKiB, stats: pick(r.stats) })));
  return res;
}
function pick(s: Record<string, any> | null) {
  return s && { reason: s.reason, instructions: s.instructions, wallSeconds: s.wallSeconds, mips: s.mips, traps: s.traps,
    interrupts: s.interrupts, exceptions: s.exceptions, tlbMisses: s.tlbMisses };
}
const med = (rs: RunResult[], f: (r: RunResult) => number | null | undefined) =>
  median(rs.map(f).filter((x): x is number => typeof x === "number"));

const bootMedians: Record<string, number | null> = {};
let cpuGuest: Record<string, number | null> = {};

// --- boot ---
if (only.has("boot")) {
  for (const [name, k] of Object.entries(KERNELS)) {
    for (const clock of ["realtime", "deterministic"]) {
      const rs = await repeat(RUNS, () => runVireo(["--kernel", k.kernel, "--append", k.append, ...boardArgs(k), "--clock", clock, "--expect", READY]),
        `boot ${name} ${clock}`);
      const wall = med(rs, (r) => r.stats!.wallSeconds);
      bootMedians[`${name} ${clock}`] = wall;
      row("boot", `${name} ${clock} instructions`, med(rs, (r) => r.stats!.instructions), "instr");
      row("boot", `${name} ${clock} wall`, wall, "s", "CLI wallSeconds to ready line");
      row("boot", `${name} ${clock} mips`, med(rs, (r) => r.stats!.mips), "MIPS");
    }
  }
}

// Baseline for the --cmd workloads: boot, type `true`, power off.
let baseline: RunResult[] | null = null;
async function getBaseline(): Promise<RunResult[]> {
  baseline ??= await repeat(RUNS, () => runVireo(["--cmd", "true"]), "baseline cmd true");
  return baseline;
}

// --- cpu ---
if (only.has("cpu")) {
  const base = await getBaseline();
  const rs = await repeat(RUNS, () => runVireo(["--cmd", cpuScript(MD5_MIB, GZIP_MIB)], 900), "cpu");
  const dI = med(rs, (r) => r.stats!.instructions)! - (med(base, (r) => r.stats!.instructions) ?? NaN);
  const dW = med(rs, (r) => r.stats!.wallSeconds)! - (med(base, (r) => r.stats!.wallSeconds) ?? NaN);
  for (const [tag, a, b] of CPU_PHASES) {
    const v = med(rs, (r) => { const m = marks(r.out); return (m.get(b) ?? NaN) - (m.get(a) ?? NaN); });
    cpuGuest[tag] = v;
    row("cpu", `${tag} ${tag === "md5" ? MD5_MIB : GZIP_MIB} MiB`, v, "s", "guest /proc/uptime, realtime clock");
  }
  row("cpu", "workload instructions", dI, "instr", "minus baseline boot+`true`");
  row("cpu", "workload wall", dW, "s", "minus baseline");
  row("cpu", "workload mips", dI / dW / 1e6, "MIPS");
}

// --- io ---
if (only.has("io")) {
  const dir = mkdtempSync(join(tmpdir(), "vireo-bench-io-"));
  const img = join(dir, "disk.img");
  const buf = Buffer.alloc(IO_MIB * 1048576);
  for (let i = 0; i < buf.length; i += 4) buf.writeUInt32LE((i * 2654435761) >>> 0, i);
  writeFileSync(img, buf);
  try {
    for (const t of TRANSPORTS) {
      const rs = await repeat(RUNS, () => runVireo(["--device", `blk,transport=${t},image=${img},readonly`, "--cmd", ioReadScript()], 900), `io ${t}`);
      const s = med(rs, (r) => { const m = marks(r.out); return (m.get("r1") ?? NaN) - (m.get("r0") ?? NaN); });
      row("io", `blk ${t} seq read`, s ? IO_MIB / s : null, "MiB/s", `dd bs=64k, ${IO_MIB} MiB, guest uptime ${fmt(s)} s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- idle ---
if (only.has("idle")) {
  const base = await getBaseline();
  const rs = await repeat(RUNS, () => runVireo(["--cmd", `sleep ${IDLE_S}`], IDLE_S + 60), "idle");
  const dC = (med(rs, (r) => r.cpu) ?? NaN) - (med(base, (r) => r.cpu) ?? NaN);
  const dW = (med(rs, (r) => r.wall) ?? NaN) - (med(base, (r) => r.wall) ?? NaN);
  row("idle", `host cpu, boot + sleep ${IDLE_S}`, med(rs, (r) => r.cpu), "s", "GNU time user+sys, whole run");
  row("idle", "host cpu, baseline boot + true", med(base, (r) => r.cpu), "s", "GNU time user+sys, whole run");
  row("idle", `host cpu over ${IDLE_S} s idle`, dC, "s", "difference; boot-time noise (~1 s) swamps it at --runs 1");
  row("idle", "idle share of one core", (100 * dC) / dW, "%");
}

// --- memory ---
if (only.has("memory")) {
  const rs = await repeat(RUNS, () => runVireo(["--mem", "128", "--expect", READY]), "memory");
  const kib = med(rs, (r) => r.maxRssKiB);
  row("memory", "peak RSS, 128 MiB guest at ready", kib === null ? null : kib / 1024, "MiB", "GNU time %M");
}

// --- reference ---
if (only.has("reference")) {
  if (!ensureQemu()) {
    row("reference", "qemu-system-i386", null, "", "not available");
  } else {
    for (const [name, k] of Object.entries(KERNELS)) {
      if (boardArgs(k).length) continue; // QEMU's own board has an APIC anyway
      const walls: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const q = await runQemu(k.kernel, k.append);
        if (q.bootWall === null) console.error(`bench: qemu ${name} did not reach ready:\n${q.out.slice(-600)}`);
        else walls.push(q.bootWall);
      }
      raw[`qemu boot ${name}`] = walls;
      const qw = median(walls);
      row("reference", `qemu ${name} boot wall`, qw, "s", "spawn to ready line");
      const vw = bootMedians[`${name} realtime`];
      if (vw != null && qw) row("reference", `vireo/qemu ${name} boot`, vw / qw, "x", "realtime clock");
    }
    if (only.has("cpu")) {
      const per: Record<string, number[]> = {};
      for (let i = 0; i < RUNS; i++) {
        const q = await runQemu(KERNELS.bzImage.kernel, KERNELS.bzImage.append, cpuScript(MD5_MIB, GZIP_MIB), QEMU_END, 180);
        const m = marks(q.out);
        for (const [tag, a, b] of CPU_PHASES) (per[tag] ??= []).push((m.get(b) ?? NaN) - (m.get(a) ?? NaN));
      }
      raw["qemu cpu"] = per;
      for (const [tag] of CPU_PHASES) {
        const q = median(per[tag]);
        row("reference", `qemu cpu ${tag}`, q, "s", "guest /proc/uptime");
        const v = cpuGuest[tag];
        if (v != null && q) row("reference", `vireo/qemu cpu ${tag}`, v / q, "x");
      }
    }
  }
}

// --- table + JSON ---
const w = Math.max(...rows.map((r) => r.name.length), 10);
console.log(`\nVireo bench  runs=${RUNS}  node ${process.version}  ${new Date().toISOString()}`);
console.log(`${"section".padEnd(10)} ${"metric".padEnd(w)} ${"value".padStart(12)} unit   note`);
for (const r of rows) console.log(`${r.section.padEnd(10)} ${r.name.padEnd(w)} ${fmt(r.value).padStart(12)} ${r.unit.padEnd(6)} ${r.note ?? ""}`);
mkdirSync("bench/results", { recursive: true });
const file = join("bench/results", new Date().toISOString().replace(/[:.]/g, "-") + ".json");
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS,
  options: { md5MiB: MD5_MIB, gzipMiB: GZIP_MIB, ioMiB: IO_MIB, transports: TRANSPORTS, idleSeconds: IDLE_S },
  rows, raw }, null, 1) + "\n");
console.log(`\nwrote ${file}`);
