// The library's VM in a page: the guest machine in a Worker (web/vm-host.ts) sharing its
// console rings and control words through SharedArrayBuffers, its console shown in an xterm.js
// terminal (web/terminal.ts) if the page gives an element for it, driven through what every
// library VM does (common/vm-base.ts). The Vireo page boots its machines through this class too
// (fromConfig), so the page and an embedding page run one path.
import { VmBase, failedExit, publicExit } from "../common/vm-base.ts";
import { VmOptionsError } from "../common/errors.ts";
import type { MachineOptions } from "../common/options.ts";
import { checkOptions, withImages } from "./config.ts";
import { VmSession, type VmExit as SessionExit } from "../../web/vm-host.ts";
import { ConsoleTerminal } from "../../web/terminal.ts";
import { fetchBytes, loadDefaultGuest } from "../../web/images.ts";
import type { VmConfig } from "../../devices/vm/config.ts";
import type { InspectSnapshot } from "../../devices/inspect/snapshot.ts";
import type { StreamProgress } from "../../devices/host/streamed-disk.ts";

/** What a VM in a page is made of. Every field is optional: the default is the package's own guest. */
export interface BrowserVmOptions extends MachineOptions {
  /** A bzImage: a URL to fetch it from, or its bytes (default: the package's `bzImage`, or `bzImage-apic` with `apic`). */
  kernel?: string | URL | Uint8Array;
  /** An initramfs: a URL or its bytes; `null` for none (default: the package's `initramfs.cpio.gz`). */
  initrd?: string | URL | Uint8Array | null;
  /**
   * Disk images by name, for blk devices: `{ type: "blk", transport: "pci-modern", image: "data" }`
   * with `disks: { data: bytes }`. The VM gets a copy; the guest's writes last until it stops.
   */
  disks?: Record<string, Uint8Array>;
  /**
   * Resume this saved machine (a URL or the bytes of `snapshot()`) instead of booting: memory,
   * clock, board, command line and JIT are the state's; `kernel`/`initrd` must be the ones it
   * booted, and its disks the same `devices` and `disks` again.
   */
  state?: string | URL | Uint8Array;
  /** Show the console in an xterm.js terminal filling this element (keys typed there go to the guest); see also `attach`. */
  terminal?: HTMLElement;
}

/** What the Vireo page hears from a machine it booted with `fromConfig` (web/main.ts). @internal */
export interface PageHooks {
  /** The page's terminal: the console is written to it; its input is the page's to route. */
  terminal: ConsoleTerminal;
  /** Base image bytes per blk image name (transferred to the worker). */
  disks: Record<string, Uint8Array>;
  inspect(snapshot: InspectSnapshot, stepped: boolean): void;
  /** Console output arrived (and was written to the terminal). */
  output(): void;
  /** The machine's end as the worker said it (the page shows reasons the library does not have). */
  exit(e: SessionExit): void;
  /** A streamed disk's progress (web/stream-disk.ts). */
  stream?(image: string, progress: StreamProgress): void;
}

/**
 * A virtual PC booting Linux in a Web Worker of this page, with its console in a terminal on
 * the page if you give it an element. The page must be cross-origin isolated (see
 * {@link crossOriginIsolation}): the VM shares memory with its worker through SharedArrayBuffers.
 *
 * ```ts
 * import { BrowserVm } from "vireo/browser";
 * const vm = await BrowserVm.start({ terminal: document.getElementById("console")! });
 * const { output } = await vm.exec("uname -m"); // "i686"
 * ```
 */
export class BrowserVm extends VmBase {
  private readonly options: BrowserVmOptions;
  private readonly config: VmConfig;
  private readonly disks: Record<string, Uint8Array>;
  private term: ConsoleTerminal | null = null;
  /** The terminal is this VM's (made by attach): its keys go to the guest. */
  private ownTerminal = false;
  private vmSession: VmSession | null = null;
  private started = false;
  private pageHooks: PageHooks | null = null;

  /** Check the options (nothing runs yet: `start()`). Throws a VmOptionsError for a wrong option. */
  constructor(options: BrowserVmOptions = {}) {
    super(options.prompt, options.state !== undefined);
    this.options = options;
    this.disks = options.disks ?? {};
    this.config = checkOptions(options, this.disks);
    if (options.terminal) this.attach(options.terminal);
  }

  /** Make a VM and start it: `new BrowserVm(options)`, then `start()`. */
  static async start(options: BrowserVmOptions = {}): Promise<BrowserVm> {
    const vm = new BrowserVm(options);
    await vm.start();
    return vm;
  }

