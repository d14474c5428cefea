// A Playwright fixture for boot tests against the Vireo page:
//
//   import { test, expect } from "./fixtures.ts";
//   test("my guest", async ({ vm }) => {
//     await vm.boot({ memMiB: 128, disk: "mmio-v2", console: "pci-modern" });
//     expect(await vm.exec("uname -m")).toBe("i686");
//     await vm.poweroff();
//   });
//
// It drives the page through its test hook (window.vireo, web/main.ts), not xterm's DOM. A guest
// kernel panic fails the waiting call at once with a GuestPanic carrying the console transcript
// (and the transcript is attached to the test), rather than a wait that runs into its timeout.
import { writeFile } from "node:fs/promises";
import { test as base, expect, type Page } from "@playwright/test";
import type { VireoHook } from "../web/main.ts";

export { expect };

export interface BootOptions {
  /** Guest RAM in MiB (the page's ?mem=). */
  memMiB?: number;
  /** virtio-blk transport (the page's ?disk=; default off). */
  disk?: string;
  /** The guest console: "serial" (ttyS0, default) or a virtio-console transport (hvc0). */
  console?: string;
  /** virtio-rng transport (?rng=; default off). */
  rng?: string;
  /** Extra URL query for the page (e.g. "foo=1"). */
  query?: string;
  /** Open the page on another origin than the config's baseURL (e.g. a plain static server). */
  origin?: string;
  /** Wait for the shell prompt before returning (default true). */
  waitForPrompt?: boolean;
  timeoutMs?: number;
}

/** The default guest's prompt (PS1='vireo:\w# '), at the end of the console output. */
const PROMPT_RE = /vireo:[^\n]*# $/;
// eslint-disable-next-line no-control-regex
const CSI_RE = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;
/**
 * A kernel log line on the console ("[    1.178498] clocksource: Switched to clocksource tsc").
 * printk writes them whenever the kernel has something to say, so one can start right after a
 * prompt or in the middle of a command's echo; they are taken out before prompts are matched.
 */
const KERNEL_LINE_RE = /\[ *\d+\.\d+\] [^\n]*\n/g;

/** The guest kernel panicked while the test waited on it. */
export class GuestPanic extends Error {
  constructor(readonly panicLine: string, readonly transcript: string) {
    super(`guest kernel panicked: ${panicLine}\n--- console transcript ---\n${transcript}`);
    this.name = "GuestPanic";
  }
}

/** The VM stopped for another reason while the test waited for output. */
export class VmStopped extends Error {}

export class Vm {
  /** ms from the power-on click to the first shell prompt (set by boot()). */
  bootToPromptMs?: number;

  constructor(readonly page: Page) {}

  /** Open the page with these settings in its URL and power on (see BootOptions). */
  async boot(options: BootOptions = {}): Promise<void> {
    await this.open(options);
    await this.powerOn(options);
  }

  /** Open the page with these settings in its URL, without powering on. */
  async open(options: BootOptions = {}): Promise<void> {
    const q = new URLSearchParams(options.query);
    if (options.memMiB) q.set("mem", String(options.memMiB));
    for (const key of ["disk", "console", "rng"] as const) if (options[key]) q.set(key, options[key]);
    await this.page.goto(`${options.origin ?? ""}/?${q}`);
    await this.page.waitForFunction(() => window.vireo !== undefined, null, { timeout: 10_000 });
  }

  /** Power on the open page (as its button does) and, by default, wait for the shell prompt. */
  async powerOn(options: Pick<BootOptions, "waitForPrompt" | "timeoutMs"> = {}): Promise<void> {
    const started = Date.now();
    await this.page.evaluate(() => window.vireo!.boot());
    if (options.waitForPrompt ?? true) {
      await this.waitForPrompt(0, options.timeoutMs);
      this.bootToPromptMs = Date.now() - started;
    }
  }

  /** The console output so far, escape sequences removed and CRLF folded to LF. */
  async transcript(): Promise<string> {
    return clean(await this.page.evaluate(() => window.vireo!.transcript()));
  }

  /** Wait until `text` appears on the console (anywhere in this power-on's output). */
  async waitFor(text: string | RegExp, timeoutMs = 60_000): Promise<void> {
    const source = typeof text === "string" ? null : [text.source, text.flags];
    const handle = await this.page.waitForFunction(
      ([t, src]) => {
        const raw = window.vireo!.transcript();
        if (src ? new RegExp(src[0]!, src[1]).test(raw) : raw.includes(t!)) return { found: true };
        const exit = window.vireo!.lastExit();
        return exit ? { found: false, reason: exit.reason, message: exit.message ?? "" } : false;
      },
      [typeof text === "string" ? text : null, source] as const,
      { timeout: timeoutMs, polling: 50 },
    );
    const r = (await handle.jsonValue()) as { found: boolean; reason?: string; message?: string };
    if (!r.found) await this.stopped(r.reason!, r.message!, `waiting for ${String(text)}`);
  }

