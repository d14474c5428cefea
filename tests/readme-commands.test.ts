// Every command README.md tells a user to run (tests/readme.ts reads them from its text): the
// quick ones run as documented, from the repository's root as npm runs them, at most two at a
// time, and must do what the README says; the slow ones are listed below with the reason they
// are not run here. A command no rule classifies fails the test, so a new README command must be
// given one. Files a command names that do not exist (disk.img, ./shared) are made in a temp
// directory, as a user would make them, and the command is pointed there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readmeCommands, type DocCommand } from "./readme.ts";

const root = new URL("../", import.meta.url).pathname;
const PARALLEL = 2;
const TIMEOUT_S = 300; // a boot takes 2-15 s; a loaded CI machine may take ten times that

type Plan =
  | { skip: string }
  /** `npm run boot -- …`: boot, type the --cmd lines (or `poweroff -f` when interactive), check the transcript. */
  | { run: "boot" }
  /** `… --help`: exit 0, and the help names every option the README uses with that command. */
  | { run: "help" }
  /** Exit 0 and nothing else to check (its own output is the check, e.g. `build.sh --check`); `first`: before the others, alone. */
  | { run: "exit0"; first?: boolean }
  /** `guest-images/build.sh --data-disk`, in a copy of guest-images/: the image it makes passes --check. */
  | { run: "data-disk" };

