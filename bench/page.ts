// The bench's `page` section: what the page costs in a browser (issue #22). The built page
// (`vite build`, served by `vite preview`) in headless Chromium, driven by Playwright; the CPU
// time of every Chromium process is read from /proc/<pid>/stat at both ends of a window.
//
// States, each one window: the page open with the VM off; the default guest (`?autoboot=1`)
// idle at its prompt (measured from AT_PROMPT_S after the prompt, as issue #22 did); the same
// with the tab hidden. Then key press → echo on the terminal, for `keys` keys. Alongside, the
// renderer's own counters (CDP Performance.getMetrics) over each window: style recalculations,
// layouts and main-thread task time; and after it, a short trace that counts the frames the
// main thread made, whatever asked for them (a blinking text caret restyles nothing).
//
// The first window starts BROWSER_WARMUP_S after the browser's launch: a fresh profile's
// Chromium does its own chores in the first ~40 s (loading its profile databases, ~0.3 CPU s
// around 30 s after launch, with no page open), which no tab left open pays and which would
// otherwise land in whichever window was running then.
//
// Headless Chromium never hides a page (another tab in front, a minimized window: the page
// stays "visible"), so the hidden state is the page's own: document.visibilityState reads
// "hidden" and a visibilitychange event is sent, which is all the page reacts to. The browser
// itself goes on as for a visible tab — a real hidden tab costs no more than this.
//
// `node --import tsx bench/page.ts [--seconds S] [--keys N] [--warmup S] [--at-prompt S]` runs it
// alone and prints JSON.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type CDPSession, type Page } from "playwright-core";
import { PROMPT_RE } from "../devices/vm/config.ts";

// What runs in the page is source text, not functions: tsx would wrap a function's inner
// functions in its __name helper, which the page does not have (and bench/ has no DOM types).

const root = fileURLToPath(new URL("../", import.meta.url));
/** Debian's Chromium, as the e2e tests use it (playwright.config.ts). */
const CHROMIUM = process.env.VIREO_CHROMIUM ?? "/usr/bin/chromium";
/** The e2e tests' launch flags (playwright.config.ts), so the figures are of the browser they test. */
const LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

/** CPU of the browser over a window, in % of one core: all processes, and the two that matter. */
export interface BrowserCpu {
  browser: number;
  /** The page's renderer process (main thread, the VM worker, the compositor). */
  renderer: number;
  /** The GPU process (software compositing under --disable-gpu). */
  gpu: number;
}

/** The renderer's counters over a window, per second (CDP Performance.getMetrics). */
export interface FrameWork {
  styleRecalcs: number;
  layouts: number;
  /** Main-thread task time, in % of the window. */
  taskPct: number;
}

export interface PageState {
  cpu: BrowserCpu;
  /**
   * The renderer's threads by name, % of a core: MAIN_THREAD (the page's), "DedicatedWorker"
   * (the VM), "Compositor", "ThreadPoolForeg" (raster, V8's concurrent GC)…
   */
  threads: Record<string, number>;
  frames: FrameWork;
  /** Frames the renderer's main thread made per second (ProxyMain::BeginMainFrame in a trace of FRAME_TRACE_S after the window). */
  mainFrames: number;
  seconds: number;
}

/** The renderer's main thread in PageState.threads (its comm is the process's, "chromium"). */
export const MAIN_THREAD = "main";
/** Seconds from the browser's launch before the first window (see the top of this file). */
export const BROWSER_WARMUP_S = 45;
/** Seconds the guest sits at its prompt before the idle window (issue #22's 15). */
export const AT_PROMPT_S = 15;
/** The traced stretch that counts frames, after each window. */
const FRAME_TRACE_S = 5;

export interface PageRun {
  off: PageState;
  idle: PageState;
  hidden: PageState;
  /** ms from each key's keydown event to the echoed character in the terminal's rows. */
  echoMs: number[];
  /** Power-on to the first prompt, ms. */
  bootMs: number;
}

export interface PageOptions {
  /** Length of each measured window. */
  seconds: number;
  /** Seconds from the browser's launch to the first window (BROWSER_WARMUP_S). */
  warmupS: number;
  /** Seconds at the prompt before the idle window (AT_PROMPT_S). */
  atPromptS: number;
  /** Keys typed for the echo latency. */
  keys: number;
  log: (s: string) => void;
}

type ProcKind = keyof BrowserCpu;
let clkTck = 0;

/** CPU seconds (user+sys) of `pid` and every process below it, by kind. */
function processTree(pid: number): Map<number, { kind: ProcKind; cpuS: number }> {
  clkTck ||= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;
  const parent = new Map<number, number>(), cpu = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, "utf8");
      const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // fields from the 3rd on
      parent.set(Number(name), Number(f[1]));
      cpu.set(Number(name), (Number(f[11]) + Number(f[12])) / clkTck);
    } catch { /* gone meanwhile */ }
  }
  const out = new Map<number, { kind: ProcKind; cpuS: number }>();
  for (const [p, c] of cpu) {
    let q: number | undefined = p;
    while (q !== undefined && q > 1 && q !== pid) q = parent.get(q);
    if (q !== pid) continue;
    let cmd = "";
    try { cmd = readFileSync(`/proc/${p}/cmdline`, "utf8"); } catch { /* gone */ }
    const kind: ProcKind = cmd.includes("--type=renderer") ? "renderer" : cmd.includes("--type=gpu-process") ? "gpu" : "browser";
    out.set(p, { kind, cpuS: c });
  }
  return out;
}

