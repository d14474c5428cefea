// examples/outside-project, as a user outside this repository has it: the package is packed
// (npm pack), the example copied to a temporary directory and the tarball installed there with
// npm (dependencies from the registry or npm's cache; nothing from this checkout but the
// tarball), then (a) a Node script boots the default guest and runs `uname -m`, (b) `npx vireo
// boot` does the same, (c) the example's TypeScript checks against the package's types, and
// (d) its Playwright tests run on the vm fixture: its own kernel command line, images given as
// bytes, five tests resumed from one state a worker fixture saved, a failing test whose report
// carries the console transcript, and the guest in the page the package ships, in Chromium;
// and (e) its own HTML page embedding the VM through vireo/browser, built and served by Vite,
// opened in Chromium (about 15 s of the run). About two minutes on 2 cores.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../../", import.meta.url).pathname;
const repoPackage = (name: string): string => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;

function run(cmd: string, args: string[], cwd: string, timeoutS: number) {
  // Debian's Chromium for the example's browser test (Playwright downloads none here).
  const env: NodeJS.ProcessEnv = { VIREO_CHROMIUM: "/usr/bin/chromium", ...process.env };
  delete env.NODE_OPTIONS; // nothing may smuggle tsx in: the package runs as plain JavaScript
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: timeoutS * 1000, maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout ?? "", err: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
}

test("the packed package installs into an outside project and its Node, CLI, type and Playwright checks pass", { timeout: 600_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-example-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const built = run(process.execPath, ["scripts/build-lib.mjs"], root, 180);
  assert.equal(built.code, 0, built.err);
  // The public types are the package's API: none may be `any`.
  const typesDir = join(root, "dist-node/types");
  for (const f of readdirSync(typesDir, { recursive: true, encoding: "utf8" }).filter((x) => x.endsWith(".d.ts"))) {
    const text = readFileSync(join(typesDir, f), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    assert.doesNotMatch(text, /\bany\b/, `dist-node/types/${f} has an any`);
  }
  const packed = run("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], root, 60);
  assert.equal(packed.code, 0, packed.err);
  const tarball = readdirSync(dir).find((f) => /^vireo-0\.\d+\.\d+\.tgz$/.test(f));
  assert.ok(tarball, `npm pack made ${readdirSync(dir).join(", ")}`);

  const project = join(dir, "project");
  cpSync(join(root, "examples/outside-project"), project, { recursive: true, filter: (src) => !/node_modules|test-results/.test(src) });
  const deps = [`../${tarball}`, ...["@playwright/test", "@types/node", "typescript", "vite"].map((p) => `${p}@${repoPackage(p)}`)];
  const installed = run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...deps], project, 180);
  assert.equal(installed.code, 0, installed.err);

  // (a) A Node script: plain JavaScript importing "vireo".
  const boot = run(process.execPath, ["boot.mjs"], project, 120);
  assert.equal(boot.code, 0, boot.err + boot.out);
  assert.match(boot.out, /^uname -m: i686 \(exit status 0\)$/m);

  // (b) The package's command.
  const cli = run("npx", ["--no-install", "vireo", "boot", "--cmd", "uname -m"], project, 120);
  assert.equal(cli.code, 0, cli.err);
  assert.match(cli.out, /^i686\r?$/m);

  // (c) The example's TypeScript against the package's .d.ts (skipLibCheck off: they are checked too).
  const tsc = run("npx", ["--no-install", "tsc", "-p", "."], project, 120);
  assert.equal(tsc.code, 0, tsc.out + tsc.err);

  // (d) Its Playwright tests, with a JSON report to read the attachments from.
  const pw = run("npx", ["--no-install", "playwright", "test", "--reporter=json"], project, 300);
  const report = JSON.parse(pw.out) as PwReport;
  assert.equal(pw.code, 0, pw.err + pw.out.slice(-4000));
  const tests = report.suites.flatMap(allSpecs).flatMap((s) => s.tests.map((x) => ({ title: s.title, ...x })));
  assert.equal(tests.length, 11, tests.map((x) => x.title).join(", "));
  assert.equal(tests.find((x) => x.title === "in the browser")?.status, "expected");
  // (e) The project's own page, vireo/browser in it (page/main.ts; tests/page.spec.ts builds and serves it with Vite).
  assert.equal(tests.find((x) => x.title === "a page embedding vireo/browser boots the guest and runs a command from its code")?.status, "expected");
  assert.equal(tests.filter((x) => /^resumed state, test \d$/.test(x.title) && x.status === "expected").length, 5);
  const failing = tests.find((x) => x.title === "a failure attaches the console transcript")!;
  const transcript = failing.results[0]!.attachments.find((a) => a.name === "console transcript");
  assert.ok(transcript?.body, JSON.stringify(failing.results[0]!.attachments.map((a) => a.name)));
  assert.match(Buffer.from(transcript.body, "base64").toString(), /printed-before-failing/);
  const inPage = tests.find((x) => x.title === "a failure in the browser attaches the inspector snapshot")!;
  const attached = Object.fromEntries(inPage.results[0]!.attachments.map((a) => [a.name, Buffer.from(a.body ?? "", "base64").toString()]));
  assert.match(attached["console transcript"] ?? "", /in-the-page/);
  // The inspector's view of the board: the virtio-rng device asked for, on PCI.
  assert.match(attached["inspector snapshot"] ?? "", /"pci-modern"|rng|1af4/i);
  for (const x of tests) if (x.title !== failing.title && x !== inPage) assert.equal(x.results[0]!.attachments.length, 0, `${x.title}: attachments on a passing test`);
});

interface PwSpec { title: string; tests: { status: string; results: { attachments: { name: string; body?: string }[] }[] }[] }
interface PwSuite { specs: PwSpec[]; suites?: PwSuite[] }
interface PwReport { suites: PwSuite[] }
function allSpecs(s: PwSuite): PwSpec[] {
  return [...s.specs, ...(s.suites ?? []).flatMap(allSpecs)];
}
