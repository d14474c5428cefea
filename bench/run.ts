// `npm run bench`: Vireo's benchmarks and the QEMU TCG reference, in one run. Prints a table
// (median, min and max of --runs runs per figure, then the issue-6 targets) and writes one JSON
// file. Figures only: nothing is asserted, and none of it is part of `npm test`.
// The targets are issue #6's (the first speed bar) and issue #14's (the region JIT).
//
// The machine is shared and noisy, so every figure comes with host CPU seconds beside wall
// seconds, and Vireo and QEMU runs alternate so that each Vireo/QEMU ratio pairs runs made
// moments apart; the table shows the median of those paired ratios.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ensureQemu, plainInitrd, runQemu } from "./qemu.ts";
import { READY, runVm, type VmRun, type WatchedRun } from "./proc.ts";
import { CPU_END, CPU_PHASES, NET_END, blkScript, consoleScript, cpuScript, netScript, seqBytes } from "./workloads.ts";
import { netServer } from "./net-server.ts";
import { createServer as createHttpServer } from "node:http";
import { attachWisp } from "../cli/wisp-relay.ts";
import { formatTable, pairedRatios, row, target, type Row, type Target } from "./table.ts";
import { KERNEL_APPEND, KERNEL_END, KERNEL_MARKS, prepareKernel, qemuDisk, vireoDisk, type KernelFiles } from "./kernel.ts";
import { DEFAULT_CMDLINE } from "../devices/vm/config.ts";
import { AT_PROMPT_S, BROWSER_WARMUP_S, MAIN_THREAD, measurePage, type PageRun, type PageState } from "./page.ts";
import { measureSnapshots } from "./snapshot.ts";
import { bootDebian, debianMissing, type DebianRun } from "./debian.ts";
import { TRANSPORTS as TRANSPORT_DEFS, TRANSPORT_NAMES, deviceTypeWithRole } from "../devices/registry.ts";

/** The console section's name (a bench section, not the device type). */
const CONSOLE_SECTION = "console"; // not-a-device-name
/** The network section's name (a bench section, not the device type). */
const NET_SECTION = "net"; // not-a-device-name
const SECTIONS = ["boot", "cpu", "cpu-nojit", "kernel", "io", NET_SECTION, CONSOLE_SECTION, "idle", "page", "snapshot", "memory", "reference", "debian"];
/** Sections that take minutes per run: only with --only. */
const NOT_DEFAULT = ["debian"];
const TRANSPORTS = TRANSPORT_NAMES;
const DISK = deviceTypeWithRole("disk")!.name;
const CONSOLE = deviceTypeWithRole("terminal")!.name;
/** The transport the single-transport figures use: virtio-pci modern. */
const MODERN_PCI = TRANSPORT_DEFS.find((t) => t.bus === "pci" && t.version1 === "required")!.name;
const HELP = `usage: npm run bench -- [options]
  --only S,...     sections to run (default all but ${NOT_DEFAULT.join(",")}): ${SECTIONS.join(",")}
                   (reference adds QEMU runs to whichever of boot, cpu, kernel, net and debian are selected)
                   net: a download and an upload through user-mode NAT (backend=nat; QEMU's
                   -netdev user beside it) from/to an HTTP server in this process
                   debian: the image of guest-images/build.sh --distro debian booted to
                   multi-user.target (bench/debian.ts; minutes per run; skipped when not built)
                   cpu-nojit: the cpu workload with --jit off (inputs a quarter of cpu's)
                   kernel: Debian's linux-image-686 to its initramfs (bench/kernel.ts; apt-get
                   downloads it and busybox-static:i386 into ~/.cache/vireo-bench once)
  --runs N         runs per figure; the table shows their median, min and max (default 3)
  --quick          smoke check: 1 run and small inputs (md5sum 4 MiB, gzip 1 MiB, blk 8 MiB,
                   console 64 KiB, idle 3 s)
  --json FILE      where to write the results (default bench/results/<date>.json)
  --cpu-md5-mib N  md5sum input (default 32)    --cpu-gzip-mib N  gzip -c input (default 8)
  --io-mib N       blk write/read size (default 32)   --console-kib N  cat size (default 256)
  --net-mib N      net download/upload size (default 16)
  --idle-seconds S idle window (default 10)
  --page-seconds S page section: each measured window (default 30, issue #22's; the section
                   takes ~3 min: the browser's start-up, 15 s at the prompt, three windows)
  --page-runs N    page section: runs, each in a new browser (default 1)
  --page-keys N    page section: keys typed for the key → echo latency (default 50)
  --jit N|off      the VMs' JIT threshold (default: the CLI's); off measures the interpreter
                   (cpu-nojit always runs with off)
                   snapshot: --save-state, --restore and --save-increment of the default guest (bench/snapshot.ts)`;

