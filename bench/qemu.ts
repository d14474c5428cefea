// The reference: the same kernel and initramfs under qemu-system-i386 (TCG), driven through its
// serial console like the Vireo runs.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { watch, type WatchOptions, type WatchedRun } from "./proc.ts";

export const QEMU = "/usr/bin/qemu-system-i386";

/** Install Debian's qemu-system-x86 when qemu-system-i386 is missing; false when that fails. */
export function ensureQemu(): boolean {
  if (existsSync(QEMU)) return true;
  console.error("bench: qemu-system-i386 missing, installing qemu-system-x86 with apt-get");
  const sudo = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
  for (const a of [["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "qemu-system-x86"]]) {
    const argv = [...sudo, ...a];
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: "inherit" });
    if (r.status !== 0) return false;
  }
  return existsSync(QEMU);
}

/**
 * The initramfs as Vireo loads it. Vireo inflates a gzip initrd on the host before loading it
 * (devices/host/initrd.ts), so its kernel unpacks a plain cpio; QEMU gets the same plain cpio,
 * or it would spend its boot inflating what Vireo never inflates in the guest.
 */
export function plainInitrd(gz: string, dir: string): string {
  const bytes = readFileSync(gz);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return gz;
  const file = join(dir, "initramfs.cpio");
  writeFileSync(file, gunzipSync(bytes));
  return file;
}

/**
 * Boot under TCG with 128 MiB like the Vireo runs; optionally type `typed` at the prompt and wait
 * for `until` (without `typed`: wait for `until` instead of the ready line). `extra`: more QEMU
 * arguments (a disk).
 */
export function runQemu(kernel: string, initrd: string, append: string, opts: WatchOptions & { extra?: string[]; memMiB?: number }): Promise<WatchedRun> {
  return watch(QEMU, ["-accel", "tcg", "-M", "pc", "-m", String(opts.memMiB ?? 128), "-kernel", kernel, "-initrd", initrd, "-append", append,
    "-display", "none", "-no-reboot", "-monitor", "none", "-serial", "stdio", "-nodefaults", ...(opts.extra ?? [])], opts);
}