/** First match wins. Every README command must match one; a rule no command matches is stale. */
const RULES: { match: RegExp; plan: Plan }[] = [
  { match: /^npm install && npm start$|^npm start$/, plan: { skip: "serves the page until stopped: the Playwright project 'dev' (npm run test:e2e) boots the guest on the server it runs" } },
  { match: /^npm install && npm test$|^npm test$/, plan: { skip: "the whole suite, this test included" } },
  { match: /^npm install$/, plan: { skip: "every test runs in an installed checkout" } },
  { match: /^VIREO_WITH_DISTRO=1 npm run build$/, plan: { skip: "the page's build with the Debian image of guest-images/build.sh --distro debian (not committed) copied into dist/" } },
  { match: /^npm run build$/, plan: { skip: "npm test runs its steps (build:core, typecheck, and vite build in test:e2e)" } },
  { match: /^npm run test:e2e$|^npx playwright test /, plan: { skip: "the Playwright tests: part of npm test" } },
  { match: /^npm run wisp -- --port \d+ --allow loopback$/, plan: { skip: "a relay serving until stopped: tests/cli/wisp-relay.test.ts runs the relay and its client over a WebSocket, e2e/wisp.spec.ts the page through the preview server's relay" } },
  { match: /^npm run bench$/, plan: { skip: "minutes of benchmarks (5 on 2 cores)" } },
  { match: /^npm run bench -- --only snapshot$/, plan: { skip: "a benchmark: about 15 save/boot/restore runs, a minute" } },
  { match: /^npm run bench -- --only net,reference$/, plan: { skip: "a benchmark: 16 MiB each way through the NAT and through QEMU's user networking, three runs, about 3 minutes" } },
  { match: /^npm run bench -- --only page$/, plan: { skip: "a benchmark: the page in headless Chromium, about 3 minutes" } },
  { match: /^npm run bench -- --only cpu,cpu-nojit,boot,kernel,reference --runs 3$/, plan: { skip: "a benchmark: the speed sections, about 3 minutes" } },
  { match: /^node --import tsx bench\//, plan: { skip: "a benchmark: many boots, minutes" } },
  { match: / …$/, plan: { skip: "placeholder arguments: the CLI that `npm run boot` runs, whose examples run here" } },
  { match: /^guest-images\/build\.sh(?: --deps)?$/, plan: { skip: "builds two kernels from source: about 5 minutes (--deps installs Debian packages first)" } },
  { match: /^guest-images\/build\.sh --distro debian$/, plan: { skip: "builds a Debian system with debootstrap: root, Debian's archive, about 30 minutes" } },
  { match: /^npm run boot -- --guest debian /, plan: { skip: "needs the image of guest-images/build.sh --distro debian (not committed); a systemd boot takes minutes" } },
  { match: /^npm run disk-manifest -- guest-images\/debian\/rootfs\.img$/, plan: { skip: "needs the image of guest-images/build.sh --distro debian (not committed); tests/devices/host/streamed-disk.test.ts checks the manifest against node:crypto" } },
  { match: /^npm run bench -- --only debian(?:,reference)?$/, plan: { skip: "a benchmark: Debian booted under Vireo (and QEMU), minutes per run" } },
  { match: /^guest-images\/distro\/debian\.sh$/, plan: { skip: "what guest-images/build.sh --distro debian runs (root, Debian's archive, about 30 minutes)" } },
  { match: /^guest-images\/qemu-smoke\.sh/, plan: { skip: "a developer tool: needs qemu-system-x86 and boots five QEMU guests" } },
  { match: /^\.ci\/run$/, plan: { skip: "CI's entry point: installs packages, then npm ci and npm test" } },
  { match: /^npm run fuzz(?::cpu(?:-native)?)? -- --time N/, plan: { skip: "placeholder N: the fuzz properties run in npm test with their small budgets" } },
  { match: /^node --import tsx tests\/core-wasm\/x87-measure\.ts N$/, plan: { skip: "placeholder N: a report, not a test; npm test runs its cases in cpu-native.fuzz.test.ts" } },
  { match: /^node scripts\/build-core\.mjs --profile$/, plan: { skip: "a build variant for profiling; npm test builds and tests the release core" } },
  { match: /^node --perf-prof$/, plan: { skip: "a V8 flag named in the text, not a command" } },
  { match: /--save-increment i\.vmstate$|^npm run boot -- --restore s\.vmstate --restore i\.vmstate /, plan: { skip: "a chain (an increment over s.vmstate, then both resumed): tests/cli/snapshot-increment.test.ts runs it and checks the result against the whole state" } },
  { match: /--save-state s\.vmstate$|^npm run boot -- --restore s\.vmstate /, plan: { skip: "a pair (save, then resume the file the first made): tests/cli/snapshot.test.ts runs both halves and checks vireo-42" } },
  { match: /^npm run boot -- --initrd truncated\.cpio\.gz$/, plan: { skip: "a damaged file the README names: tests/cli/fail-fast.test.ts makes one and checks exit 2 and the message" } },
  { match: /^node dist-node\/boot\.mjs --kernel ~\/\.cache\/vireo-bench\//, plan: { skip: "boots the stock kernel the bench downloads (npm run bench -- --only kernel); minutes" } },
  { match: /^npm install vireo @playwright\/test$/, plan: { skip: "installs the package into another project: tests/examples/outside-project.test.ts installs the packed tarball that way and runs a project's tests with it" } },
  { match: /^npm pack$/, plan: { skip: "writes vireo-x.y.z.tgz here after a full build (prepack, prepare): tests/examples/outside-project.test.ts packs into a temp directory and installs the tarball" } },
  { match: /^npm run build:lib$/, plan: { skip: "tests/examples/outside-project.test.ts runs it (scripts/build-lib.mjs) before packing" } },
  { match: /^npx vireo boot$/, plan: { skip: "the package's command, in a project that installed it: tests/examples/outside-project.test.ts runs `npx vireo boot --cmd 'uname -m'` there" } },
  // typedoc with treatWarningsAsErrors: fails on an undocumented public name (about 30 s).
  { match: /^npm run docs:api$/, plan: { run: "exit0" } },
  // It rewrites dist-node/, which the boots run.
  { match: /^npm run build:node$/, plan: { run: "exit0", first: true } },
  { match: /^guest-images\/build\.sh --check$/, plan: { run: "exit0" } },
  { match: /^guest-images\/build\.sh --data-disk$/, plan: { run: "data-disk" } },
  { match: /^npm run \S+ -- --help$/, plan: { run: "help" } },
  { match: /^npm run boot(?: -- .*)?$/, plan: { run: "boot" } },
];

/** What the README says a command does, beyond running cleanly; each must still match a command. */
const CLAIMS: { about: RegExp; says: string; check: (out: string, files: Made) => boolean }[] = [
  { about: /md5sum \/dev\/vda/, says: "the guest reads the image file's bytes", check: (out, f) => out.includes(f.diskMd5) },
  { about: /irq=msix.*\/proc\/interrupts/, says: "irq=msix gives the virtio-pci device MSI-X", check: (out) => /PCI-MSI/.test(afterFirstPrompt(out)) },
  { about: /path=\S+.*mount -t 9p.*ls -l \/mnt/, says: "the guest sees the shared folder's files", check: (out, f) => afterFirstPrompt(out).includes(f.sharedFile) },
  { about: /backend=nat.*nslookup -type=a localhost/, says: "the NAT's DNS server answers from this machine's resolver", check: (out) => /Server:\s+10\.0\.2\.3\n[^]*Address:\s+127\.0\.0\.1/.test(afterFirstPrompt(out)) },
  { about: /ping -c 3 10\.0\.2\.2/, says: "the built-in host answers ping", check: (out) => / 0% packet loss/.test(out) },
];

const PROMPT = /vireo:[^\n]*# /;
// eslint-disable-next-line no-control-regex
const CSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
const KERNEL_LINE = /^\[ *\d+\.\d+\] .*\n?/gm;
/** How busybox and the shell report a failed command. */
const GUEST_ERROR = /^(?:[\w./-]+: .*(?:not found|No such file|can't|[Ii]nvalid|[Uu]nrecognized|unreachable|[Pp]ermission denied|failed)|Usage: |BusyBox v\S+ .*multi-call binary)/m;

interface Made {
  dir: string;
  disk: Buffer;
  diskMd5: string;
  sharedFile: string;
}

function planOf(c: DocCommand): Plan | undefined {
  return RULES.find((r) => r.match.test(c.text))?.plan;
}

function afterFirstPrompt(out: string): string {
  const at = out.search(PROMPT);
  return at < 0 ? "" : out.slice(at);
}

/** The words bash makes of a command line (so the README's quoting is read as a shell reads it). */
function words(text: string): string[] {
  const r = spawnSync("bash", ["-c", `printf '%s\\0' ${text}`], { encoding: "utf8" });
  assert.equal(r.status, 0, `bash cannot parse: ${text}\n${r.stderr}`);
  return r.stdout.split("\0").slice(0, -1);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Point `image=FILE` / `path=DIR` at files made in the temp dir when the README's do not exist. */
function withFiles(text: string, made: Made): string {
  return text.replace(/\b(image|path)=([^,\s'"]+)/g, (all, key: string, value: string) => {
    if (existsSync(join(root, value))) return all;
    return `${key}=${join(made.dir, key, value)}`;
  });
}

function makeFiles(): Made {
  // A raw disk image (whole 512-byte sectors) with contents of its own, so its md5 says something.
  const disk = Buffer.alloc(4 << 20);
  for (let i = 0; i < disk.length; i += 4) disk.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i);
  return {
    dir: mkdtempSync(join(tmpdir(), "vireo-readme-")),
    disk,
    diskMd5: createHash("md5").update(disk).digest("hex"),
    sharedFile: "from-the-host.txt",
  };
}

/** Create what withFiles pointed at: a disk image for image=, a folder with a file for path=. */
function createFiles(text: string, made: Made): void {
  for (const m of text.matchAll(/\b(image|path)=([^,\s'"]+)/g)) {
    const [, key, value] = m as unknown as [string, string, string];
    if (!value.startsWith(made.dir)) continue;
    if (key === "image" && !existsSync(value)) {
      mkdirSync(join(value, ".."), { recursive: true });
      writeFileSync(value, made.disk);
    }
    if (key === "path" && !existsSync(value)) {
      mkdirSync(value, { recursive: true });
      writeFileSync(join(value, made.sharedFile), "written on the host\n");
    }
  }
}

interface Result {
  code: number | null;
  out: string;
  err: string;
  seconds: number;
}

/** Run a command line with bash from the repository root; `onOutput` may answer on stdin. */
function run(text: string, onOutput?: (out: string, stdin: NodeJS.WritableStream) => void, cwd = root): Promise<Result> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    // Its own process group, so a timeout ends npm, node and the VM worker together.
    const child = spawn("bash", ["-c", text], { cwd, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      err += `\n(test: killed after ${TIMEOUT_S} s)`;
      process.kill(-child.pid!, "SIGKILL");
    }, TIMEOUT_S * 1000);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      onOutput?.(out, child.stdin);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.stdin.on("error", () => {}); // the VM may exit before it reads what was typed
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out: out.replace(/\r/g, "").replace(CSI, ""), err, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

function report(c: DocCommand, text: string, r: Result): string {
  return `README line ${c.line}: ${text}\nexit ${r.code} after ${r.seconds.toFixed(1)} s\n--- stdout (end)\n${r.out.slice(-3000)}\n--- stderr (end)\n${r.err.slice(-1500)}`;
}

async function runBoot(c: DocCommand, made: Made): Promise<void> {
  let text = withFiles(c.text, made);
  // A guest block: its lines are typed at the prompt, as --cmd does (npm passes options after `--`).
  if (c.guest) text += (/ --( |$)/.test(text) ? "" : " --") + c.guest.map((g) => ` --cmd ${shellQuote(g)}`).join("");
  createFiles(text, made);
  const argv = words(text);
  const cmds = argv.flatMap((w, i) => (argv[i - 1] === "--cmd" ? [w] : []));
  const expects = argv.flatMap((w, i) => (argv[i - 1] === "--expect" ? [w] : []));
  // As cli/boot.ts decides: no --cmd and no --expect is the interactive console. The README says
  // `poweroff -f` exits it: type that at the first prompt.
  const interactive = cmds.length === 0 && expects.length === 0;
  let typed = false;
  const r = await run(text, (out, stdin) => {
    if (interactive && !typed && PROMPT.test(out.replace(CSI, ""))) {
      typed = true;
      stdin.write("poweroff -f\n");
    }
  });
  const why = report(c, text, r);
  assert.equal(r.code, 0, why);
  const out = r.out.replace(KERNEL_LINE, "");
  for (const e of expects) assert.ok(r.out.includes(e), `--expect '${e}' not seen\n${why}`);
  // Each command typed at a prompt, and its output up to the next prompt free of error messages.
  let at = 0;
  for (const cmd of interactive ? ["poweroff -f"] : cmds) {
    // The echo breaks at the terminal's width (80 columns): a line break may come anywhere in it.
    const m = new RegExp(PROMPT.source + [...cmd].map(escapeRe).join("\n?") + "\n").exec(out.slice(at));
    assert.ok(m, `'${cmd}' was not typed at a prompt\n${why}`);
    at += m.index + m[0].length;
    const next = out.slice(at).search(PROMPT);
    const output = out.slice(at, next < 0 ? undefined : at + next);
    assert.doesNotMatch(output, GUEST_ERROR, `'${cmd}' failed in the guest:\n${output}\n${why}`);
  }
  if (argv.includes("--stats")) {
    assert.ok(r.out.split("\n").some((l) => l.startsWith("{") && isJson(l)), `--stats printed no JSON line\n${why}`);
  }
  for (const claim of CLAIMS) {
    if (claim.about.test(text)) assert.ok(claim.check(r.out, made), `the README says ${claim.says}\n${why}`);
  }
}

async function runHelp(c: DocCommand, all: DocCommand[]): Promise<void> {
  const r = await run(c.text);
  const why = report(c, c.text, r);
  assert.equal(r.code, 0, why);
  // The options the README uses with the same command must be in its list.
  const base = c.text.slice(0, -"--help".length);
  const used = new Set(all.filter((o) => o.text.startsWith(base)).flatMap((o) => words(o.text).filter((w) => /^--[a-z]/.test(w))));
  for (const opt of used) assert.ok(r.out.includes(opt) || r.err.includes(opt), `'${c.text}' does not list ${opt}\n${why}`);
}

async function runDataDisk(c: DocCommand, made: Made): Promise<void> {
  // It writes into its own directory and a work dir: a copy of guest-images/ and a private work dir
  // keep the checkout and other runs out of it.
  const copy = join(made.dir, "checkout");
  cpSync(join(root, "guest-images"), join(copy, "guest-images"), { recursive: true });
  const env = `VIREO_GUEST_WORK=${shellQuote(join(made.dir, "guest-work"))}`;
  const built = await run(`${env} ${c.text}`, undefined, copy);
  assert.equal(built.code, 0, report(c, c.text, built));
  const checked = await run("guest-images/build.sh --check", undefined, copy);
  assert.equal(checked.code, 0, report(c, `${c.text} && guest-images/build.sh --check`, checked));
  // The README: bit-identical output, unless a package version differs from the manifest's.
  const pkgs: Record<string, string> = JSON.parse(readFileSync(join(root, "guest-images/manifest.json"), "utf8")).packages;
  const same = ["e2fsprogs", "gzip"].every((p) => spawnSync("dpkg-query", ["-W", "-f=${Version}", p], { encoding: "utf8" }).stdout === pkgs[p]);
  const image = "guest-images/data-ext2.img.gz";
  if (same) assert.ok(readFileSync(join(copy, image)).equals(readFileSync(join(root, image))), `${c.text} made a different ${image} with the manifest's e2fsprogs and gzip`);
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const commands = readmeCommands(readFileSync(join(root, "README.md"), "utf8"), root);

test("every README command is classified, and every rule and claim still matches one", () => {
  assert.ok(commands.length > 10, "the README's commands were not found");
  const texts = commands.map((c) => c.text + (c.guest ? " " + c.guest.join(" ") : ""));
  assert.deepEqual(
    {
      unclassified: commands.filter((c) => !planOf(c)).map((c) => `line ${c.line}: ${c.text}`),
      staleRules: RULES.filter((r) => !texts.some((t) => r.match.test(t))).map((r) => String(r.match)),
      staleClaims: CLAIMS.filter((c) => !texts.some((t) => c.about.test(t))).map((c) => String(c.about)),
    },
    { unclassified: [], staleRules: [], staleClaims: [] },
    "README commands no rule here classifies (give each a rule: run, or skip with a reason), and rules or claims no README command matches any more",
  );
});

test("the README's quick commands run and do what it says", { concurrency: PARALLEL }, async (t) => {
  // A stale bundle would be rebuilt by each `npm run boot` at once, two writers on one directory.
  assert.equal(spawnSync(process.execPath, ["scripts/build-node.mjs", "--if-stale"], { cwd: root, stdio: "inherit" }).status, 0);
  const made = makeFiles();
  t.after(() => rmSync(made.dir, { recursive: true, force: true }));
  type Job = [name: string, go: () => Promise<void>, skip?: string];
  const first: Job[] = [];
  const rest: Job[] = [];
  for (const c of commands) {
    const plan = planOf(c);
    if (!plan) continue;
    const name = `line ${c.line}: ${c.text}${c.guest ? ` + guest: ${c.guest.join("; ")}` : ""}`;
    if ("skip" in plan) {
      rest.push([name, async () => {}, plan.skip]);
      continue;
    }
    const withGuest = commands.find((o) => o.guest && !c.guest && o.text === c.text);
    if (withGuest) {
      rest.push([name, async () => {}, `runs with the guest commands of line ${withGuest.line}`]);
      continue;
    }
    const go = {
      boot: () => runBoot(c, made),
      help: () => runHelp(c, commands),
      "data-disk": () => runDataDisk(c, made),
      exit0: async () => {
        const r = await run(c.text);
        assert.equal(r.code, 0, report(c, c.text, r));
      },
    }[plan.run];
    ("first" in plan && plan.first ? first : rest).push([name, go]);
  }
  for (const [name, go] of first) await t.test(name, go);
  // The rest PARALLEL at a time (the test's concurrency): a boot keeps a core busy.
  await Promise.all(rest.map(([name, go, skip]) => t.test(name, { skip }, go)));
});
