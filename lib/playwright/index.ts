/**
 * `vireo/playwright`: Playwright's `test` and `expect`, with a `vm` fixture ({@link TestVm})
 * that boots a Vireo VM headless in Node for each test that uses it, and attaches its console
 * transcript to the report when the test fails or the guest panicked. It also exports
 * everything `vireo` does.
 *
 * ```ts
 * import { test, expect } from "vireo/playwright";
 * test.use({ vmOptions: { append: "console=ttyS0 quiet" } });
 * test("uname", async ({ vm }) => {
 *   expect((await vm.exec("uname -m")).output).toBe("i686");
 * });
 * ```
 *
 * @module vireo/playwright
 */
import {
  test as base, expect, type Page, type PlaywrightTestArgs, type PlaywrightTestOptions, type PlaywrightWorkerArgs, type PlaywrightWorkerOptions, type TestType,
} from "@playwright/test";
import { Vm, type ExecOptions, type ExecResult, type VmExit, type VmOptions, type WaitOptions } from "../node/index.ts";
import { PageVm } from "./page-vm.ts";

export { expect };
export * from "../node/index.ts";

/** Options of `TestVm.boot`: the VM's options (over the test's `vmOptions`), where it runs, and how long to wait. */
export interface BootOptions extends VmOptions {
  /**
   * Where the VM runs: `"node"` (default: a worker thread of the test's process, no browser) or
   * `"browser"`: the Vireo page the package ships, opened in `page` and cross-origin isolated by
   * a local server of the fixture's. In the browser the page's own settings apply: `memoryMiB`,
   * `kernel`, `initrd` and blk/console/rng devices by transport; `append`, `state`, `jit`,
   * `apic`, the deterministic clock and `snapshot()` are Node's only (a VmOptionsError says so).
   */
  in?: "node" | "browser";
  /**
   * The test's `page` fixture, for `in: "browser"`. Name `page` before `vm` in the test's
   * arguments (`async ({ page, vm }) => …`): fixtures end in the reverse order, so the page is
   * still open when the `vm` fixture takes a failed test's inspector snapshot (the transcript is
   * kept either way).
   */
  page?: Page;
  /** For `in: "browser"`: the page's origin, if it is served elsewhere (default: the fixture serves the shipped page). */
  pageOrigin?: string;
  /** Wait for the shell prompt before `boot` returns (default true; a resumed state needs no wait). */
  waitForPrompt?: boolean;
  /** Milliseconds the boot may take to reach the prompt (default 60,000). */
  timeout?: number;
}

/**
 * The `vm` fixture: one VM per test, booted by `boot()` or, with the test's `vmOptions`, by the
 * first call that needs it. Stopped when the test ends.
 */
export class TestVm {
  private current: Vm | null = null;
  private inPage: PageVm | null = null;
  private booting: Promise<void> | null = null;

  /** @internal */
  constructor(private readonly defaults: VmOptions) {}

  /** Power on with the test's `vmOptions` and these (a `state` resumes a snapshot) and wait for the prompt. */
  boot(options: BootOptions = {}): Promise<void> {
    if (this.booting) throw new Error("the vm fixture has been booted already in this test");
    const { waitForPrompt, timeout, in: where, page, pageOrigin, ...vmOptions } = options;
    const merged: VmOptions = { ...this.defaults, ...vmOptions };
    // A state says the board itself: the defaults' board options would contradict it.
    if (merged.state !== undefined) for (const k of ["append", "memoryMiB", "clock", "jit", "apic", "guestDecompress"] as const) if (!(k in vmOptions)) delete merged[k];
    const wait = (waitForPrompt ?? true) && merged.state === undefined;
    this.booting = (async () => {
      if (where === "browser") {
        if (!page) throw new Error("vm.boot({ in: \"browser\" }) needs the test's page: vm.boot({ in: \"browser\", page })");
        const vm = new PageVm(page, merged);
        this.inPage = vm;
        await vm.start(pageOrigin);
        if (wait) await vm.waitForPrompt(timeout);
        return;
      }
      const vm = await Vm.start(merged);
      this.current = vm;
      if (wait) await vm.waitForPrompt({ timeout });
    })();
    return this.booting;
  }