const argv = process.argv.slice(2);
if (argv.includes("-h") || argv.includes("--help")) {
  console.log(HELP);
  process.exit(0);
}
function opt(name: string, def: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : def;
}
function num(name: string, def: string): number {
  const v = Number(opt(name, def));
  if (!(v > 0)) throw new Error(`${name} must be a positive number, not '${opt(name, def)}'`);
  return v;
}
const quick = argv.includes("--quick");
const only = new Set(opt("--only", SECTIONS.filter((s) => !NOT_DEFAULT.includes(s)).join(",")).split(","));
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section '${s}' (sections: ${SECTIONS.join(",")})`);
const RUNS = Math.round(num("--runs", quick ? "1" : "3"));
const MD5_MIB = Math.ceil(num("--cpu-md5-mib", quick ? "4" : "32"));
// gzip -c takes ~325 M guest instructions per MiB of this input (7-10 s at today's speed): 8 MiB,
// not 32, keeps the whole default bench near 12 minutes.
const GZIP_MIB = Math.min(MD5_MIB, Math.ceil(num("--cpu-gzip-mib", quick ? "1" : "8")));
const IO_MIB = Math.ceil(num("--io-mib", quick ? "8" : "32"));
const NET_MIB = Math.ceil(num("--net-mib", quick ? "4" : "16"));
const CONSOLE_KIB = num("--console-kib", quick ? "64" : "256");
const IDLE_S = num("--idle-seconds", quick ? "3" : "10");
const PAGE_S = num("--page-seconds", quick ? "4" : "30");
const PAGE_RUNS = Math.round(num("--page-runs", "1"));
const PAGE_KEYS = Math.round(num("--page-keys", quick ? "10" : "50"));
// The interpreter runs the cpu workload at a quarter of the JIT's pace or less: a quarter of the input.
const NOJIT_MD5_MIB = Math.max(1, Math.ceil(MD5_MIB / 4)), NOJIT_GZIP_MIB = Math.max(1, Math.ceil(GZIP_MIB / 4));
// Issue #14's baseline (bench/example-result.txt before the region JIT): peak RSS of the VM process.
const RSS_TODAY_MIB = { boot: 131, cpu: 173 };
const started = new Date();
const loadStart = loadavg()[0]!;
// The commit the bench started from (commits made while it runs do not change the code it runs).
let commit = "?";
try { commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim(); } catch { /* not a checkout */ }
const JSON_OUT = opt("--json", join("bench/results", started.toISOString().slice(0, 19).replace(/:/g, "-") + ".json"));

const KERNELS: Record<string, { kernel: string; append: string; args?: readonly string[] }> = {
  bzImage: { kernel: "guest-images/bzImage", append: DEFAULT_CMDLINE },
  // The APIC kernel on the default (PIC-only) board: told so, under both emulators.
  "bzImage-apic": { kernel: "guest-images/bzImage-apic", append: `${DEFAULT_CMDLINE} noapic nolapic` },
  // The same kernel on the APIC board (local APIC, I/O APIC, MP table), the APICs in use; QEMU's
  // pc machine has them too.
  "bzImage-apic --apic": { kernel: "guest-images/bzImage-apic", append: DEFAULT_CMDLINE, args: ["--apic"] },
};
const MEM = ["--mem", "128"];
// --jit N|off reaches every VM run (cli/options.ts checks the value).
const JIT_ARGS = argv.includes("--jit") ? ["--jit", opt("--jit", "")] : [];

const rows: Row[] = [];
const targets: Target[] = [];
const raw: Record<string, unknown[]> = {};
const log = (s: string) => console.error(`bench: ${s}`);
function add(r: Row) {
  rows.push(r);
  log(`${r.section} ${r.metric}: ${r.values.map((v) => +v.toPrecision(4)).join(" ")} ${r.unit}`);
}
const keep = (key: string, v: unknown) => (raw[key] ??= []).push(v);

/** A Vireo run that must succeed; a failed one is reported and dropped (its figures are missing). */
async function vm(what: string, args: string[], timeoutS: number, jitArgs: readonly string[] = JIT_ARGS): Promise<VmRun | null> {
  const r = await runVm([...MEM, ...jitArgs, ...args], timeoutS);
  keep(what, { ok: r.ok, marks: Object.fromEntries(r.marks), idle: r.idle, exit: r.exit });
  if (r.ok) return r;
  log(`${what} failed (exit ${r.code}, ${r.exit?.reason ?? "no exit event"}${r.exit?.message ? ": " + r.exit.message : ""}); last output:\n${r.out.slice(-800)}`);
  return null;
}
function qemuKeep(what: string, q: WatchedRun, ok: boolean): WatchedRun | null {
  keep(what, { ok, ready: q.ready, marks: Object.fromEntries(q.marks) });
  if (ok) return q;
  log(`${what} did not finish; last output:\n${q.out.slice(-800)}`);
  return null;
}
/** Difference of a sampled quantity between two marks of a run. */
function span(r: { marks: Map<string, any> } | null, a: string, b: string, k: "instret" | "cpuS" | "wallS" | "guestS"): number | null {
  const x = r?.marks.get(a)?.[k], y = r?.marks.get(b)?.[k];
  return typeof x === "number" && typeof y === "number" ? y - x : null;
}

/** a / b, or null when either is missing (null / x would be 0 in JavaScript). */
const div = (a: number | null | undefined, b: number | null | undefined) => (typeof a === "number" && typeof b === "number" && b !== 0 ? a / b : null);

const tmp = mkdtempSync(join(tmpdir(), "vireo-bench-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const withRef = only.has("reference") && (only.has("boot") || only.has("cpu") || only.has("kernel") || only.has(NET_SECTION) || only.has("debian"));
const haveQemu = withRef && ensureQemu();
if (withRef && !haveQemu) log("qemu-system-i386 is not available: no reference figures");
const initrd = haveQemu ? plainInitrd("guest-images/initramfs.cpio.gz", tmp) : "";
const rss: Record<string, (number | undefined)[]> = {};

// --- boot: to the ready line, both kernels, both clocks; QEMU alternating with them ---
let vireoBootWall: (number | null)[] = [], qemuBootWall: (number | null)[] = [];
if (only.has("boot")) {
  const vr: Record<string, (VmRun | null)[]> = {};
  const qr: Record<string, (WatchedRun | null)[]> = {};
  for (let i = 0; i < RUNS; i++) {
    for (const [name, k] of Object.entries(KERNELS)) {
      for (const clock of ["realtime", "deterministic"]) {
        const r = await vm(`boot ${name} ${clock}`, ["--kernel", k.kernel, "--append", k.append, ...(k.args ?? []), "--clock", clock, "--expect", READY], 180);
        (vr[`${name} ${clock}`] ??= []).push(r);
      }
      if (haveQemu) {
        const q = await runQemu(k.kernel, initrd, k.append, { timeoutS: 180 });
        (qr[name] ??= []).push(qemuKeep(`qemu boot ${name}`, q, q.ready !== null));
      }
    }
  }
  for (const [key, rs] of Object.entries(vr)) {
    const ready = rs.map((r) => r?.marks.get("ready"));
    add(row("boot", `${key}: instructions`, "instr", rs.map((r) => r?.exit?.stats.instructions as number)));
    add(row("boot", `${key}: VM wall`, "s", rs.map((r) => r?.exit?.stats.wallSeconds as number), "VM start to ready line"));
    add(row("boot", `${key}: process wall`, "s", ready.map((s) => s?.wallS), "process start (node, worker, wasm compile) to ready"));
    add(row("boot", `${key}: process CPU`, "s", ready.map((s) => s?.cpuS), "user+sys, all threads"));
    if (key === "bzImage realtime") rss["boot, at the ready line"] = rs.map((r) => r?.exit?.maxRssKiB);
  }
  if (haveQemu) {
    for (const name of Object.keys(KERNELS)) {
      const qs = qr[name]!;
      const qWall = qs.map((q) => q?.ready?.wallS ?? null), qCpu = qs.map((q) => q?.ready?.cpuS ?? null);
      const vs = vr[`${name} realtime`]!;
      const vWall = vs.map((r) => r?.marks.get("ready")?.wallS ?? null), vCpu = vs.map((r) => r?.marks.get("ready")?.cpuS ?? null);
      add(row("reference", `qemu ${name}: boot wall`, "s", qWall, "spawn to ready line, plain cpio initrd"));
      add(row("reference", `qemu ${name}: boot CPU`, "s", qCpu, "user+sys, /proc/<pid>/stat"));
      add(row("reference", `vireo/qemu ${name} boot wall`, "x", pairedRatios(vWall, qWall), "realtime clock, process start to ready, paired runs"));
      add(row("reference", `vireo/qemu ${name} boot CPU`, "x", pairedRatios(vCpu, qCpu), "paired runs"));
      add(row("reference", `vireo/qemu ${name} boot VM wall`, "x", pairedRatios(vs.map((r) => (r?.exit?.stats.wallSeconds as number) ?? null), qWall),
        "Vireo without node/worker start-up"));
      if (name === "bzImage") (vireoBootWall = vWall), (qemuBootWall = qWall);
    }
  }
}
if (only.has("boot") && haveQemu) {
  const r = row("", "", "", pairedRatios(vireoBootWall, qemuBootWall)).median;
  targets.push(target("#6 default guest boot wall, Vireo/QEMU TCG", r, "x", "<=", 2));
  // Issue #14: no slower than before the region JIT (bench/example-result.txt: 1.58).
  targets.push(target("#14 default guest boot wall, Vireo/QEMU TCG", r, "x", "<=", 1.58));
}

// --- cpu: md5sum and gzip -c over a fixed input made in the guest ---
/** The cpu workload: Vireo runs (with `jitArgs`) alternating with QEMU's; rows under `section`.
 *  Returns the whole workload's MIPS per wall and per CPU second and the paired CPU ratio. */
async function cpuWorkload(section: string, md5MiB: number, gzipMiB: number, jitArgs: readonly string[], withQemu: boolean) {
  const script = cpuScript(md5MiB, gzipMiB);
  const vs: (VmRun | null)[] = [], qs: (WatchedRun | null)[] = [];
  for (let i = 0; i < RUNS; i++) {
    vs.push(await vm(section, ["--cmd", script], 3600, jitArgs));
    if (withQemu) {
      const q = await runQemu(KERNELS.bzImage!.kernel, initrd, KERNELS.bzImage!.append, { typed: script, until: CPU_END, timeoutS: 600 });
      qs.push(qemuKeep(`qemu ${section}`, q, CPU_END.test(q.out)));
    }
  }
  // The same input gives the same digest and compressed size under both emulators.
  const check = (out: string) => `${/([0-9a-f]{32}) +\/tmp\/in/.exec(out)?.[1] ?? "?"} ${/\n(\d+)\n[^\n]*BENCH gzip_1/.exec(out)?.[1] ?? "?"}`;
  const outputs = new Set([...vs, ...qs].filter((r) => r !== null).map((r) => check(r!.out)));
  const agree = outputs.size === 1 ? `outputs agree (md5 ${[...outputs][0]} gzip bytes)` : `OUTPUTS DIFFER: ${[...outputs].join(" | ")}`;
  log(`${section}: ${agree}`);
  const [md5, gz] = CPU_PHASES;
  const phases: [string, string, string][] = [
    [`md5sum ${md5MiB} MiB`, md5![1], md5![2]],
    [`gzip -c ${gzipMiB} MiB`, gz![1], gz![2]],
    ["workload (both)", md5![1], gz![2]],
  ];
  const res = { mipsWall: null as number | null, mipsCpu: null as number | null, qemuCpuRatio: null as number | null };
  for (const [label, a, b] of phases) {
    const instr = vs.map((r) => span(r, a, b, "instret")), wall = vs.map((r) => span(r, a, b, "wallS")), cpu = vs.map((r) => span(r, a, b, "cpuS"));
    add(row(section, `${label}: instructions`, "instr", instr));
    add(row(section, `${label}: wall`, "s", wall, label.startsWith("workload") ? agree : undefined));
    add(row(section, `${label}: CPU`, "s", cpu, "user+sys of the VM process"));
    const mw = row(section, `${label}: MIPS per wall s`, "MIPS", pairedRatios(instr, wall).map((x) => x / 1e6));
    add(mw);
    const mc = row(section, `${label}: MIPS per CPU s`, "MIPS", pairedRatios(instr, cpu).map((x) => x / 1e6));
    add(mc);
    const whole = label.startsWith("workload");
    if (whole) (res.mipsWall = mw.median), (res.mipsCpu = mc.median);
    if (withQemu) {
      const qWall = qs.map((q) => span(q, a, b, "wallS")), qCpu = qs.map((q) => span(q, a, b, "cpuS"));
      add(row("reference", `qemu ${section} ${label}: wall`, "s", qWall, "host wall between the marks"));
      add(row("reference", `qemu ${section} ${label}: CPU`, "s", qCpu, "user+sys, /proc/<pid>/stat"));
      add(row("reference", `vireo/qemu ${section} ${label} wall`, "x", pairedRatios(wall, qWall), "paired runs"));
      const rc = row("reference", `vireo/qemu ${section} ${label} CPU`, "x", pairedRatios(cpu, qCpu), "paired runs");
      add(rc);
      if (whole) res.qemuCpuRatio = rc.median;
    }
  }
  rss[`${section} workload (${md5MiB + gzipMiB} MiB in tmpfs)`] = vs.map((r) => r?.exit?.maxRssKiB);
  return res;
}

if (only.has("cpu")) {
  const r = await cpuWorkload("cpu", MD5_MIB, GZIP_MIB, JIT_ARGS, haveQemu);
  targets.push(target("#6 cpu workload, guest MIPS per wall s", r.mipsWall, "MIPS", ">=", 150));
  // The same target per CPU second of the VM process: what the interpreter does with the core
  // it gets, which other users' load on a shared machine does not change.
  targets.push(target("#6 cpu workload, guest MIPS per CPU s", r.mipsCpu, "MIPS", ">=", 150));
  targets.push(target("#14 cpu workload, guest MIPS per CPU s", r.mipsCpu, "MIPS", ">=", 700));
  targets.push(target("#14 cpu workload, MIPS per CPU s (stretch)", r.mipsCpu, "MIPS", ">=", 1000));
  if (haveQemu) targets.push(target("#14 cpu workload CPU s, Vireo/QEMU TCG", r.qemuCpuRatio, "x", "<=", 1.5));
}

// --- cpu-nojit: the same workload, interpreted (--jit off), on a smaller input ---
if (only.has("cpu-nojit")) {
  const r = await cpuWorkload("cpu-nojit", NOJIT_MD5_MIB, NOJIT_GZIP_MIB, ["--jit", "off"], false);
  targets.push(target("#14 cpu workload --jit off, MIPS per CPU s", r.mipsCpu, "MIPS", ">=", 80));
}

// --- kernel: Debian's stock i686 kernel (xz payload, modules) to its initramfs, QEMU alternating ---
if (only.has("kernel")) {
  let files: KernelFiles | null = null;
  try {
    files = prepareKernel();
  } catch (e) {
    log(`kernel: cannot prepare Debian's kernel: ${(e as Error).message}`);
  }
  if (files) {
    const f = files;
    log(`kernel: ${f.pkg}, modules ${f.modules.join(" ")}`);
    const vs: (VmRun | null)[] = [], qs: (WatchedRun | null)[] = [];
    for (let i = 0; i < RUNS; i++) {
      vs.push(await vm("kernel", ["--kernel", f.kernel, "--initrd", f.initrd, "--append", KERNEL_APPEND, "--device", vireoDisk(f.disk)], 900));
      if (haveQemu) {
        const q = await runQemu(f.kernel, f.initrd, KERNEL_APPEND, { until: KERNEL_END, timeoutS: 600, extra: qemuDisk(f.disk) });
        qs.push(qemuKeep("qemu kernel", q, KERNEL_END.test(q.out)));
      }
    }
    const [first, , , last] = KERNEL_MARKS;
    const vWall = vs.map((r) => r?.marks.get(last)?.wallS ?? null), vCpu = vs.map((r) => r?.marks.get(last)?.cpuS ?? null);
    add(row("kernel", `${f.pkg}: instructions`, "instr", vs.map((r) => r?.marks.get(last)?.instret ?? null), "to the last mark (disk mounted and read)"));
    add(row("kernel", `${f.pkg}: process wall`, "s", vWall, "process start to the last mark"));
    add(row("kernel", `${f.pkg}: process CPU`, "s", vCpu, "user+sys, all threads"));
    add(row("kernel", "to /init: instructions", "instr", vs.map((r) => r?.marks.get(first)?.instret ?? null), "kernel start-up (its xz payload unpacked on the host)"));
    add(row("kernel", "to /init: process CPU", "s", vs.map((r) => r?.marks.get(first)?.cpuS ?? null)));
    add(row("kernel", `${f.modules.length} modules, mount: CPU`, "s", vs.map((r) => span(r, first, last, "cpuS")), "insmod, mount -t ext4, md5sum of a file"));
    rss["kernel, at the last mark"] = vs.map((r) => r?.exit?.maxRssKiB);
    if (haveQemu) {
      const qWall = qs.map((q) => q?.marks.get(last)?.wallS ?? null), qCpu = qs.map((q) => q?.marks.get(last)?.cpuS ?? null);
      add(row("reference", "qemu kernel: wall", "s", qWall, "spawn to the last mark"));
      add(row("reference", "qemu kernel: CPU", "s", qCpu, "user+sys, /proc/<pid>/stat"));
      add(row("reference", "vireo/qemu kernel wall", "x", pairedRatios(vWall, qWall), "process start to the last mark, paired runs"));
      const rc = row("reference", "vireo/qemu kernel CPU", "x", pairedRatios(vCpu, qCpu), "paired runs");
      add(rc);
      targets.push(target("#14 stock kernel boot CPU s, Vireo/QEMU TCG", rc.median, "x", "<=", 2));
    }
  }
}

