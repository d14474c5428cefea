// Guest-side command lines of the benchmarks. Each phase ends with a line "BENCH <tag> <guest
// uptime>"; the host samples instructions and CPU time when it sees one (bench/vm-child.ts).
const MARK = "m(){ echo BENCH $1 $(cut -d' ' -f1 /proc/uptime); }";
const MiB = 1048576;

/**
 * The CPU workload, on a fixed input made in the guest: copies of /bin/busybox (a real, 2 MiB
 * static i386 binary: compressible, but not trivially like zeros) concatenated and cut to
 * `md5MiB`; md5sum reads all of it, gzip -c its first `gzipMiB`. Phases: gen (not timed), md5, gzip.
 */
export function cpuScript(md5MiB: number, gzipMiB: number): string {
  return [
    MARK,
    "m gen0",
    `while [ $(stat -c %s /tmp/in 2>/dev/null || echo 0) -lt ${md5MiB * MiB} ]; do cat /bin/busybox >> /tmp/in; done`,
    `truncate -s ${md5MiB * MiB} /tmp/in`,
    `head -c ${gzipMiB * MiB} /tmp/in > /tmp/gz`,
    "m md5_0",
    "md5sum /tmp/in",
    "m md5_1",
    "gzip -c /tmp/gz | wc -c",
    "m gzip_1",
  ].join("; ");
}
/** [label, start mark, end mark] of the timed CPU phases. */
export const CPU_PHASES: [string, string, string][] = [["md5sum", "md5_0", "md5_1"], ["gzip -c", "md5_1", "gzip_1"]];
// The whole line: QEMU is killed on sight of it, and its mark must be read first.
export const CPU_END = /BENCH gzip_1 [0-9.]+\n/;

/**
 * Sequential write then read of the first `mib` of /dev/vda in 64 KiB blocks. The write ends
 * with fsync (the device's FLUSH); the read starts from an empty page cache.
 */
export function blkScript(mib: number): string {
  const n = (mib * MiB) / 65536;
  return [
    MARK,
    "m w0",
    `dd if=/dev/zero of=/dev/vda bs=64k count=${n} conv=fsync 2>/dev/null`,
    "m w1",
    "echo 3 > /proc/sys/vm/drop_caches",
    "m r0",
    `dd if=/dev/vda of=/dev/null bs=64k count=${n} 2>/dev/null`,
    "m r1",
  ].join("; ");
}

/**
 * Console throughput: `cat` of a text file of about `kib` KiB (seq's numbered lines) to the
 * terminal. The file is made before the timed phase; returns the script and the file's size.
 */
export function consoleScript(kib: number): { script: string; lines: number } {
  // seq 1 N prints sum of digit counts + N bytes; find the N that gives ~kib KiB.
  let lines = 0, bytes = 0;
  while (bytes < kib * 1024) bytes += String(++lines).length + 1;
  return { script: [MARK, `seq 1 ${lines} > /tmp/c`, "m c0", "cat /tmp/c", "m c1"].join("; "), lines };
}
export function seqBytes(lines: number): number {
  let b = 0;
  for (let i = 1; i <= lines; i++) b += String(i).length + 1;
  return b;
}

/**
 * Network throughput through user-mode NAT (Vireo's backend=nat, QEMU's -netdev user): a static
 * address (10.0.2.15, router 10.0.2.2 — the host in both), then a download of `mib` MiB from the
 * bench's HTTP server on the host and an upload of as much (busybox wget --post-file sends the
 * file up to its first NUL byte, hence a file of 'x's). Phases: d0→d1 download, d1→u1 upload.
 */
export function netScript(port: number, mib: number): string {
  const url = `http://10.0.2.2:${port}`;
  return [
    MARK,
    "ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up",
    "route add default gw 10.0.2.2",
    `head -c ${mib * MiB} /dev/zero | tr '\\0' x > /tmp/up`,
    "m d0",
    `wget -q -O /dev/null ${url}/down`,
    "m d1",
    `wget -q -O /dev/null --post-file /tmp/up ${url}/up`,
    "m u1",
  ].join("; ");
}
export const NET_END = /BENCH u1 [0-9.]+\n/;