  /** The booted VM, booted with the test's `vmOptions` (in Node) if no `boot()` came first. */
  private async vm(): Promise<Vm | PageVm> {
    await (this.booting ?? this.boot());
    return (this.current ?? this.inPage)!;
  }

  /** Run one shell command line; its output and exit status (see `Vm.exec`). */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const vm = await this.vm();
    return vm instanceof Vm ? vm.exec(command, options) : vm.exec(command, options.timeout, options.keepKernelLines);
  }

  /** Wait for text on the console (see `Vm.waitFor`). */
  async waitFor(pattern: string | RegExp, options: WaitOptions = {}): Promise<string> {
    const vm = await this.vm();
    return vm instanceof Vm ? vm.waitFor(pattern, options) : vm.waitFor(pattern, options.timeout);
  }

  /** Wait for the shell prompt at the end of the console output. */
  async waitForPrompt(options: WaitOptions = {}): Promise<void> {
    const vm = await this.vm();
    return vm instanceof Vm ? vm.waitForPrompt(options) : vm.waitForPrompt(options.timeout);
  }

  /** Type on the console (see `Vm.sendKeys`). */
  async sendKeys(text: string): Promise<void> {
    return (await this.vm()).sendKeys(text);
  }

  /** Save the running machine (see `Vm.snapshot`); `boot({ state })` resumes it. In Node only. */
  async snapshot(): Promise<Uint8Array> {
    const vm = await this.vm();
    if (!(vm instanceof Vm)) throw new Error("snapshot() is not available in the browser yet: boot in Node for it");
    return vm.snapshot();
  }

  /** `poweroff -f` in the guest, and wait for the VM to end. */
  async powerOff(options: WaitOptions = {}): Promise<VmExit> {
    const vm = await this.vm();
    return vm instanceof Vm ? vm.powerOff(options) : vm.powerOff(options.timeout);
  }

  /** The console output so far (empty before boot). */
  async transcript(): Promise<string> {
    return this.current?.transcript ?? (await this.inPage?.transcript()) ?? "";
  }

  /** The VM itself, once booted in Node (events, stats, stop); null in the browser. */
  get machine(): Vm | null {
    return this.current;
  }

  /**
   * @internal The fixture's teardown: stop the VM if it still runs; how it ended, and for a VM in
   * the browser the inspector's snapshot if `inspect`.
   */
  async dispose(inspect: boolean): Promise<{ exit: VmExit | null; transcript: string; inspector?: unknown }> {
    if (this.booting) await this.booting.catch(() => {});
    const transcript = await this.transcript();
    if (this.inPage) {
      const inspector = inspect ? await this.inPage.inspectorSnapshot() : undefined;
      return { exit: await this.inPage.stop(), transcript, inspector };
    }
    const vm = this.current;
    if (!vm) return { exit: null, transcript };
    return { exit: await (vm.running ? vm.stop() : vm.exited), transcript };
  }
}

/** Fixtures this module adds to Playwright's. */
export interface VireoFixtures {
  /** The options every `vm` of the test starts from (`test.use({ vmOptions: { … } })`). */
  vmOptions: VmOptions;
  /** The test's VM: booted by `vm.boot()`, or by the first call that needs it; stopped after the test. */
  vm: TestVm;
}

/** Playwright's `test` with the `vm` fixture and the `vmOptions` option. */
export const test: TestType<PlaywrightTestArgs & PlaywrightTestOptions & VireoFixtures, PlaywrightWorkerArgs & PlaywrightWorkerOptions> = base.extend<VireoFixtures>({
  vmOptions: [{}, { option: true }],
  vm: async ({ vmOptions }, use, testInfo) => {
    const vm = new TestVm(vmOptions);
    await use(vm);
    const failed = testInfo.status === "failed" || testInfo.status === "timedOut" || testInfo.status === "interrupted";
    const { exit, transcript, inspector } = await vm.dispose(failed);
    // What the guest printed is the first thing to read when a boot test fails (expected to or not).
    if ((exit || transcript) && (failed || exit?.reason === "panic")) {
      await testInfo.attach("console transcript", { body: transcript, contentType: "text/plain" });
      await testInfo.attach("vm exit", { body: JSON.stringify(exit, null, 2), contentType: "application/json" });
      if (inspector) await testInfo.attach("inspector snapshot", { body: JSON.stringify(inspector, null, 2), contentType: "application/json" });
    }
  },
});