// --- debian: Debian 12 with systemd to multi-user.target (only with --only debian), QEMU alternating ---
if (only.has("debian")) {
  const why = debianMissing();
  if (why) log(`debian: skipped: ${why}`);
  else {
    const runs: DebianRun[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await bootDebian(tmp, JIT_ARGS, haveQemu));
    for (const r of runs) log(`debian: systemctl is-system-running: vireo ${r.vireoState ?? "?"}${haveQemu ? `, qemu ${r.qemuState ?? "?"}` : ""}`);
    keep("debian", runs.map((r) => ({ vireoSystemd: r.vireoSystemd, qemuSystemd: r.qemuSystemd, vireoState: r.vireoState, qemuState: r.qemuState })));
    const vWall = runs.map((r) => r.vireo?.marks.get("up")?.wallS ?? null), vCpu = runs.map((r) => r.vireo?.marks.get("up")?.cpuS ?? null);
    add(row("debian", "to multi-user.target, systemd: total", "s", runs.map((r) => r.vireoSystemd?.total ?? null), "guest's systemd-analyze: kernel + initrd + userspace"));
    add(row("debian", "to multi-user.target, systemd: userspace", "s", runs.map((r) => r.vireoSystemd?.multiUser ?? null)));
    add(row("debian", "boot finished: process wall", "s", vWall, "process start to is-system-running --wait returning"));
    add(row("debian", "boot finished: process CPU", "s", vCpu, "user+sys, all threads"));
    add(row("debian", "boot finished: instructions", "instr", runs.map((r) => r.vireo?.marks.get("up")?.instret ?? null)));
    rss["debian, at power-off"] = runs.map((r) => r.vireo?.exit?.maxRssKiB);
    if (haveQemu) {
      const qWall = runs.map((r) => r.qemu?.marks.get("up")?.wallS ?? null), qCpu = runs.map((r) => r.qemu?.marks.get("up")?.cpuS ?? null);
      add(row("reference", "qemu debian to multi-user.target, systemd: total", "s", runs.map((r) => r.qemuSystemd?.total ?? null), "the guest's systemd-analyze"));
      add(row("reference", "qemu debian boot finished: wall", "s", qWall, "spawn to is-system-running --wait returning"));
      add(row("reference", "qemu debian boot finished: CPU", "s", qCpu, "user+sys, /proc/<pid>/stat"));
      add(row("reference", "vireo/qemu debian systemd total", "x", pairedRatios(runs.map((r) => r.vireoSystemd?.total ?? null), runs.map((r) => r.qemuSystemd?.total ?? null)), "paired runs"));
      add(row("reference", "vireo/qemu debian boot CPU", "x", pairedRatios(vCpu, qCpu), "paired runs"));
    }
  }
}

