// The reference: the same images under qemu-system-i386 (TCG), timed to the ready line on its serial console.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { READY } from "./proc.ts";

export const QEMU = "/usr/bin/qemu-system-i386";

/** Install Debian's qemu-system-x86 when qemu-system-i386 is missing; false when that fails. */
export function ensureQemu(): boolean {
  if (existsSync(QEMU)) return true;
  console.error("bench: qemu-system-i386 missing, installing qemu-system-x86 with apt-get");
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  for (const a of [["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "qemu-system-x86"]]) {
    const r = spawnSync(sudo[0] ?? a[0], [...sudo.slice(1), ...(sudo.length ? a : a.slice(1))], { stdio: "inherit" });
    if (r.status !== 0) return false;
  }
  return existsSync(QEMU);
}

export interface QemuResult { bootWall: number | null; out: string; }

/**
 * Boot under QEMU TCG; wall seconds until the ready line. With `cmd`, wait for the shell prompt, type it,
 * and wait for `until` before killing QEMU.
 */
export function runQemu(kernel: string, append: string, cmd?: string, until?: RegExp, timeoutS = 300): Promise<QemuResult> {
  const args = ["-accel", "tcg", "-kernel", kernel, "-initrd", "guest-images/initramfs.cpio.gz", "-append", append,
    "-nographic", "-m", "128", "-no-reboot", "-monitor", "none", "-serial", "stdio"];
  const t0 = performance.now();
  return new Promise((resolve) => {
    const p = spawn(QEMU, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "", bootWall: number | null = null, typed = false, done = false;
    const finish = () => { if (!done) { done = true; clearTimeout(timer); p.kill("SIGKILL"); resolve({ bootWall, out }); } };
    const timer = setTimeout(finish, timeoutS * 1000);
    p.stdout.on("data", (d) => {
      out += d;
      if (bootWall === null && out.includes(READY)) {
        bootWall = (performance.now() - t0) / 1000;
        if (!cmd) return finish();
      }
      if (bootWall !== null && cmd && !typed && /# /.test(out.slice(out.indexOf(READY)))) {
        typed = true; // the shell prompt is up; give it a moment to settle, then type
        setTimeout(() => p.stdin.write(cmd + "\n"), 500);
      }
      if (typed && until && until.test(out)) finish();
    });
    p.stderr.on("data", (d) => (out += d));
    p.on("close", finish);
  });
}
