// The interactive CLI on a real terminal (issue #15, "stop always stops"): `npm run boot` with
// no --cmd reads the keyboard in raw mode, and Ctrl-A x quits whatever the guest does. The CLI
// runs under a pseudo-terminal made by util-linux's `script` (package bsdutils, essential in
// Debian, so on every Debian machine): its stdin is then a TTY, as a user's is, and the bytes
// written to `script`'s stdin arrive as keystrokes. About 5–15 s (one boot to the prompt).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { PROMPT_RE } from "../../devices/vm/config.ts";
import { EXIT } from "../../cli/exit-codes.ts";

const root = new URL("../../", import.meta.url).pathname;
const haveScript = spawnSync("script", ["--version"]).status === 0;
/** The issue's bound for a stop taking effect, with room for the CLI's own exit on a loaded machine. */
const QUIT_MS = 3000;
const BUSY = "while :; do :; done";

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

test("Ctrl-A x on a terminal quits a guest spinning in a busy loop within 3 s, exit 0", { skip: !haveScript && "util-linux script is not installed", timeout: 180_000 }, async () => {
  // The shell prints its pid and execs the CLI in its place, so the test can kill it whatever happens.
  const cli = [process.execPath, "--import", "tsx", "cli/boot.ts", "--timeout", "150"].map(quote).join(" ");
  const p = spawn("script", ["-q", "-e", "-c", `echo "cli-pid $$"; exec ${cli}`, "/dev/null"], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let cliPid = 0;
  const waiters: (() => void)[] = [];
  p.stdout.on("data", (b: Buffer) => {
    // Busybox's line editor asks a terminal for its cursor position (ESC [6n) after the prompt;
    // removed from the whole text, since a chunk may end inside it.
    out = (out + b.toString("latin1")).replace(/\r|\x1b\[6n/g, "");
    cliPid ||= Number(/cli-pid (\d+)/.exec(out)?.[1] ?? 0);
    for (const w of waiters.splice(0)) w();
  });
  p.stderr.on("data", (b: Buffer) => void (out += b.toString("latin1")));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => p.on("exit", (code) => resolve({ code, at: performance.now() })));
  /** Resolves when `ok(out)` holds; rejects after `ms` or if the CLI exits first. */
  const until = (ok: (s: string) => boolean, ms: number, what: string) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms:\n${out.slice(-1500)}`)), ms);
    const check = () => (ok(out) ? (clearTimeout(timer), resolve()) : waiters.push(check));
    void exited.then(() => reject(new Error(`the CLI exited before ${what}:\n${out.slice(-1500)}`)));
    check();
  });
  try {
    await until((s) => s.includes("Ctrl-A x to quit"), 30_000, "raw-mode banner (stdin is not a TTY?)");
    await until((s) => PROMPT_RE.test(s), 120_000, "shell prompt");
    p.stdin.write(BUSY + "\r");
    await until((s) => s.includes(BUSY + "\n"), 10_000, "echo of the busy loop");
    await new Promise((r) => setTimeout(r, 500)); // the loop is running; no prompt comes back
    assert.ok(!PROMPT_RE.test(out), "the busy loop returned to the prompt");
    const sent = performance.now();
    p.stdin.write("\x01x");
    const quit = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), QUIT_MS))]);
    assert.ok(quit, `Ctrl-A x did not end the CLI within ${QUIT_MS} ms:\n${out.slice(-1500)}`);
    assert.equal(quit.code, EXIT.ok.code, `exit code (Ctrl-A x is a requested stop):\n${out.slice(-1500)}`);
    assert.doesNotMatch(out, /did not stop within/, "the run loop took the stop itself (no termination after the grace period)");
    process.stderr.write(`Ctrl-A x → exit in ${(quit.at - sent).toFixed(0)} ms\n`);
  } finally {
    if (cliPid) try { process.kill(cliPid, "SIGKILL"); } catch { /* already gone */ }
    p.kill("SIGKILL");
  }
});