// --- io: virtio-blk sequential write and read on each transport ---
if (only.has("io")) {
  const res: Record<string, (VmRun | null)[]> = {};
  for (let i = 0; i < RUNS; i++) {
    for (const t of TRANSPORTS) {
      // A fresh sparse image each run: the guest's writes go to this file.
      const img = join(tmp, `blk-${t}.img`);
      writeFileSync(img, "");
      execFileSync("truncate", ["-s", `${IO_MIB + 1}M`, img]);
      (res[t] ??= []).push(await vm(`io ${t}`, ["--device", `${DISK},transport=${t},image=${img}`, "--cmd", blkScript(IO_MIB)], 900));
      rmSync(img, { force: true });
    }
  }
  for (const t of TRANSPORTS) {
    const rs = res[t]!;
    // Per CPU second too: on a shared machine the wall rates swing with other users' load.
    for (const [dir, a, b, note] of [["write", "w0", "w1", `dd bs=64k ${IO_MIB} MiB conv=fsync`], ["read", "r0", "r1", "dd bs=64k after drop_caches"]]) {
      add(row("io", `${DISK} ${t}: seq ${dir}`, "MiB/s", rs.map((r) => div(IO_MIB, span(r, a!, b!, "wallS"))), note));
      add(row("io", `${DISK} ${t}: seq ${dir} per CPU s`, "MiB/s", rs.map((r) => div(IO_MIB, span(r, a!, b!, "cpuS"))), "MiB per CPU second of the VM process"));
    }
  }
}

