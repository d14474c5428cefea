// The JIT under stress, as issue #24 found it: a very low threshold on the realtime clock
// translates nearly every block as soon as it runs, with compiles arriving in the background
// at moments that differ from run to run — while the kernel frees and poisons its init text,
// rewrites code pages and reuses them. A stale translation installed for a rewritten page
// (the #24 bug) panicked about half of such boots. The boot must reach the shell and run a
// command whose result is checked; the timeouts bound the test on a slow machine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

const root = new URL("../../", import.meta.url).pathname;

// Threshold 1 compiles every block on its first run (queued, many to a module: one module per
// block made this boot take two minutes); threshold 2 on its second.
for (const jit of ["1", "2"]) {
  test(`boot with --jit ${jit} on the realtime clock reaches the shell and computes`, () => {
    const args = ["--import", "tsx", "cli/boot.ts", "--timeout", "240", "--jit", jit,
      "--cmd", "echo ok-$((6*7)); md5sum /bin/busybox | cut -c1-8", "--stats"];
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", timeout: 300_000 });
    const out = r.stdout.replace(/\r/g, "");
    assert.doesNotMatch(out, /Kernel panic|int3:|Oops/, `--jit ${jit}: the guest kernel failed\n${out.slice(-3000)}`);
    assert.equal(r.status, 0, `--jit ${jit}: exit ${r.status}\n${r.stderr}\n${out.slice(-2000)}`);
    assert.match(out, /\nok-42\n/);
    // busybox's own digest, computed by the guest: the same as the host computes of the file.
    assert.match(out, new RegExp(`\\n${busyboxMd5().slice(0, 8)}\\n`));
    const stats = JSON.parse(out.slice(out.lastIndexOf("\n{") + 1));
    assert.ok(stats.jit.blocks > 1000, `most of the boot ran translated: ${JSON.stringify(stats.jit)}`);
  });
}

/** md5 of /bin/busybox inside the default initramfs, from the host's own tools. */
function busyboxMd5(): string {
  const sh = "zcat guest-images/initramfs.cpio.gz | (d=$(mktemp -d); cd $d && cpio -id --quiet bin/busybox && md5sum bin/busybox; rm -rf $d)";
  const r = spawnSync("sh", ["-c", sh], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.slice(0, 32);
}