  /** The VM ended while a test waited for it: a GuestPanic for a panic, else VmStopped. */
  private async stopped(reason: string, message: string, doing: string): Promise<never> {
    const transcript = await this.transcript();
    if (reason === "panic") throw new GuestPanic(message, transcript);
    throw new VmStopped(`the VM stopped (${reason}${message ? `: ${message}` : ""}) while ${doing}`);
  }

  /** Type `text` at the console (no newline added). */
  async type(text: string): Promise<void> {
    await this.page.evaluate((t) => window.vireo!.type(t), text);
  }

  /**
   * Run a shell command and return what it printed (without the echo and the next prompt).
   * Kernel log lines that printk put on the console meanwhile are left out, unless
   * `keepKernelLines` (say, for `dmesg`, whose lines look the same).
   */
  async exec(command: string, options: { timeoutMs?: number; keepKernelLines?: boolean } = {}): Promise<string> {
    const from = (await this.page.evaluate(() => window.vireo!.transcript())).length;
    await this.type(command + "\n");
    const raw = await this.waitForPrompt(from, options.timeoutMs);
    let out = clean(raw.slice(from));
    if (!options.keepKernelLines) out = out.replace(KERNEL_LINE_RE, "");
    const lines = out.split("\n");
    // First line: the echoed command; last line: the new prompt.
    return lines.slice(1, -1).join("\n");
  }

  /** Power the guest off from inside (poweroff -f) and wait for the VM to stop. */
  async poweroff(timeoutMs = 30_000): Promise<void> {
    await this.type("poweroff -f\n");
    await this.page.waitForFunction(() => window.vireo!.lastExit() !== undefined, null, { timeout: timeoutMs });
    const exit = await this.page.evaluate(() => window.vireo!.lastExit()!);
    if (exit.reason !== "poweroff") await this.stopped(exit.reason, exit.message ?? "", "powering off");
  }

  /** Erase the data disk's saved changes (the page's Reset disk; only while the VM is off). */
  async resetDisk(): Promise<void> {
    await this.page.evaluate(() => window.vireo!.resetDisk());
  }

  /** The last exit's stats (instructions, MIPS, …), once the VM has stopped. */
  async exitStats(): Promise<ReturnType<VireoHook["lastExit"]>> {
    return this.page.evaluate(() => window.vireo!.lastExit());
  }

  /** Wait for a shell prompt at the end of the output after offset `from`; returns the raw transcript. */
  async waitForPrompt(from = 0, timeoutMs = 60_000): Promise<string> {
    const handle = await this.page.waitForFunction(
      ([f, csi, kernel, prompt]) => {
        const raw = window.vireo!.transcript();
        const tail = raw.slice(f).replace(new RegExp(csi, "g"), "").replace(/\r\n?/g, "\n").replace(new RegExp(kernel, "g"), "");
        if (new RegExp(prompt).test(tail)) return { raw };
        const exit = window.vireo!.lastExit();
        return exit ? { reason: exit.reason, message: exit.message ?? "" } : false;
      },
      [from, CSI_RE.source, KERNEL_LINE_RE.source, PROMPT_RE.source] as const,
      { timeout: timeoutMs, polling: 50 },
    );
    const r = (await handle.jsonValue()) as { raw?: string; reason?: string; message?: string };
    if (r.raw === undefined) return this.stopped(r.reason!, r.message!, "waiting for the shell prompt");
    return r.raw;
  }
}

function clean(s: string): string {
  return s.replace(CSI_RE, "").replace(/\r\n?/g, "\n");
}

export const test = base.extend<{ vm: Vm }>({
  vm: async ({ page }, use, testInfo) => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const vm = new Vm(page);
    await use(vm);
    const panicked = await page.evaluate(() => window.vireo?.lastExit()?.reason === "panic").catch(() => false);
    const failed = testInfo.status !== testInfo.expectedStatus;
    // What the guest printed is the first thing to read when a boot test fails or the guest panicked.
    const text = failed || panicked ? await vm.transcript().catch(() => "(no transcript: the page is gone)") : "";
    // Leave no VM running between tests.
    const exit = await page.evaluate(() => window.vireo?.powerOff()).catch(() => undefined);
    if (failed || panicked) {
      await writeFile(testInfo.outputPath("console.txt"), text);
      await testInfo.attach("console transcript", { path: testInfo.outputPath("console.txt"), contentType: "text/plain" });
      // The exit's stats: per-device virtio counters (notifications, interrupts, pending input).
      await writeFile(testInfo.outputPath("exit.json"), JSON.stringify(exit ?? null, null, 2));
      await testInfo.attach("exit stats", { path: testInfo.outputPath("exit.json"), contentType: "application/json" });
    }
    expect(errors, "uncaught errors on the page").toEqual([]);
  },
});