// --- net: a download and an upload through user-mode NAT, QEMU's slirp beside it ---
if (only.has(NET_SECTION)) {
  const srv = await netServer(NET_MIB);
  const script = netScript(srv.port, NET_MIB);
  const NIC = deviceTypeWithRole("network")!.name;
  // The page's path: the same NAT with its outside through a Wisp relay (here, in this process).
  const relayHttp = createHttpServer();
  const relay = attachWisp(relayHttp, "/", { allow: new Set(["loopback"]), log: (m) => process.stderr.write(`${m}\n`) });
  await new Promise<void>((r) => relayHttp.listen(0, "127.0.0.1", r));
  const relayUrl = `ws://127.0.0.1:${(relayHttp.address() as { port: number }).port}/`;
  const vs: (VmRun | null)[] = [], ws: (VmRun | null)[] = [], qs: (WatchedRun | null)[] = [];
  for (let i = 0; i < RUNS; i++) {
    srv.reset();
    const v = await vm(NET_SECTION, ["--device", `${NIC},transport=${MODERN_PCI},backend=nat`, "--cmd", script], 600);
    vs.push(v && srv.check("vireo") ? v : null);
    srv.reset();
    const w = await vm(NET_SECTION, ["--device", `${NIC},transport=${MODERN_PCI},backend=nat,relay=${relayUrl}`, "--cmd", script], 600);
    ws.push(w && srv.check("vireo via wisp") ? w : null);
    if (haveQemu) {
      srv.reset();
      // virtio-net-pci without its legacy interface: the same modern transport; the user-mode stack.
      const q = await runQemu(KERNELS.bzImage!.kernel, initrd, KERNELS.bzImage!.append, {
        typed: script, until: NET_END, timeoutS: 600, extra: ["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"],
      });
      qs.push(qemuKeep("qemu net", q, q.marks.has("u1")) && srv.check("qemu") ? q : null);
    }
  }
  srv.close();
  relay.close();
  relayHttp.close();
  for (const [dir, a, b] of [["download", "d0", "d1"], ["upload", "d1", "u1"]] as const) {
    const wall = vs.map((r) => span(r, a, b, "wallS")), cpu = vs.map((r) => span(r, a, b, "cpuS"));
    add(row(NET_SECTION, `${NIC} ${MODERN_PCI} NAT: ${dir} ${NET_MIB} MiB`, "MiB/s", wall.map((w) => div(NET_MIB, w)), "busybox wget, HTTP server on the host's 127.0.0.1"));
    add(row(NET_SECTION, `${NIC} ${MODERN_PCI} NAT: ${dir} per CPU s`, "MiB/s", cpu.map((c) => div(NET_MIB, c)), "MiB per CPU second of the VM process (the NAT included)"));
    add(row(NET_SECTION, `${NIC} ${MODERN_PCI} NAT via Wisp: ${dir} ${NET_MIB} MiB`, "MiB/s", ws.map((r) => div(NET_MIB, span(r, a, b, "wallS"))), "the page's path: relay=ws://… (a Wisp relay in the bench's process)"));
    if (haveQemu) {
      const qWall = qs.map((q) => span(q, a, b, "wallS")), qCpu = qs.map((q) => span(q, a, b, "cpuS"));
      add(row("reference", `qemu net ${dir}: MiB/s`, "MiB/s", qWall.map((w) => div(NET_MIB, w)), "-netdev user, virtio-net-pci disable-legacy=on"));
      add(row("reference", `vireo/qemu net ${dir} wall`, "x", pairedRatios(wall, qWall), "paired runs"));
      add(row("reference", `vireo/qemu net ${dir} CPU`, "x", pairedRatios(cpu, qCpu), "paired runs"));
    }
  }
}

