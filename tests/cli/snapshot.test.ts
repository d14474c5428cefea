// Snapshots through the real CLI (devices/state/, cli/restore.ts). With the deterministic clock,
// (boot + A, --save-state) then (--restore + B) must be the same run as boot + A + B: the same
// console transcript, byte for byte, and the same instruction count — on the default guest with
// a virtio-blk disk, virtio-net on the built-in host and a mounted 9p folder, with a 9p file open
// across the save and data written to the disk and to the guest's tmpfs before it. Expected
// values come from the uninterrupted run (and the bytes the commands put there), not from the
// state code. Also: the file refusals (exit 6, one line, nothing runs). About 15 s.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boot, outputOf } from "./virtio-boot.ts";

const A = [
  "mount -t 9p -o trans=virtio,version=9p2000.L share /mnt",
  "exec 3</mnt/data; read -r l <&3; echo $l",
  "ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up; ping -c 1 10.0.2.2 | grep -c 'bytes from'",
  "echo vireo-$((6*7)) > /tmp/x; dd if=/tmp/x of=/dev/vda conv=fsync 2>/dev/null; echo ok",
];
const B = [
  "read -r m <&3; echo $m",
  "cat /tmp/x; head -c 8 /dev/vda; echo",
  "ping -c 1 10.0.2.2 | grep -c 'bytes from'",
  "wget -q -O - http://10.0.2.2/ | head -c 15; echo",
];

/** The transcript (stdout without the --stats line) and the stats. */
function run(args: string[]): { transcript: string; stats: { reason: string; instructions: number } } {
  // A restore takes the clock from the state.
  const r = boot([...(args.includes("--restore") ? [] : ["--clock", "deterministic"]), "--stats", ...args], 120);
  assert.equal(r.code, 0, `exit ${r.code}\n${r.err}\n${r.out.slice(-3000)}`);
  const cut = r.out.lastIndexOf("\n{");
  return { transcript: r.out.slice(0, cut), stats: JSON.parse(r.out.slice(cut + 1)) };
}

test("deterministic: boot + A + B is (boot + A, --save-state) then (--restore + B): same transcript and instruction count", () => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-snap-"));
  try {
    const share = join(dir, "share");
    mkdirSync(share);
    writeFileSync(join(share, "data"), "line one\nline two\n");
    writeFileSync(join(dir, "disk0.img"), new Uint8Array(1 << 20));
    copyFileSync(join(dir, "disk0.img"), join(dir, "disk1.img"));
    const devices = (disk: string) => [
      "--device", `blk,transport=pci-modern,image=${join(dir, disk)}`,
      "--device", "net,transport=mmio-v2,backend=host",
      "--device", `9p,transport=pci-legacy,path=${share}`,
    ];
    const cmds = (cs: string[]) => cs.flatMap((c) => ["--cmd", c]);
    const state = join(dir, "s.vmstate");

    const whole = run([...devices("disk0.img"), ...cmds([...A, ...B])]);
    const first = run([...devices("disk1.img"), ...cmds(A), "--save-state", state]);
    const second = run(["--restore", state, ...devices("disk1.img"), ...cmds(B)]);

    assert.equal(first.stats.reason, "saved");
    assert.equal(second.stats.reason, "poweroff");
    // The commands did what they say (from the data the test wrote, not from the emulator).
    assert.equal(outputOf(whole.transcript, A[1]!), "line one\n");
    assert.equal(outputOf(whole.transcript, B[0]!), "line two\n");
    assert.equal(outputOf(whole.transcript, B[1]!), "vireo-42\nvireo-42\n");
    assert.equal(outputOf(whole.transcript, B[2]!), "1\n");
    assert.ok(!second.transcript.includes("Linux version"), "the restored run did not boot");
    assert.equal(first.transcript + second.transcript, whole.transcript, "transcripts");
    assert.equal(second.stats.instructions, whole.stats.instructions, "instructions retired");
    assert.deepEqual(readFileSync(join(dir, "disk1.img")), readFileSync(join(dir, "disk0.img")), "disk contents");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--restore refuses a truncated file, a missing disk or another disk: exit 6, one line, nothing runs", () => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-snap-"));
  try {
    const disk = join(dir, "disk.img");
    writeFileSync(disk, new Uint8Array(1 << 20));
    const state = join(dir, "s.vmstate");
    const saved = boot(["--clock", "deterministic", "--device", `blk,transport=mmio-v2,image=${disk}`, "--cmd", "echo hi > /tmp/x", "--save-state", state], 120);
    assert.equal(saved.code, 0, saved.err);
    const good = readFileSync(state);
    // The other kinds of damage are tests/devices/state/file.test.ts's; this one shows the CLI's outcome.
    const cases: [string, (f: string) => void, RegExp][] = [
      ["truncated", (f) => writeFileSync(f, good.subarray(0, good.length - 1000)), /truncated state file/],
    ];
    for (const [what, make, re] of cases) {
      const f = join(dir, `${what}.vmstate`);
      make(f);
      const r = boot(["--restore", f, "--device", `blk,transport=mmio-v2,image=${disk}`, "--cmd", "echo RAN"], 60);
      assert.equal(r.code, 6, `${what}: exit ${r.code}\n${r.err}`);
      assert.match(r.err, re, what);
      assert.equal(r.err.trim().split("\n").length, 1, `${what}: one line\n${r.err}`);
      assert.ok(!r.out.includes("RAN"), `${what}: nothing ran`);
    }
    // Without its disk, and with a disk that changed since the save.
    const noDisk = boot(["--restore", state, "--cmd", "echo RAN"], 60);
    assert.equal(noDisk.code, 6, noDisk.err);
    assert.match(noDisk.err, /saved with --device blk,transport=mmio-v2,image=/);
    writeFileSync(disk, new Uint8Array(1 << 20).fill(1));
    const changed = boot(["--restore", state, "--device", `blk,transport=mmio-v2,image=${disk}`, "--cmd", "echo RAN"], 60);
    assert.equal(changed.code, 6, changed.err);
    assert.match(changed.err, /is not the disk the state was saved with/);
    assert.ok(!changed.out.includes("RAN"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
