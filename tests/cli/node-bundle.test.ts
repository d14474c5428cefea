// The Node bundle (scripts/build-node.mjs → dist-node/) that `npm run boot` and the bench run:
// it builds, boots the default guest to the ready line on plain `node` (no tsx in either thread),
// and cli/launch.mjs rebuilds it when a source is newer than the build, and only then.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, utimesSync } from "node:fs";

const root = new URL("../../", import.meta.url).pathname;
const READY = "vireo-guest: ready";

function node(args: string[], timeoutS = 60) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // nothing may smuggle tsx in
  const r = spawnSync(process.execPath, args, { cwd: root, env, encoding: "utf8", timeout: timeoutS * 1000 });
  return { code: r.status, out: r.stdout.replace(/\r/g, ""), err: r.stderr };
}

test("the bundle builds and boots the default guest to the ready line without tsx", () => {
  const b = node(["scripts/build-node.mjs"]);
  assert.equal(b.code, 0, b.err);
  // The worker the bundle starts is the bundled one (dist-node/vm-worker.mjs), not cli/'s tsx
  // bootstrap: nothing in the bundle loads tsx or a .ts file.
  for (const f of ["boot.mjs", "vm-worker.mjs", "vm-child.mjs"]) {
    const text = readFileSync(`${root}dist-node/${f}`, "utf8");
    assert.doesNotMatch(text, /["']tsx|\.ts["']/, `dist-node/${f} refers to tsx or TypeScript`);
  }
  assert.match(readFileSync(`${root}dist-node/boot.mjs`, "utf8"), /new URL\("\.\/vm-worker\.mjs", import\.meta\.url\)/);

  const r = node(["dist-node/boot.mjs", "--expect", READY, "--stats", "--timeout", "60"], 90);
  assert.equal(r.code, 0, `exit ${r.code}\n${r.err}\n${r.out.slice(-2000)}`);
  assert.ok(r.out.includes(READY), r.out.slice(-2000));
  const stats = JSON.parse(r.out.slice(r.out.lastIndexOf("\n{")));
  assert.equal(stats.reason, "expect");
  assert.ok(stats.instructions > 10e6, `instructions ${stats.instructions}`);
});

test("cli/launch.mjs rebuilds the bundle when a source is newer, and runs it as is otherwise", () => {
  const source = `${root}cli/vm-worker-url.ts`; // bundled into every entry
  const { atime, mtime } = statSync(source);
  try {
    utimesSync(source, atime, new Date(Date.now() + 60_000));
    const a = node(["cli/launch.mjs", "--help"]);
    assert.equal(a.code, 0, a.err);
    assert.match(a.err, /rebuilt dist-node\/ \(cli\/vm-worker-url\.ts changed/);
    assert.match(a.out, /^usage: npm run boot/);
  } finally {
    utimesSync(source, atime, mtime);
  }
  const b = node(["cli/launch.mjs", "--help"]);
  assert.equal(b.code, 0, b.err);
  assert.equal(b.err, "", "rebuilt although nothing changed");
  assert.match(b.out, /^usage: npm run boot/);
});
