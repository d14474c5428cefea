// Headless boot with a shared folder on every transport at once (one virtio-9p device per
// transport, each exporting its own host directory under its own tag), through the real CLI
// with the deterministic clock. Expected values come from the host side: the files the test
// put there before boot, and what it finds in the directories after the guest powered off.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boot, outputOf } from "./virtio-boot.ts";

const TRANSPORTS = ["pci-legacy", "pci-modern", "pci-transitional", "mmio-v1", "mmio-v2"] as const;
const tagOf = (t: string) => t.replace("-", "_");

test("virtio-9p on every transport: mount, host → guest, guest → host, mkdir, rename, unlink, symlink, ls -l", () => {
  const top = mkdtempSync(join(tmpdir(), "vireo-9p-boot-"));
  try {
    for (const t of TRANSPORTS) {
      mkdirSync(join(top, t));
      writeFileSync(join(top, t, "from-host.txt"), `host says ${t}\n`);
    }
    writeFileSync(join(top, "pci-modern", "doomed"), "x");
    const m = "/mnt/pci_modern";
    // The busybox shell wraps long echoed lines at 80 columns; keep commands short.
    const cmds = [
      `for t in ${TRANSPORTS.map(tagOf).join(" ")}; do mkdir -p /mnt/$t; done`,
      "o=trans=virtio,version=9p2000.L",
      `for t in ${TRANSPORTS.map(tagOf).join(" ")}; do mount -t 9p -o $o $t /mnt/$t; done`,
      "grep 9p /proc/mounts | wc -l",
      "cat /mnt/*/from-host.txt",
      "for d in /mnt/*; do echo guest-${d##*/} > $d/g.txt; done",
      `mkdir ${m}/dir && echo deep > ${m}/dir/f`,
      `mv ${m}/dir/f ${m}/dir/moved && rm ${m}/doomed`,
      `ln -s dir/moved ${m}/link && cat ${m}/link`,
      `ls -l ${m} | awk '{print $1,$9,$10,$11}' | sort`,
      `stat -c '%s %F' ${m}/g.txt; stat -c %F ${m}/dir`,
      `sync; umount ${m} && echo unmounted`,
    ];
    const r = boot([
      "--clock", "deterministic", "--stats",
      ...TRANSPORTS.flatMap((t) => ["--device", `9p,transport=${t},path=${join(top, t)},tag=${tagOf(t)}`]),
      ...cmds.flatMap((c) => ["--cmd", c]),
    ]);
    assert.equal(r.code, 0, `exit ${r.code}\n${r.err}\n${r.out.slice(-3000)}`);
    assert.equal(outputOf(r.out, cmds[3]!), "5\n");
    // The shell's glob sorts the mount points by name: mmio_v1 mmio_v2 pci_legacy pci_modern pci_transitional.
    assert.equal(outputOf(r.out, cmds[4]!), ["mmio-v1", "mmio-v2", "pci-legacy", "pci-modern", "pci-transitional"].map((t) => `host says ${t}\n`).join(""));
    assert.equal(outputOf(r.out, cmds[8]!), "deep\n");
    const ls = outputOf(r.out, cmds[9]!).trim().split("\n").filter((l) => !l.startsWith("total"));
    assert.deepEqual(ls, [
      "-rw-r--r-- from-host.txt  ",
      "-rw-r--r-- g.txt  ",
      "drwxr-xr-x dir  ",
      "lrwxrwxrwx link -> dir/moved",
    ].sort());
    assert.equal(outputOf(r.out, cmds[10]!), `${"guest-pci_modern\n".length} regular file\ndirectory\n`);
    assert.equal(outputOf(r.out, cmds[11]!), "unmounted\n");

    // What the guest did is in the host directories.
    for (const t of TRANSPORTS) assert.equal(readFileSync(join(top, t, "g.txt"), "utf8"), `guest-${tagOf(t)}\n`);
    const pm = join(top, "pci-modern");
    assert.equal(readFileSync(join(pm, "dir", "moved"), "utf8"), "deep\n");
    assert.ok(!existsSync(join(pm, "dir", "f")) && !existsSync(join(pm, "doomed")));
    assert.ok(lstatSync(join(pm, "link")).isSymbolicLink());
    assert.equal(readlinkSync(join(pm, "link")), "dir/moved");

    const stats = JSON.parse(r.out.trim().split("\n").pop()!);
    for (const t of TRANSPORTS) {
      const s = stats.virtio[`virtio-9p${TRANSPORTS.indexOf(t)}`];
      assert.equal(s.transport, t);
      assert.ok(s.requests > 0 && s.interrupts > 0, JSON.stringify(s));
      assert.equal(s.protoErrors, 0);
      assert.equal(s.rejected, 0);
    }
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});