  /**
   * The Vireo page's own power-on: a config it built (its settings, IndexedDB disks, links
   * between tabs, a state chain) and its terminal. Started at once.
   * @internal
   */
  static fromConfig(config: VmConfig, hooks: PageHooks): BrowserVm {
    const vm = new BrowserVm({ ...(config.restore ? { state: config.restore } : {}) });
    vm.pageHooks = hooks;
    vm.term = hooks.terminal;
    vm.started = true;
    vm.boot(config, hooks.disks);
    return vm;
  }

  /** The worker's session, for the page's own controls (inspector, balloon, keys, suspend). @internal */
  get session(): VmSession {
    if (!this.vmSession) throw new Error("the VM has not been started");
    return this.vmSession;
  }

  /**
   * Show the console in an xterm.js terminal that fills `element` and follows its size; keys
   * typed there go to the guest. Output from before is not shown again. Once per VM.
   */
  attach(element: HTMLElement): void {
    if (this.term) throw new Error("the VM has a terminal already");
    this.ownTerminal = true;
    const term = new ConsoleTerminal(element, (bytes) => this.vmSession?.send(bytes), (cols, rows) => this.vmSession?.resize(cols, rows));
    this.term = term;
    // A hidden page draws nothing: the terminal keeps the output for when it shows again.
    const visibility = () => term.setHidden(document.visibilityState === "hidden");
    document.addEventListener("visibilitychange", visibility);
    visibility();
  }

  /** Give the terminal the keyboard focus. */
  focus(): void {
    this.term?.focus();
  }

  /**
   * Fetch the images and power the machine on (or resume its state). Resolves once the worker
   * has been started: the guest boots meanwhile. A kernel, initrd or state that cannot be
   * fetched or is refused rejects with a VmOptionsError; a page that is not cross-origin
   * isolated, with an Error saying so.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error("the VM has been started already");
    if (!globalThis.crossOriginIsolated || typeof SharedArrayBuffer === "undefined") {
      throw new Error("this page is not cross-origin isolated, so SharedArrayBuffer is unavailable: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, or call crossOriginIsolation() first");
    }
    this.started = true;
    try {
      const o = this.options;
      const bytes = (x: string | URL | Uint8Array) => (x instanceof Uint8Array ? Promise.resolve(x) : fetchBytes(String(x), () => {}));
      const bundled = o.kernel === undefined || o.initrd === undefined ? await loadDefaultGuest(o.apic ?? false, () => {}) : null;
      const kernel = o.kernel === undefined ? bundled!.kernel : await bytes(o.kernel);
      const initrd = o.initrd === null ? undefined : o.initrd === undefined ? bundled!.initrd : await bytes(o.initrd);
      const state = o.state === undefined ? undefined : await bytes(o.state);
      // The worker gets copies: the caller's arrays stay whole (structured clone copies the
      // kernel and initrd; the disks are transferred).
      const disks = Object.fromEntries(Object.entries(this.disks).map(([k, v]) => [k, v.slice()]));
      this.boot(withImages(this.config, kernel, initrd, state), disks);
    } catch (e) {
      this.started = false;
      throw e instanceof VmOptionsError || !(e instanceof Error) ? e : new VmOptionsError(e.message);
    }
  }

  private boot(config: VmConfig, disks: Record<string, Uint8Array>): void {
    const hooks = this.pageHooks;
    const term = this.term;
    const session = new VmSession(config, {
      output: (bytes) => {
        term?.write(bytes);
        this.consoleBytes(bytes);
        hooks?.output();
      },
      log: (message) => {
        term?.note(message);
        this.emit("log", message);
      },
      exit: (e) => hooks?.exit(e),
      ...(hooks ? { inspect: (s: InspectSnapshot, stepped: boolean) => hooks.inspect(s, stepped) } : {}),
      ...(hooks?.stream ? { stream: hooks.stream } : {}),
    }, disks);
    this.vmSession = session;
    if (term && this.ownTerminal) session.resize(term.cols, term.rows);
    this.run({
      // After the terminal's answers to the output so far (a cursor position report), not among them.
      write: async (bytes) => {
        await term?.flushed();
        await session.write(bytes);
      },
      requestSave: () => {
        session.save(true).then((s) => this.saved(s.bytes), (e: Error) => this.saveFailed(e.message));
        return true;
      },
      stop: () => void session.stop(),
      instructions: () => session.instructions(),
    }, session.exited.then((e) => publicExit(e), failedExit));
  }
}