// --- console: cat of a text file to the terminal, on the serial port and on virtio-console ---
if (only.has(CONSOLE_SECTION)) {
  const { script, lines } = consoleScript(CONSOLE_KIB);
  const bytes = seqBytes(lines);
  const consoles: [string, string[]][] = [
    ["serial ttyS0", []],
    // The guest's console, and so its shell, on hvc0 (init's cttyhack follows console=).
    [`virtio-${CONSOLE} hvc0 (${MODERN_PCI})`, ["--append", DEFAULT_CMDLINE.replace("console=ttyS0", "console=hvc0"), "--device", `${CONSOLE},transport=${MODERN_PCI}`]],
  ];
  const res: (VmRun | null)[][] = consoles.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, [name, args]] of consoles.entries()) res[k]!.push(await vm(`console ${name}`, [...args, "--cmd", script], 900));
  }
  for (const [k, [name]] of consoles.entries()) {
    const rs = res[k]!;
    add(row(CONSOLE_SECTION, `${name}: cat throughput`, "KiB/s", rs.map((r) => div(bytes / 1024, span(r, "c0", "c1", "wallS"))),
      `${bytes} bytes (seq 1 ${lines}) per wall s`));
    add(row(CONSOLE_SECTION, `${name}: CPU per MiB`, "s", rs.map((r) => div(span(r, "c0", "c1", "cpuS"), bytes / 1048576)), "user+sys of the VM process"));
    add(row(CONSOLE_SECTION, `${name}: instructions per byte`, "instr", rs.map((r) => div(span(r, "c0", "c1", "instret"), bytes)), "guest, cat to the prompt"));
  }
}