/** % of a core per kind between two process-tree snapshots (a process started between them counts from 0). */
function cpuShare(a: ReturnType<typeof processTree>, b: ReturnType<typeof processTree>, wallS: number): BrowserCpu {
  const s = { browser: 0, renderer: 0, gpu: 0 };
  for (const [pid, p] of b) {
    const d = p.cpuS - (a.get(pid)?.cpuS ?? 0);
    s.browser += d;
    if (p.kind !== "browser") s[p.kind] += d;
  }
  return { browser: (100 * s.browser) / wallS, renderer: (100 * s.renderer) / wallS, gpu: (100 * s.gpu) / wallS };
}

/** CPU seconds of each thread of the renderer processes, by thread id, with their names. */
function rendererThreads(tree: ReturnType<typeof processTree>): Map<string, { name: string; cpuS: number }> {
  const out = new Map<string, { name: string; cpuS: number }>();
  for (const [pid, p] of tree) {
    if (p.kind !== "renderer") continue;
    let tids: string[] = [];
    try { tids = readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tids) {
      try {
        const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const name = tid === String(pid) ? MAIN_THREAD : s.slice(s.indexOf("(") + 1, s.lastIndexOf(")"));
        const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
        out.set(`${pid}/${tid}`, { name, cpuS: (Number(f[11]) + Number(f[12])) / clkTck });
      } catch { /* gone */ }
    }
  }
  return out;
}

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics: m } = await cdp.send("Performance.getMetrics");
  return Object.fromEntries(m.map((x) => [x.name, x.value]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Frames the renderer's main thread makes per second over `seconds` (a trace, category cc). */
async function mainFrameRate(browser: Browser, page: Page, seconds: number): Promise<number> {
  await browser.startTracing(page, { categories: ["cc"] });
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const buf = await browser.stopTracing();
  const wallS = (performance.now() - t0) / 1000;
  const events = (JSON.parse(buf.toString()) as { traceEvents: { name: string; ph: string }[] }).traceEvents;
  return events.filter((e) => e.name === "ProxyMain::BeginMainFrame" && e.ph === "X").length / wallS;
}

/** One window: the browser's CPU and the renderer's frame work while nothing is done to the page; then its frames. */
async function measure(pid: number, browser: Browser, page: Page, cdp: CDPSession, seconds: number): Promise<PageState> {
  const m0 = await metrics(cdp);
  const a = processTree(pid), ta = rendererThreads(a), t0 = performance.now();
  await sleep(seconds * 1000);
  const b = processTree(pid), tb = rendererThreads(b), wallS = (performance.now() - t0) / 1000;
  const threads: Record<string, number> = {};
  for (const [id, t] of tb) {
    const d = t.cpuS - (ta.get(id)?.cpuS ?? 0);
    if (d > 0) threads[t.name] = (threads[t.name] ?? 0) + (100 * d) / wallS;
  }
  const m1 = await metrics(cdp);
  const per = (k: string) => ((m1[k] ?? 0) - (m0[k] ?? 0)) / wallS;
  return {
    cpu: cpuShare(a, b, wallS),
    threads,
    frames: { styleRecalcs: per("RecalcStyleCount"), layouts: per("LayoutCount"), taskPct: 100 * per("TaskDuration") },
    mainFrames: await mainFrameRate(browser, page, Math.min(FRAME_TRACE_S, seconds)),
    seconds: wallS,
  };
}

/** The page's hidden state as the page sees it (see the top of this file). */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
    await page.evaluate(`(() => {
    const h = ${hidden};
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (h ? "hidden" : "visible") });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => h });
    document.dispatchEvent(new Event("visibilitychange"));
  })()`);
}

// eslint-disable-next-line no-control-regex
const CSI_RE = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

async function waitForPrompt(page: Page, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const t = await page.evaluate<string>(`window.vireo?.transcript() ?? ""`);
    if (PROMPT_RE.test(t.replace(CSI_RE, "").replace(/\r/g, ""))) return;
    const exit = await page.evaluate<{ reason: string; message?: string } | undefined>(`window.vireo?.lastExit()`);
    if (exit) throw new Error(`the VM stopped before its prompt: ${exit.reason} ${exit.message ?? ""}`);
    await sleep(200);
  }
  throw new Error("no shell prompt in the page");
}

/**
 * Key press → echo: for each key, the time from its keydown event to the moment the terminal's
 * row under the cursor shows it (a DOM mutation of xterm's rows, in the frame that paints it).
 */
