// The bench's `kernel` workload: Debian's stock i686 kernel (linux-image-686:i386, an xz payload,
// its drivers as modules) booted to its initramfs shell: the init loads virtio_pci, virtio_blk and
// ext4 with their dependencies, mounts an ext4 virtio-blk disk, reads a file from it and powers
// off, printing a BENCH mark after each step. Everything is fetched with apt-get and built at bench
// time, in a cache outside the repository (~/.cache/vireo-bench, or $VIREO_BENCH_CACHE).
//
//   node --import tsx bench/kernel.ts --prepare   fetch and build, print the files and a boot command
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The modules the init loads; modprobe's resolution (modules.dep and softdeps) adds the rest. */
export const WANTED_MODULES = ["virtio_pci", "virtio_blk", "ext4"];
/** The disk's one file, read back by the guest: its md5sum in the transcript shows the mount worked. */
const PROBE_FILE = "vireo-bench.txt";
const PROBE_TEXT = "the ext4 disk of the bench's kernel workload\n".repeat(64);
/** Marks in the order the init prints them; the last is where the boot is done. */
export const KERNEL_MARKS = ["init", "modules", "mounted", "done"] as const;
export const KERNEL_END = /BENCH done [0-9.]+\n/;
// Both emulators get this; the PIC-only board has no local APIC, and QEMU's is left unused so
// both boot the same way.
export const KERNEL_APPEND = "console=ttyS0 tsc=reliable noapic nolapic";
/** The disk as Vireo and QEMU see it: virtio-blk over transitional virtio-pci (QEMU's default), read-only. */
export const vireoDisk = (img: string) => `blk,transport=pci-transitional,image=${img},readonly`;
export const qemuDisk = (img: string) => ["-drive", `file=${img},if=none,id=d0,format=raw,readonly=on`, "-device", "virtio-blk-pci,drive=d0"];

export interface KernelFiles {
  /** The Debian package the kernel came from, e.g. linux-image-6.1.0-57-686. */
  pkg: string;
  kernel: string;
  initrd: string; // plain newc cpio (see bench/qemu.ts: both emulators unpack the same archive)
  disk: string;
  modules: string[]; // in load order
}

const cacheDir = () => resolve(process.env.VIREO_BENCH_CACHE ?? join(homedir(), ".cache", "vireo-bench"));
const log = (s: string) => console.error(`bench kernel: ${s}`);

function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error)).slice(-600)}`);
  return r.stdout;
}
function sudo(args: string[]): void {
  const argv = process.getuid?.() === 0 ? args : ["sudo", "-n", ...args];
  run(argv[0]!, argv.slice(1));
}
const have = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

/** Host tools the build needs, installed from Debian when missing (as the bench installs QEMU). */
function ensureTools(): void {
  const need: [string, string][] = [["depmod", "kmod"], ["modprobe", "kmod"], ["cpio", "cpio"], ["mke2fs", "e2fsprogs"], ["dpkg-deb", "dpkg"]];
  const missing = [...new Set(need.filter(([c]) => !have(c) && !existsSync(`/usr/sbin/${c}`) && !existsSync(`/sbin/${c}`)).map(([, p]) => p))];
  if (missing.length === 0) return;
  log(`installing ${missing.join(" ")} with apt-get`);
  sudo(["apt-get", "update"]);
  sudo(["apt-get", "install", "-y", "--no-install-recommends", ...missing]);
}
const sbin = (c: string) => (existsSync(`/usr/sbin/${c}`) ? `/usr/sbin/${c}` : existsSync(`/sbin/${c}`) ? `/sbin/${c}` : c);

/** apt-get knows i386 packages only once the architecture is added and the lists are fetched. */
function ensureI386(): void {
  const candidate = () => /Candidate: (?!\(none\))/.test(spawnSync("apt-cache", ["policy", "linux-image-686:i386"], { encoding: "utf8" }).stdout ?? "");
  if (candidate()) return;
  log("adding the i386 architecture to dpkg and fetching the package lists");
  sudo(["dpkg", "--add-architecture", "i386"]);
  sudo(["apt-get", "update"]);
  if (!candidate()) throw new Error("apt has no linux-image-686:i386 even after apt-get update");
}

/** The versioned kernel package the metapackage points at now (the newest 6.1.0-N-686). */
function kernelPackage(): string {
  const m = /Depends: (linux-image-[0-9.]+-[0-9]+-686)(:i386)?\b/.exec(run("apt-cache", ["depends", "linux-image-686:i386"]));
  if (!m) throw new Error("apt-cache depends linux-image-686:i386 names no linux-image-*-686 package");
  return m[1]!;
}

/** apt-get download into `dir` unless a .deb of that package is already there; returns its path. */
function download(pkg: string, dir: string): string {
  const name = pkg.replace(/:i386$/, "");
  const find = () => readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith("_i386.deb"));
  let deb = find();
  if (!deb) {
    log(`apt-get download ${pkg}`);
    run("apt-get", ["download", pkg.includes(":") ? pkg : `${pkg}:i386`], dir);
    deb = find();
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${dir}`);
  }
  return join(dir, deb);
}

/** Load order of WANTED_MODULES with everything they need, as modprobe resolves it (modules.dep, softdeps). */
function resolveModules(root: string, version: string): string[] {
  run(sbin("depmod"), ["-b", root, version]);
  const order: string[] = [];
  for (const m of WANTED_MODULES) {
    for (const line of run(sbin("modprobe"), ["-d", root, "-S", version, "--show-depends", m]).split("\n")) {
      const p = /^insmod (\S+\.ko)\b/.exec(line)?.[1];
      if (p && !order.includes(p)) order.push(p);
    }
  }
  return order;
}