// --- idle: host CPU while the guest sits at its prompt ---
if (only.has("idle")) {
  const rs: (VmRun | null)[] = [];
  for (let i = 0; i < RUNS; i++) rs.push(await vm("idle", ["--idle", String(IDLE_S)], 2 * IDLE_S + 300));
  const pct = (x?: { cpuS: number; wallS: number }, y?: { cpuS: number; wallS: number }) => (x && y ? (100 * (y.cpuS - x.cpuS)) / (y.wallS - x.wallS) : null);
  // Two windows back to back: the first still has V8's after-boot compilation and GC in it; the
  // second is what an idle tab costs for as long as it stays open (the target's figure).
  const first = rs.map((r) => pct(r?.idle?.a, r?.idle?.b));
  const share = rs.map((r) => pct(r?.idle?.b, r?.idle?.c));
  add(row("idle", `host CPU, first ${IDLE_S} s at the prompt`, "% core", first, "process user+sys / wall, from 2 s after the prompt"));
  add(row("idle", `host CPU, the next ${IDLE_S} s`, "% core", share, "steady state"));
  add(row("idle", "guest instructions per window", "instr", rs.map((r) => (r?.idle ? r.idle.c.instret - r.idle.b.instret : null))));
  rss["idle, at the prompt"] = rs.map((r) => r?.exit?.maxRssKiB);
  targets.push(target("#6 #14 idle guest, host CPU", row("", "", "", share).median, "% core", "<", 2));
}

// --- page: the built page in headless Chromium (bench/page.ts): VM off, idle guest, hidden tab, echo ---
if (only.has("page")) {
  // PAGE_RUNS runs, each a new browser: its start-up, then each state a window of PAGE_S seconds.
  const rs: (PageRun | null)[] = [];
  for (let i = 0; i < PAGE_RUNS; i++) {
    try {
      rs.push(await measurePage({
        seconds: PAGE_S, keys: PAGE_KEYS, log,
        warmupS: quick ? 10 : BROWSER_WARMUP_S, atPromptS: quick ? 5 : AT_PROMPT_S,
      }));
    } catch (e) {
      log(`page: ${(e as Error).message}`);
      rs.push(null);
    }
  }
  for (const r of rs) keep("page", r);
  const states: [string, (r: PageRun) => PageState][] = [["VM off", (r) => r.off], ["idle guest at its prompt", (r) => r.idle], ["tab hidden, guest idle", (r) => r.hidden]];
  for (const [name, get] of states) {
    const st = rs.map((r) => (r ? get(r) : null));
    const win = `${PAGE_S} s window, /proc/<pid>/stat`;
    add(row("page", `${name}: whole browser`, "% core", st.map((x) => x?.cpu.browser), `every Chromium process, ${win}`));
    add(row("page", `${name}: renderer`, "% core", st.map((x) => x?.cpu.renderer), "the page's process: main thread, VM worker, compositor, raster, GC"));
    add(row("page", `${name}: main thread`, "% core", st.map((x) => x && (x.threads[MAIN_THREAD] ?? 0)), "the renderer's main thread"));
    add(row("page", `${name}: VM worker thread`, "% core", st.map((x) => x && (x.threads.DedicatedWorker ?? 0)), "the renderer's DedicatedWorker thread"));
    add(row("page", `${name}: GPU process`, "% core", st.map((x) => x?.cpu.gpu)));
    add(row("page", `${name}: other processes`, "% core", st.map((x) => x && x.cpu.browser - x.cpu.renderer - x.cpu.gpu), "the browser process, network and storage services"));
    add(row("page", `${name}: main-thread frames`, "per s", st.map((x) => x?.mainFrames), "ProxyMain::BeginMainFrame in a trace after the window"));
    add(row("page", `${name}: style recalcs`, "per s", st.map((x) => x?.frames.styleRecalcs), "CDP Performance.getMetrics"));
    add(row("page", `${name}: layouts`, "per s", st.map((x) => x?.frames.layouts)));
  }
  const medianOf = (xs: number[]) => row("", "", "", xs).median;
  const echo = rs.map((r) => (r ? medianOf(r.echoMs) : null));
  const keys = rs.flatMap((r) => r?.echoMs ?? []);
  add(row("page", "key press → echo, median", "ms", echo,
    keys.length ? `${PAGE_KEYS} keys a run, ${Math.min(...keys).toFixed(1)}–${Math.max(...keys).toFixed(1)} ms; keydown to the terminal row showing it` : undefined));
  add(row("page", "power-on to prompt", "s", rs.map((r) => (r ? r.bootMs / 1000 : null)), "page load with ?autoboot=1 to the shell prompt"));
  const idle = row("", "", "", rs.map((r) => r?.idle.cpu.browser)).median, hidden = row("", "", "", rs.map((r) => r?.hidden.cpu.browser)).median;
  targets.push(target("#22 idle guest in the page, whole browser", idle, "% core", "<=", 1.5));
  targets.push(target("#22 hidden tab, whole browser", hidden, "% core", "<=", 1));
}

