// The vm fixture's VM in the browser: the Vireo page (shipped in the package, served by
// page-server.ts) opened in the test's Playwright page and driven through its test hook
// (window.vireo: boot, type, transcript, lastExit, the inspector's snapshot), with the same
// exec/waitFor rules as in Node (lib/common/console-text.ts).
import { readFileSync } from "node:fs";
import type { Page } from "@playwright/test";
import { CSI_RE, DEFAULT_PROMPT, STATUS_RE, atPrompt, commandOutput, execLine } from "../common/console-text.ts";
import { GuestPanic, VmOptionsError, VmStopped, VmTimeout, type VmExit, type VmStats } from "../common/errors.ts";
import type { DeviceSpec, VmOptions } from "../common/options.ts";
import { deviceArg } from "../common/device-arg.ts";
import { pageOrigin } from "./page-server.ts";

/** The page's hook, as far as this module uses it (web/main.ts declares it in full). */
interface PageHook {
  boot(): Promise<void>;
  transcript(): string;
  type(text: string): void;
  powerOff(): Promise<PageExit | undefined>;
  lastExit(): PageExit | undefined;
  inspector: { snapshot(): Promise<unknown> };
}
interface PageExit { reason: string; message?: string; panicVia?: "pvpanic" | "console"; stats: Record<string, unknown> }
declare const window: { vireo?: PageHook };

const POLL_MS = 50;
const DEFAULT_TIMEOUT_MS = 60_000;
/** The page's device parameters (web/settings.ts): the device types it places, each at most once. */
const PAGE_DEVICES = ["blk", "console", "rng"] as const;
const PAGE_PARAM: Record<(typeof PAGE_DEVICES)[number], string> = { blk: "disk", console: "console", rng: "rng" };

/** What the page cannot do (yet): one clear line rather than a different machine than asked for. */
function pageQuery(o: VmOptions): URLSearchParams {
  const q = new URLSearchParams();
  const refuse = (what: string) => { throw new VmOptionsError(`in the browser, ${what} is not available (the page has no such setting); boot in Node for it`); };
  if (o.append !== undefined) refuse("append (the page builds the command line)");
  if (o.state !== undefined) refuse("state (resuming a snapshot)");
  if (o.clock === "deterministic") refuse("the deterministic clock");
  if (o.jit !== undefined || o.apic || o.guestDecompress || o.reboot) refuse("jit, apic, guestDecompress and reboot");
  if (o.memoryMiB !== undefined) q.set("mem", String(o.memoryMiB));
  // No device unless asked for: the page's defaults (a data disk) would differ from Node's.
  q.set("disk", "off");
  for (const d of o.devices ?? []) {
    const spec = typeof d === "string" ? parseSpec(d) : d;
    const type = PAGE_DEVICES.find((t) => t === spec.type);
    if (!type || Object.keys(spec).some((k) => k !== "type" && k !== "transport")) refuse(`the device '${deviceArg(d)}' (the page places blk, console and rng by transport only)`);
    q.set(PAGE_PARAM[type!], spec.transport);
  }
  return q;
}

function parseSpec(text: string): Pick<DeviceSpec, "type" | "transport"> & Record<string, string> {
  const [type = "", ...rest] = text.split(",");
  const kv = Object.fromEntries(rest.map((x) => [x.split("=")[0]!, x.split("=").slice(1).join("=")]));
  return { ...kv, type: type as DeviceSpec["type"], transport: kv.transport as DeviceSpec["transport"] };
}

function bytesOf(x: string | Uint8Array): Buffer {
  return typeof x === "string" ? readFileSync(x) : Buffer.from(x);
}

export class PageVm {
  private readonly prompt: RegExp;
  private cursor = 0;
  private promptKnown = false;
  private exit: VmExit | null = null;

  constructor(readonly page: Page, private readonly options: VmOptions) {
    this.prompt = options.prompt ?? DEFAULT_PROMPT;
  }

  /** Open the page with the options in its address, give it the images, power on. */
  async start(origin?: string): Promise<void> {
    const q = pageQuery(this.options);
    await this.page.goto(`${origin ?? (await pageOrigin())}/?${q}`);
    await this.page.waitForFunction(() => window.vireo !== undefined, null, { timeout: 30_000 });
    // The user's images, picked as a person would pick them (the page checks them the same way).
    if (this.options.kernel !== undefined) await this.page.locator("#pick-kernel").setInputFiles({ name: "bzImage", mimeType: "application/octet-stream", buffer: bytesOf(this.options.kernel) });
    if (this.options.initrd === null) throw new VmOptionsError("in the browser, a boot without an initrd is not available");
    if (this.options.initrd !== undefined) await this.page.locator("#pick-initrd").setInputFiles({ name: "initrd", mimeType: "application/octet-stream", buffer: bytesOf(this.options.initrd) });
    await this.page.evaluate(() => window.vireo!.boot());
  }

