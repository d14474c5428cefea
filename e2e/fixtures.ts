// A Playwright fixture for boot tests against the Vireo page:
//
//   import { test, expect } from "./fixtures.ts";
//   test("my guest", async ({ vm }) => {
//     await vm.boot({ memMiB: 128 });
//     expect(await vm.exec("uname -m")).toBe("i686");
//     await vm.poweroff();
//   });
//
// It drives the page through its test hook (window.vireo, web/main.ts), not xterm's DOM.
import { test as base, expect, type Page } from "@playwright/test";
import type { VireoHook } from "../web/main.ts";

export { expect };

export interface BootOptions {
  /** Guest RAM in MiB (the page's ?mem=). */
  memMiB?: number;
  /** Extra URL query for the page (e.g. "foo=1"). */
  query?: string;
  /** Wait for the shell prompt before returning (default true). */
  waitForPrompt?: boolean;
  timeoutMs?: number;
}

/** The default guest's prompt (PS1='vireo:\w# '), at the end of the console output. */
const PROMPT_RE = /vireo:[^\n]*# $/;
// eslint-disable-next-line no-control-regex
const CSI_RE = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;

export class Vm {
  /** ms from the power-on click to the first shell prompt (set by boot()). */
  bootToPromptMs?: number;

  constructor(readonly page: Page) {}

  async boot(options: BootOptions = {}): Promise<void> {
    const q = new URLSearchParams(options.query);
    if (options.memMiB) q.set("mem", String(options.memMiB));
    await this.page.goto(`/?${q}`);
    await this.page.waitForFunction(() => window.vireo !== undefined, null, { timeout: 10_000 });
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
    await this.page.waitForFunction(
      ([t, src]) => {
        const raw = window.vireo!.transcript();
        return src ? new RegExp(src[0]!, src[1]).test(raw) : raw.includes(t!);
      },
      [typeof text === "string" ? text : null, source] as const,
      { timeout: timeoutMs, polling: 50 },
    );
  }

  /** Type `text` at the console (no newline added). */
  async type(text: string): Promise<void> {
    await this.page.evaluate((t) => window.vireo!.type(t), text);
  }

  /** Run a shell command and return what it printed (without the echo and the next prompt). */
  async exec(command: string, timeoutMs = 60_000): Promise<string> {
    const from = (await this.page.evaluate(() => window.vireo!.transcript())).length;
    await this.type(command + "\n");
    const raw = await this.waitForPrompt(from, timeoutMs);
    const lines = clean(raw.slice(from)).split("\n");
    // First line: the echoed command; last line: the new prompt.
    return lines.slice(1, -1).join("\n");
  }

  /** Power the guest off from inside (poweroff -f) and wait for the VM to stop. */
  async poweroff(timeoutMs = 30_000): Promise<void> {
    await this.type("poweroff -f\n");
    await this.page.waitForFunction(() => window.vireo!.lastExit() !== undefined, null, { timeout: timeoutMs });
    const exit = await this.page.evaluate(() => window.vireo!.lastExit()!);
    if (exit.reason !== "poweroff") throw new Error(`the VM stopped with '${exit.reason}': ${exit.message ?? ""}`);
  }

  /** Erase the data disk's saved changes (the page's Reset disk; only while the VM is off). */
  async resetDisk(): Promise<void> {
    await this.page.evaluate(() => window.vireo!.resetDisk());
  }

  /** The last exit's stats (instructions, MIPS, …), once the VM has stopped. */
  async exitStats(): Promise<ReturnType<VireoHook["lastExit"]>> {
    return this.page.evaluate(() => window.vireo!.lastExit());
  }

  private async waitForPrompt(from: number, timeoutMs = 60_000): Promise<string> {
    const handle = await this.page.waitForFunction(
      ([f, src]) => {
        const raw = window.vireo!.transcript();
        const tail = raw.slice(f).replace(/\x1b\[[0-9;?]*[ -\/]*[@-~]/g, "");
        return new RegExp(src).test(tail) ? raw : false;
      },
      [from, PROMPT_RE.source] as const,
      { timeout: timeoutMs, polling: 50 },
    );
    return (await handle.jsonValue()) as string;
  }
}

function clean(s: string): string {
  return s.replace(CSI_RE, "").replace(/\r\n?/g, "\n");
}

export const test = base.extend<{ vm: Vm }>({
  vm: async ({ page }, use) => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const vm = new Vm(page);
    await use(vm);
    // Leave no VM running between tests.
    await page.evaluate(() => window.vireo?.powerOff()).catch(() => {});
    expect(errors, "uncaught errors on the page").toEqual([]);
  },
});