async function echoLatency(page: Page, keys: number): Promise<number[]> {
  await page.evaluate(`(() => {
    const rows = document.querySelector("#terminal .xterm-rows");
    const e = { t0: 0, want: "", done: [] };
    window.echo = e;
    document.addEventListener("keydown", (ev) => void (e.t0 = ev.timeStamp), { capture: true });
    new MutationObserver(() => {
      if (!e.want) return;
      const line = rows.querySelector(".xterm-cursor")?.parentElement?.textContent?.trimEnd() ?? "";
      if (line.endsWith(e.want)) {
        e.done.push(performance.now() - e.t0);
        e.want = "";
      }
    }).observe(rows, { childList: true, subtree: true, characterData: true });
  })()`);
  const alphabet = "abcdefghijklmnopqrstuvwxyz";
  let typed = "";
  for (let i = 0; i < keys; i++) {
    // A new line every 40 keys keeps the typed text on one terminal row.
    if (i % 40 === 0 && typed) {
      await page.evaluate(`window.vireo.type("\\x03")`); // ^C: a fresh prompt
      await sleep(300);
      typed = "";
    }
    const ch = alphabet[i % alphabet.length]!;
    typed += ch;
    await page.evaluate(`window.echo.want = ${JSON.stringify(typed)}`);
    await page.keyboard.press(ch);
    await page.waitForFunction(`window.echo.done.length >= ${i + 1}`, null, { polling: 20, timeout: 10_000 });
    await sleep(40);
  }
  await page.evaluate(`window.vireo.type("\\x03")`);
  return page.evaluate<number[]>(`window.echo.done`);
}

/** The newest modification time under `dir` (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** `vite build` when dist/ is older than a source the page is built from. */
function buildIfStale(log: (s: string) => void): void {
  let built = 0;
  try { built = statSync(`${root}dist/index.html`).mtimeMs; } catch { /* never built */ }
  const sources = Math.max(...["web", "devices", "core-wasm/build", "guest-images"].map((d) => newest(root + d)));
  if (built > sources) return;
  log("page: vite build (dist/ is older than its sources)");
  const r = spawnSync(process.execPath, [`${root}node_modules/vite/bin/vite.js`, "build", "--logLevel", "warn"], { cwd: root, stdio: ["ignore", 2, 2] });
  if (r.status !== 0) throw new Error("vite build failed");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    }).on("error", reject);
  });
}

async function preview(port: number): Promise<ChildProcess> {
  const p = spawn(process.execPath, [`${root}node_modules/vite/bin/vite.js`, "preview", "--port", String(port), "--strictPort", "--host", "127.0.0.1"],
    { cwd: root, stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return p;
    } catch { /* not up yet */ }
    await sleep(100);
  }
  p.kill();
  throw new Error("vite preview did not start");
}

/** One run of the page section: build if needed, serve, and measure the three states and the echo. */
export async function measurePage(o: PageOptions): Promise<PageRun> {
  buildIfStale(o.log);
  const port = await freePort();
  const server = await preview(port);
  const launched = Date.now();
  const bs = await chromium.launchServer({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  let browser: Browser | undefined;
  try {
    const pid = bs.process().pid!;
    browser = await chromium.connect(bs.wsEndpoint());
    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable", { timeDomain: "timeTicks" });
    const settle = Math.min(5, o.seconds / 2) * 1000;

    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(`window.vireo !== undefined`, null, { timeout: 30_000 });
    await sleep(Math.max(settle, launched + o.warmupS * 1000 - Date.now()));
    o.log("page: VM off");
    const off = await measure(pid, browser, page, cdp, o.seconds);

    const t0 = Date.now();
    await page.goto(`http://127.0.0.1:${port}/?autoboot=1`);
    await waitForPrompt(page, 120_000);
    const bootMs = Date.now() - t0;
    await sleep(o.atPromptS * 1000); // past the boot's last compiles, the disk's first write-back, V8's after-load GCs
    o.log("page: guest idle at its prompt");
    const idle = await measure(pid, browser, page, cdp, o.seconds);

    await setHidden(page, true);
    await sleep(settle);
    o.log("page: tab hidden");
    const hidden = await measure(pid, browser, page, cdp, o.seconds);
    await setHidden(page, false);
    await sleep(500);

    o.log(`page: ${o.keys} keys`);
    const echoMs = await echoLatency(page, o.keys);
    await page.evaluate(`window.vireo.powerOff().then(() => true)`);
    return { off, idle, hidden, echoMs, bootMs };
  } finally {
    await browser?.close().catch(() => {});
    await bs.close().catch(() => {});
    server.kill();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, def: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : def;
  };
  const r = await measurePage({
    seconds: arg("--seconds", 30), keys: arg("--keys", 50), warmupS: arg("--warmup", BROWSER_WARMUP_S), atPromptS: arg("--at-prompt", AT_PROMPT_S),
    log: (s) => console.error(s),
  });
  const sorted = [...r.echoMs].sort((a, b) => a - b);
  console.log(JSON.stringify({ ...r, echoMedianMs: sorted[sorted.length >> 1], echoMs: r.echoMs.map((x) => +x.toFixed(1)) }, null, 1));
}
