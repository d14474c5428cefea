// Guest-side command lines for the benchmarks. Each phase ends with "BENCH <tag> <guest uptime>".
export const MARK = "m(){ echo BENCH $1 $(cut -d' ' -f1 /proc/uptime); }";

/** md5sum over `md5MiB` of zeros piped from dd; gzip -c over the first `gzipMiB` of /bin/busybox (a fixed binary). */
export function cpuScript(md5MiB: number, gzipMiB: number): string {
  return [
    MARK,
    "m gen0",
    `head -c ${gzipMiB * 1048576} /bin/busybox > /tmp/in`,
    "m gen1",
    `dd if=/dev/zero bs=1M count=${md5MiB} 2>/dev/null | md5sum`,
    "m md5",
    "gzip -c /tmp/in | md5sum",
    "m gzip",
    "ls -l /tmp/in",
  ].join("; ");
}

export function ioReadScript(): string {
  return [MARK, "m r0", "dd if=/dev/vda of=/dev/null bs=64k", "m r1"].join("; ");
}

export const CPU_PHASES: [string, string, string][] = [["md5", "gen1", "md5"], ["gzip", "md5", "gzip"]];
export const QEMU_END = /BENCH gzip [0-9]/;
