// The bench's `debian` section: the Debian 12 image of `guest-images/build.sh --distro debian`
// booted to multi-user.target with systemd, under Vireo (`--guest debian`) and QEMU TCG with the
// same kernel, initramfs, command line, RAM and disk. Each run boots a fresh sparse copy of the
// image (a boot writes to its disk: journal, random seed), so every run starts from the same
// bytes. At the first prompt the guest waits for systemd to finish starting up, prints a BENCH
// mark and `systemd-analyze time` (its own account: kernel, initrd, userspace, and when
// multi-user.target was reached).
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { guest, missingFiles } from "../cli/guests.ts";
import { runVm, type VmRun, type WatchedRun } from "./proc.ts";
import { runQemu } from "./qemu.ts";

/** Typed at the first prompt by both emulators: wait for the boot to end, mark it, let systemd say. */
export const DEBIAN_SCRIPT = `systemctl is-system-running --wait; echo BENCH up $(cut -d" " -f1 /proc/uptime); systemd-analyze time`;
/**
 * systemd-analyze's last line: "graphical.target reached after 1min 4.5s in userspace" — the
 * default target; Debian's is graphical.target, which is multi-user.target and nothing more here.
 */
export const DEBIAN_END = /(?:multi-user|graphical)\.target reached after ([0-9]+min )?([0-9.]+)(m?s) in userspace/;
/** "Startup finished in 5.1s (kernel) + 3.2s (initrd) + 40.2s (userspace) = 48.5s". */
const STARTUP_RE = /Startup finished in (.*?) = ([0-9.]+min )?([0-9.]+)(m?s)/;

export interface DebianRun {
  vireo: VmRun | null;
  qemu: WatchedRun | null;
  /** The guest's own figures from systemd-analyze (seconds), per emulator. */
  vireoSystemd: SystemdTimes | null;
  qemuSystemd: SystemdTimes | null;
  /** `systemctl is-system-running --wait`'s answer. */
  vireoState: string | null;
  qemuState: string | null;
}

export interface SystemdTimes {
  total: number;
  multiUser: number; // userspace seconds to multi-user.target
}

const seconds = (v: string, unit: string) => Number(v) / (unit === "ms" ? 1000 : 1);

export function systemdTimes(out: string): SystemdTimes | null {
  const m = DEBIAN_END.exec(out), s = STARTUP_RE.exec(out);
  if (!m || !s) return null;
  const minutes = (x: string | undefined) => (x ? Number(x.slice(0, -4)) * 60 : 0);
  return { total: minutes(s[2]) + seconds(s[3]!, s[4]!), multiUser: minutes(m[1]) + seconds(m[2]!, m[3]!) };
}

/** The line after the typed script: running, degraded, … */
function systemState(out: string): string | null {
  return /\n(initializing|starting|running|degraded|maintenance|stopping|offline|unknown)\n/.exec(out.slice(out.lastIndexOf("is-system-running")))?.[1] ?? null;
}

/** Why the section cannot run, or null when the image is there. */
export function debianMissing(): string | null {
  const g = guest("debian")!;
  const missing = missingFiles(g);
  return missing.length ? `${missing.join(", ")} not built (guest-images/build.sh --distro debian)` : null;
}

export async function bootDebian(tmp: string, jitArgs: readonly string[], withQemu: boolean): Promise<DebianRun> {
  const g = guest("debian")!;
  const disk = join(tmp, "debian-rootfs.img");
  const fresh = () => {
    rmSync(disk, { force: true });
    execFileSync("cp", ["--sparse=always", g.disk!, disk]);
  };
  fresh();
  const vireo = await runVm(["--guest", "debian", "--disk", disk, ...jitArgs, "--cmd", DEBIAN_SCRIPT], 1800);
  let qemu: WatchedRun | null = null;
  if (withQemu) {
    fresh();
    qemu = await runQemu(g.kernel, g.initrd, g.cmdline, {
      memMiB: g.memMiB, typed: DEBIAN_SCRIPT, until: DEBIAN_END, timeoutS: 900,
      ready: g.ready, prompt: new RegExp(g.prompt.replace(/\$$/, "")),
      extra: ["-drive", `file=${disk},if=none,id=d0,format=raw`, "-device", "virtio-blk-pci,drive=d0"],
    });
  }
  if (existsSync(disk)) rmSync(disk);
  if (!vireo.ok) console.error(`bench: debian: the Vireo run failed (exit ${vireo.code}, ${vireo.exit?.reason ?? "no exit event"}); last output:\n${vireo.out.slice(-1500)}`);
  if (qemu && !DEBIAN_END.test(qemu.out)) console.error(`bench: debian: QEMU did not finish; last output:\n${qemu.out.slice(-1500)}`);
  return {
    vireo: vireo.ok ? vireo : null,
    qemu,
    vireoSystemd: systemdTimes(vireo.out),
    qemuSystemd: qemu ? systemdTimes(qemu.out) : null,
    vireoState: systemState(vireo.out),
    qemuState: qemu ? systemState(qemu.out) : null,
  };
}