  /**
   * The console so far, as the Node VM keeps it (escape sequences out, CRLF folded); once the
   * page is gone (closed before the fixture's teardown), what it showed last.
   */
  async transcript(): Promise<string> {
    return clean((await this.look().catch(() => ({ raw: this.lastRaw }))).raw);
  }

  private lastRaw = "";
  private async look(): Promise<{ raw: string; exit: PageExit | undefined }> {
    const r = await this.page.evaluate(() => ({ raw: window.vireo!.transcript(), exit: window.vireo!.lastExit() }));
    this.lastRaw = r.raw;
    return r;
  }

  /** Poll the page until `found` answers; the VM's end or the timeout fail it. */
  private async wait<T>(doing: string, timeoutMs: number | undefined, found: (text: string) => T | null): Promise<T> {
    const ms = timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const until = Date.now() + ms;
    for (;;) {
      const { raw, exit } = await this.look();
      const text = clean(raw);
      const v = found(text);
      if (v !== null) return v;
      if (exit) {
        this.exit = publicExit(exit);
        if (exit.reason === "panic") throw new GuestPanic(exit.message ?? "", text);
        throw new VmStopped(this.exit, text, doing);
      }
      if (Date.now() > until) throw new VmTimeout(doing, ms, text);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async waitFor(pattern: string | RegExp, timeout?: number): Promise<string> {
    return this.wait(`waiting for ${String(pattern)}`, timeout, (text) => {
      const from = text.slice(this.cursor);
      const m = typeof pattern === "string" ? (from.includes(pattern) ? { index: from.indexOf(pattern), 0: pattern } : null) : new RegExp(pattern.source, pattern.flags.replace("g", "")).exec(from);
      if (!m) return null;
      this.cursor += m.index + m[0].length;
      return m[0];
    });
  }

  async waitForPrompt(timeout?: number): Promise<void> {
    const end = await this.wait("waiting for the shell prompt", timeout, (text) => (atPrompt(text.slice(this.cursor), this.prompt) ? text.length : null));
    this.cursor = end;
    this.promptKnown = true;
  }

  async exec(command: string, timeout?: number, keepKernelLines = false): Promise<{ output: string; exitStatus: number }> {
    if (command.includes("\n")) throw new Error("exec takes one command line (no newline)");
    if (!this.promptKnown) await this.waitForPrompt(timeout);
    const from = (await this.transcript()).length;
    this.promptKnown = false;
    await this.type(execLine(command));
    const doing = `running '${command}'`;
    const r = await this.wait(doing, timeout, (text) => {
      const after = text.slice(from);
      const m = STATUS_RE.exec(after);
      return m && atPrompt(after.slice(m.index + m[0].length), this.prompt) ? { after, at: m.index, exitStatus: Number(m[1]), end: text.length } : null;
    });
    this.cursor = r.end;
    this.promptKnown = true;
    return { output: commandOutput(r.after, r.at, keepKernelLines), exitStatus: r.exitStatus };
  }

  async type(text: string): Promise<void> {
    await this.page.evaluate((t) => window.vireo!.type(t), text);
  }

  async sendKeys(text: string): Promise<void> {
    this.promptKnown = false;
    await this.type(text);
  }

  async powerOff(timeout?: number): Promise<VmExit> {
    if (!this.promptKnown) await this.waitForPrompt(timeout);
    await this.type("poweroff -f\n");
    try {
      await this.wait("powering off", timeout, () => null);
    } catch (e) {
      if (e instanceof VmStopped && e.exit.reason === "poweroff") return e.exit;
      throw e;
    }
    throw new Error("not reached");
  }

  /** How the VM ended, stopping it first if it runs (the page's power button). */
  async stop(): Promise<VmExit | null> {
    const e = await this.page.evaluate(() => window.vireo?.powerOff()).catch(() => undefined);
    return e ? (this.exit = publicExit(e)) : this.exit;
  }

  /** The inspector's snapshot of the board (PCI functions, virtqueues, registers), for a failure's report. */
  async inspectorSnapshot(): Promise<unknown> {
    return this.page.evaluate(() => window.vireo?.inspector.snapshot()).catch(() => null);
  }
}

function clean(raw: string): string {
  return raw.replace(CSI_RE, "").replace(/\r\n?/g, "\n");
}

function publicExit(e: PageExit): VmExit {
  const known = ["poweroff", "stopped", "panic", "reboot", "image", "state", "error"] as const;
  const reason = known.find((r) => r === e.reason) ?? "error";
  return { reason, stats: e.stats as VmStats, ...(e.message !== undefined ? { message: e.message } : {}), ...(e.panicVia ? { panicVia: e.panicVia } : {}) };
}
