// The console fallback of panic detection: Linux's panic() line (kernel/panic.c) found once the
// line is complete, across arbitrary chunking, its printk timestamp left out; the kernel's own
// "---[ end Kernel panic" marker is not a second panic.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PanicWatch } from "../../../devices/vm/panic-watch.ts";

const log = "[    0.061000] Run /init as init process\r\n" +
  "[    0.062000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\r\n" +
  "[    0.063000] CPU: 0 PID: 1 Comm: swapper Not tainted 6.1.176 #1\r\n" +
  "[    0.064000] ---[ end Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0) ]---\r\n";

test("the panic line, complete, whatever the chunking", () => {
  for (const size of [1, 3, 17, 4096]) {
    const w = new PanicWatch();
    const found: string[] = [];
    for (let i = 0; i < log.length; i += size) {
      const f = w.observe(log.slice(i, i + size));
      if (f !== null) found.push(f);
    }
    assert.deepEqual(found, ["Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"], `chunks of ${size}`);
  }
});

test("an incomplete line is not reported yet; ordinary output never is", () => {
  const w = new PanicWatch();
  assert.equal(w.observe("[ 1.0] Kernel panic - not syncing: Attempted to kill"), null);
  assert.equal(w.observe(" init! exitcode=0x00000000\n"), "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000");
  assert.equal(new PanicWatch().observe("vireo:/# echo panic\npanic\n"), null);
});
