// The JIT must be invisible to the guest: with the deterministic clock, timer interrupts land
// at fixed instruction counts, so if translated blocks retired instructions differently (or
// took interrupts at other boundaries) the boot would diverge and stop at another count.
// Boots the default guest to its ready line through the real CLI, interpreted and with a low
// threshold (so most of the boot runs translated), and compares the retired-instruction counts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

const root = new URL("../../", import.meta.url).pathname;

function bootStats(jit: string): { instructions: number; jit: { blocks: number; inline: number } } {
  const args = ["--import", "tsx", "cli/boot.ts", "--timeout", "60", "--jit", jit,
    "--clock", "deterministic", "--expect", "vireo-guest: ready", "--stats"];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", timeout: 90_000 });
  const out = r.stdout.replace(/\r/g, "");
  assert.equal(r.status, 0, `--jit ${jit}: exit ${r.status}\n${r.stderr}\n${out.slice(-2000)}`);
  const stats = JSON.parse(out.slice(out.lastIndexOf("\n{") + 1));
  assert.equal(stats.reason, "expect");
  return stats;
}

test("boot to 'vireo-guest: ready' retires the same instructions with --jit off and --jit 50", {
}, () => {
  const off = bootStats("off");
  const on = bootStats("50");
  assert.equal(off.jit.blocks, 0, "--jit off translated nothing");
  assert.ok(on.jit.blocks > 1000 && on.jit.inline > 0, `the JIT run compiled blocks: ${JSON.stringify(on.jit)}`);
  assert.equal(on.instructions, off.instructions, "instructions retired up to the ready line");
});