function initScript(modules: string[]): string {
  return [
    "#!/bin/sh",
    "# The bench's stock-kernel guest: load the disk's drivers, mount it, read it, power off.",
    `m(){ echo BENCH $1 $(cut -d' ' -f1 /proc/uptime); }`,
    "mount -t proc proc /proc",
    "mount -t sysfs sysfs /sys",
    "mount -t devtmpfs devtmpfs /dev",
    "m init",
    // crc32c-intel needs SSE4.2: refused on a CPU without it, as modprobe would skip it.
    ...modules.map((k) => `insmod /lib/modules/${basename(k)} 2>/dev/null || echo "insmod ${basename(k, ".ko")}: not loaded"`),
    "m modules",
    "n=0; while [ ! -b /dev/vda ] && [ $n -lt 500 ]; do sleep 0.01; n=$((n+1)); done",
    "mount -t ext4 -o ro /dev/vda /mnt || echo 'mount /dev/vda failed'",
    `md5sum /mnt/${PROBE_FILE}`,
    "m mounted",
    "umount /mnt",
    "echo 'vireo-kernel: lsmod' $(cut -d' ' -f1 /proc/modules | sort | tr '\\n' ' ')",
    "m done",
    "poweroff -f",
    "",
  ].join("\n");
}

const APPLETS = ["sh", "mount", "umount", "insmod", "cut", "cat", "echo", "md5sum", "sleep", "sort", "tr", "poweroff", "mkdir", "ls", "lsmod", "dmesg", "setsid", "cttyhack"];

/** Fetch the packages (cached) and build kernel, initramfs and disk (rebuilt when missing). */
export function prepareKernel(): KernelFiles {
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  ensureTools();
  ensureI386();
  const pkg = kernelPackage();
  const out = join(dir, pkg);
  const files: KernelFiles = { pkg, kernel: join(out, "vmlinuz"), initrd: join(out, "initramfs.cpio"), disk: join(out, "disk-ext4.img"), modules: [] };
  const listFile = join(out, "modules.txt");
  if ([files.kernel, files.initrd, files.disk, listFile].every((f) => existsSync(f))) {
    files.modules = readFileSync(listFile, "utf8").split("\n").filter(Boolean);
    return files;
  }
  const kdeb = download(pkg, dir);
  const bdeb = download("busybox-static:i386", dir);
  const work = join(dir, `${pkg}.tmp`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const kroot = join(work, "kernel"), broot = join(work, "busybox"), iroot = join(work, "initramfs"), droot = join(work, "disk");
  run("dpkg-deb", ["-x", kdeb, kroot]);
  run("dpkg-deb", ["-x", bdeb, broot]);
  const version = readdirSync(join(kroot, "lib/modules"))[0]!;
  const modules = resolveModules(kroot, version);

  for (const d of ["bin", "dev", "proc", "sys", "mnt", "tmp", "lib/modules"]) mkdirSync(join(iroot, d), { recursive: true });
  copyFileSync(join(broot, "bin/busybox"), join(iroot, "bin/busybox"));
  chmodSync(join(iroot, "bin/busybox"), 0o755);
  for (const a of APPLETS) symlinkSync("busybox", join(iroot, "bin", a));
  for (const k of modules) copyFileSync(k, join(iroot, "lib/modules", basename(k)));
  writeFileSync(join(iroot, "init"), initScript(modules), { mode: 0o755 });
  const list = execFileSync("sh", ["-c", "find . -print0 | LC_ALL=C sort -z"], { cwd: iroot });
  const cpio = execFileSync("cpio", ["--null", "-o", "-H", "newc", "--reproducible", "-R", "0:0", "--quiet"], { cwd: iroot, input: list, maxBuffer: 256 << 20 });

  mkdirSync(droot);
  writeFileSync(join(droot, PROBE_FILE), PROBE_TEXT);
  mkdirSync(out, { recursive: true });
  // A fixed UUID, hash seed and time: the same disk bytes on every build.
  rmSync(files.disk, { force: true });
  execFileSync(sbin("mke2fs"), ["-q", "-F", "-t", "ext4", "-U", "6b1e3c5a-0d1f-4e2a-9c3b-5a7d9e1f2a4b", "-E", "hash_seed=0c7f2b9e-3d4a-4b5c-8e6f-1a2b3c4d5e6f",
    "-d", droot, files.disk, "16M"], { env: { ...process.env, E2FSPROGS_FAKE_TIME: "1700000000" } });
  writeFileSync(files.initrd, cpio);
  copyFileSync(join(kroot, "boot", `vmlinuz-${version}`), files.kernel);
  files.modules = modules.map((k) => basename(k, ".ko"));
  writeFileSync(listFile, files.modules.join("\n") + "\n");
  rmSync(work, { recursive: true, force: true });
  log(`built ${out}: ${files.modules.length} modules, initramfs ${(cpio.length / 1048576).toFixed(1)} MiB`);
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes("--prepare")) {
    console.error("usage: node --import tsx bench/kernel.ts --prepare   (fetch and build; print the files and a boot command)");
    process.exit(2);
  }
  const f = prepareKernel();
  console.log(`package ${f.pkg}\nkernel  ${f.kernel}\ninitrd  ${f.initrd}\ndisk    ${f.disk}\nmodules ${f.modules.join(" ")}`);
  console.log(`\nnode dist-node/boot.mjs --kernel ${f.kernel} --initrd ${f.initrd} --append '${KERNEL_APPEND}' \\\n  --device ${vireoDisk(f.disk)} --expect 'BENCH done' --stats`);
}