// --- memory: peak RSS of the VM process (128 MiB guest), from the runs above ---
if (only.has("snapshot")) {
  const r = await measureSnapshots(RUNS, tmp, log);
  add(row("snapshot", "state size, default guest after boot", "MiB", r.sizeMiB, "128 MiB guest, zero pages skipped, LZ4"));
  add(row("snapshot", "save", "s", r.saveS, "quiesce, every component, RAM, disk hashes (--stats saveSeconds)"));
  add(row("snapshot", "increment after ls", "KiB", r.incrementKiB, "--restore, ls, --save-increment: RAM pages written since the restore"));
  add(row("snapshot", "save an increment", "s", r.incrementSaveS, "the same save (--stats saveSeconds): no zero-page scan"));
  add(row("snapshot", "restore", "s", r.restoreS, "check, build the board, load every component and RAM (--stats restoreSeconds)"));
  add(row("snapshot", "fresh boot to first command output", "s", r.bootS, "process start to the output of the first --cmd"));
  add(row("snapshot", "restore to first command output", "s", r.resumeS, "process start to the same output, --restore"));
  const speedup = row("snapshot", "restore vs boot to first output", "x", pairedRatios(r.bootS, r.resumeS), "paired runs, from process start");
  add(speedup);
  add(row("snapshot", "fresh boot to first output, from VM start", "s", r.vmBootS, "the worker's runVm start to the output (Node, CLI and worker start-up left out)"));
  add(row("snapshot", "restore to first output, from VM start", "s", r.vmResumeS, "the same for --restore"));
  const vmSpeedup = row("snapshot", "restore vs boot to first output, from VM start", "x", pairedRatios(r.vmBootS, r.vmResumeS), "paired runs");
  add(vmSpeedup);
  targets.push(target("#18 restore to first output, faster than boot (process start)", speedup.median, "x", ">=", 4));
  targets.push(target("#18 restore to first output, faster than boot (VM start)", vmSpeedup.median, "x", ">=", 4));
  targets.push(target("#18 state size after boot", row("", "", "", r.sizeMiB).median, "MiB", "<=", 8));
  targets.push(target("#18 incremental save after ls", row("", "", "", r.incrementKiB).median, "KiB", "<=", 1024));
}

if (only.has("memory")) {
  if (Object.keys(rss).length === 0) {
    const rs: (VmRun | null)[] = [];
    for (let i = 0; i < RUNS; i++) rs.push(await vm("memory", ["--expect", READY], 180));
    rss["boot, at the ready line"] = rs.map((r) => r?.exit?.maxRssKiB);
  }
  for (const [what, kib] of Object.entries(rss)) add(row("memory", `peak RSS: ${what}`, "MiB", kib.map((k) => (k === undefined ? null : k / 1024)), "128 MiB guest, getrusage maxrss"));
  // Issue #14: the region JIT may cost at most 64 MiB more than before it.
  const peak = (key: string | undefined) => (key ? row("", "", "", rss[key]!.map((k) => (k === undefined ? null : k / 1024))).median : null);
  const bootKey = Object.keys(rss).find((k) => k.startsWith("boot")), cpuKey = Object.keys(rss).find((k) => k.startsWith("cpu workload"));
  if (bootKey) targets.push(target("#14 peak RSS, boot", peak(bootKey), "MiB", "<=", RSS_TODAY_MIB.boot + 64));
  if (cpuKey) targets.push(target("#14 peak RSS, cpu workload", peak(cpuKey), "MiB", "<=", RSS_TODAY_MIB.cpu + 64));
}

// --- table + JSON ---
const finished = new Date();
const minutes = (finished.getTime() - started.getTime()) / 60000;
// Other users' load explains most of the spread between runs: say how busy the machine was.
const la = `load ${loadStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end (1-min avg)`;
const header = `Vireo bench  ${started.toISOString()}  commit ${commit}  node ${process.version}  ${cpus().length} CPUs  ${la}\n` +
  `runs=${RUNS}${only.has("page") ? ` (page: ${PAGE_RUNS})` : ""}${quick ? " (quick)" : ""}  took ${minutes.toFixed(1)} min  sections: ${[...only].join(",")}${JIT_ARGS.length ? `  jit ${JIT_ARGS[1]}` : ""}${withRef && !haveQemu ? "  (no QEMU)" : ""}`;
console.log("\n" + formatTable(rows, targets, header));
mkdirSync(dirname(JSON_OUT), { recursive: true });
writeFileSync(JSON_OUT, JSON.stringify({
  date: started.toISOString(), minutes, commit, node: process.version, cpus: cpus().length, loadavgStart: loadStart, loadavgEnd: loadavg(), runs: RUNS, quick,
  options: { sections: [...only], md5MiB: MD5_MIB, gzipMiB: GZIP_MIB, ioMiB: IO_MIB, consoleKiB: CONSOLE_KIB, idleSeconds: IDLE_S, pageSeconds: PAGE_S, pageRuns: PAGE_RUNS, pageKeys: PAGE_KEYS, transports: TRANSPORTS },
  rows, targets, raw,
}, null, 1) + "\n");
console.log(`\nwrote ${JSON_OUT}`);
