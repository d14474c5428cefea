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
import { test as base, expect } from "@playwright/test";
import { Vm, type ExecOptions, type ExecResult, type VmExit, type VmOptions, type WaitOptions } from "../node/index.ts";

export { expect };
export * from "../node/index.ts";

/** Options of `TestVm.boot`: the VM's options (over the test's `vmOptions`), and how long to wait. */
export interface BootOptions extends VmOptions {
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
  private booting: Promise<Vm> | null = null;

  /** @internal */
  constructor(private readonly defaults: VmOptions) {}

  /** Power on with the test's `vmOptions` and these (a `state` resumes a snapshot) and wait for the prompt. */
  boot(options: BootOptions = {}): Promise<Vm> {
    if (this.booting) throw new Error("the vm fixture has been booted already in this test");
    const { waitForPrompt, timeout, ...vmOptions } = options;
    const merged: VmOptions = { ...this.defaults, ...vmOptions };
    // A state says the board itself: the defaults' board options would contradict it.
    if (merged.state !== undefined) for (const k of ["append", "memoryMiB", "clock", "jit", "apic", "guestDecompress"] as const) if (!(k in vmOptions)) delete merged[k];
    this.booting = (async () => {
      const vm = await Vm.start(merged);
      this.current = vm;
      if ((waitForPrompt ?? true) && merged.state === undefined) await vm.waitForPrompt({ timeout });
      return vm;
    })();
    return this.booting;
  }

  /** The VM, booted with the test's `vmOptions` if no `boot()` came first. */
  private vm(): Promise<Vm> {
    return this.booting ?? this.boot();
  }

  /** Run one shell command line; its output and exit status (see `Vm.exec`). */
  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    return (await this.vm()).exec(command, options);
  }

  /** Wait for text on the console (see `Vm.waitFor`). */
  async waitFor(pattern: string | RegExp, options?: WaitOptions): Promise<string> {
    return (await this.vm()).waitFor(pattern, options);
  }

  /** Type on the console (see `Vm.sendKeys`). */
  async sendKeys(text: string | Uint8Array): Promise<void> {
    return (await this.vm()).sendKeys(text);
  }

  /** Save the running machine (see `Vm.snapshot`); `boot({ state })` resumes it. */
  async snapshot(): Promise<Uint8Array> {
    return (await this.vm()).snapshot();
  }

  /** `poweroff -f` in the guest, and wait for the VM to end. */
  async powerOff(options?: WaitOptions): Promise<VmExit> {
    return (await this.vm()).powerOff(options);
  }

  /** The console output so far (empty before boot). */
  get transcript(): string {
    return this.current?.transcript ?? "";
  }

  /** The VM itself, once booted (events, stats, stop). */
  get machine(): Vm | null {
    return this.current;
  }

  /** @internal The fixture's teardown: stop the VM if it still runs; how it ended. */
  async dispose(): Promise<VmExit | null> {
    if (this.booting) await this.booting.catch(() => {});
    const vm = this.current;
    if (!vm) return null;
    return vm.running ? vm.stop() : vm.exited;
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
export const test = base.extend<VireoFixtures>({
  vmOptions: [{}, { option: true }],
  vm: async ({ vmOptions }, use, testInfo) => {
    const vm = new TestVm(vmOptions);
    await use(vm);
    const exit = await vm.dispose();
    const failed = testInfo.status === "failed" || testInfo.status === "timedOut" || testInfo.status === "interrupted";
    // What the guest printed is the first thing to read when a boot test fails (expected to or not).
    if (exit && (failed || exit.reason === "panic")) {
      await testInfo.attach("console transcript", { body: vm.transcript, contentType: "text/plain" });
      await testInfo.attach("vm exit", { body: JSON.stringify(exit, null, 2), contentType: "application/json" });
    }
  },
});
