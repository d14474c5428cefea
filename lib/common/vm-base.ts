// What a VM of the library does with its guest, wherever the machine runs (a Node worker
// thread: node/vm.ts; a page's Worker: browser/browser-vm.ts): the console as events and as
// searchable text, commands with their output and exit status, waits that fail on a panic, the
// VM's end or a timeout, snapshots, stop. A subclass starts the machine and hands it over (run).
import { DEFAULT_PROMPT, ConsoleText, STATUS_RE, atPrompt, commandOutput, execLine } from "./console-text.ts";
import { GuestPanic, VmStopped, VmTimeout, type ExitReason, type VmExit, type VmStats } from "./errors.ts";

/** What a VM tells its listeners (`on`). */
export interface VmEvents {
  /** Guest console output, as text (escape sequences and CRs left in), as it comes. */
  console: string;
  /** A message of the emulator's (a device refusing something the guest did, a reset, …). */
  log: string;
  /** The VM ended. */
  exit: VmExit;
}

/** Options of a wait. */
export interface WaitOptions {
  /** Milliseconds before the wait fails with a VmTimeout (default 60,000). */
  timeout?: number;
}

/** Options of `exec`. */
export interface ExecOptions extends WaitOptions {
  /**
   * Keep kernel log lines (`[    1.23] …`) in the output. By default they are left out: printk
   * may write them to the console in the middle of a command's output. Set it for `dmesg`.
   */
  keepKernelLines?: boolean;
}

/** What `exec` returns. */
export interface ExecResult {
  /** What the command printed (stdout and stderr, as the console shows them; no final newline). */
  output: string;
  /** The shell's `$?` after the command. */
  exitStatus: number;
}

/** The instruction count and state of a VM now. */
export interface VmLiveStats {
  /** Guest instructions executed so far. */
  instructions: number;
  /** Wall time since `start()`, in seconds. */
  wallSeconds: number;
  /** Started and not ended. */
  running: boolean;
}

/** The host side of a started machine, as a VmBase drives it. */
export interface RunningMachine {
  /** Bytes for the guest's console; resolves once they are all handed over. */
  write(bytes: Uint8Array): Promise<void>;
  /** Ask for a whole state (answered through `saved` or `saveFailed`); false if another command is pending. */
  requestSave(): boolean;
  /** Stop now (no guest shutdown); the machine's exit follows. */
  stop(): void;
  /** Guest instructions executed so far. */
  instructions(): number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

interface Waiter {
  /** Look at the text: settle and return true, or false to keep waiting. */
  check(): boolean;
  /** The VM ended: reject. */
  ended(exit: VmExit): void;
}

/**
 * A virtual PC booting Linux: what {@link Vm} (Node) and `BrowserVm` (a page) have in common.
 * `start()` powers it on; the guest's console then comes as `console` events and as `transcript`,
 * and `exec`, `waitFor` and `powerOff` wait on it.
 */
export abstract class VmBase {
  private readonly prompt: RegExp;
  private readonly text = new ConsoleText();
  private readonly decoder = new TextDecoder(); // the "console" events' (a character may span two batches)
  private machine: RunningMachine | null = null;
  private exitInfo: VmExit | null = null;
  private readonly waiters = new Set<Waiter>();
  private readonly listeners: { [K in keyof VmEvents]: Set<(value: VmEvents[K]) => void> } = { console: new Set(), log: new Set(), exit: new Set() };
  /** Where the next waitFor starts searching (the end of the previous match). */
  private cursor = 0;
  /** The guest is known to sit at its prompt (after a command, or resumed: see snapshot()). */
  private promptKnown: boolean;
  private startedMs = 0;
  private saving: { resolve(bytes: Uint8Array): void; reject(e: Error): void } | null = null;
  private exitPromise: Promise<VmExit> | null = null;

  /** `resumed`: the machine resumes a state, which prints nothing until typed at: it is taken to be at its prompt. */
  protected constructor(prompt: RegExp | undefined, resumed: boolean) {
    this.prompt = prompt ?? DEFAULT_PROMPT;
    this.promptKnown = resumed;
  }

  /** Power the machine on (or resume its state). Resolves once it runs: the guest boots meanwhile. */
  abstract start(): Promise<void>;

  /** The machine is started: from now on it is driven through `machine`; `exited` says how it ended. */
  protected run(machine: RunningMachine, exited: Promise<VmExit>): void {
    this.machine = machine;
    this.startedMs = performance.now();
    this.exitPromise = exited.then((e) => this.ended(e));
  }

  /** Console bytes from the machine, in order. */
  protected consoleBytes(bytes: Uint8Array): void {
    const raw = this.decoder.decode(bytes, { stream: true });
    this.text.push(bytes);
    this.emit("console", raw);
    for (const w of [...this.waiters]) w.check();
  }

  /** The machine's answer to requestSave(). */
  protected saved(bytes: Uint8Array): void {
    this.saving?.resolve(bytes);
    this.saving = null;
  }

  /** The machine could not make the state asked for. */
  protected saveFailed(message: string): void {
    this.saving?.reject(new Error(message));
    this.saving = null;
  }

  /** Listen to an event; returns the function that stops listening. */
  on<K extends keyof VmEvents>(event: K, listener: (value: VmEvents[K]) => void): () => void {
    const set = this.listeners[event] as Set<(value: VmEvents[K]) => void>;
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** The console output so far: escape sequences taken out, CRLF folded to LF (the last 32 Mi characters at most). */
  get transcript(): string {
    return this.text.text;
  }

  /** The machine runs (started, not ended). */
  get running(): boolean {
    return this.machine !== null && this.exitInfo === null;
  }

  /** How the VM ended; resolves when it does. */
  get exited(): Promise<VmExit> {
    if (!this.exitPromise) return Promise.reject(new Error("the VM has not been started"));
    return this.exitPromise;
  }

  /** Instructions executed and time run, now. */
  stats(): VmLiveStats {
    return {
      instructions: this.exitInfo?.stats.instructions ?? this.machine?.instructions() ?? 0,
      wallSeconds: this.exitInfo?.stats.wallSeconds ?? (this.machine ? (performance.now() - this.startedMs) / 1000 : 0),
      running: this.running,
    };
  }

  /**
   * Wait until `pattern` appears on the console, searching from the end of the previous match
   * (or of the last `exec`); resolves with the text matched. A RegExp is tried as output arrives,
   * so `/ready \w+/` may match a word cut short: end it with what must follow (`\n`) to see a
   * whole line. A guest panic rejects at once with
   * GuestPanic, another end of the VM with VmStopped; no match in time, with VmTimeout.
   */
  waitFor(pattern: string | RegExp, options: WaitOptions = {}): Promise<string> {
    return this.wait(`waiting for ${String(pattern)}`, options.timeout, () => {
      const from = this.cursor;
      const text = this.text.from(from);
      let at: number, matched: string;
      if (typeof pattern === "string") {
        at = text.indexOf(pattern);
        matched = pattern;
      } else {
        const m = new RegExp(pattern.source, pattern.flags.replace("g", "")).exec(text);
        at = m ? m.index : -1;
        matched = m ? m[0] : "";
      }
      if (at < 0) return null;
      this.cursor = this.text.end - text.length + at + matched.length;
      return matched;
    });
  }

  /** Wait for the shell prompt at the end of the console output (the `prompt` option). */
  async waitForPrompt(options: WaitOptions = {}): Promise<void> {
    await this.wait("waiting for the shell prompt", options.timeout, () => (atPrompt(this.text.from(this.cursor), this.prompt) ? true : null));
    this.promptKnown = true;
    this.cursor = this.text.end;
  }

  /**
   * Run one shell command line at the guest's prompt; resolves with what it printed and its exit
   * status. Waits for the first prompt if the guest is still booting.
   */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (command.includes("\n")) throw new Error("exec takes one command line (no newline)");
    if (!this.promptKnown) await this.waitForPrompt(options);
    const from = this.text.end;
    this.promptKnown = false;
    await this.type(execLine(command));
    const doing = `running '${command}'`;
    const status = await this.wait(doing, options.timeout, () => {
      const after = this.text.from(from);
      const m = STATUS_RE.exec(after);
      if (!m) return null;
      return { after, at: m.index, end: m.index + m[0].length, exitStatus: Number(m[1]) };
    });
    // Then its prompt, so the next command is typed where the shell reads it.
    await this.wait(doing, options.timeout, () => (atPrompt(this.text.from(from + status.end), this.prompt) ? true : null));
    this.promptKnown = true;
    this.cursor = this.text.end;
    return { output: commandOutput(status.after, status.at, options.keepKernelLines ?? false), exitStatus: status.exitStatus };
  }

  /** Type `text` on the guest's console (no newline is added; "\x03" is Ctrl-C). */
  async sendKeys(text: string | Uint8Array): Promise<void> {
    this.promptKnown = false; // whatever this types, the shell is no longer known to wait at its prompt
    await this.type(text);
  }

  private async type(text: string | Uint8Array): Promise<void> {
    const machine = this.runningMachine("type");
    await machine.write(typeof text === "string" ? new TextEncoder().encode(text) : text);
  }

  /**
   * Save the whole machine, running, and go on: the bytes restore it (the `state` option; in
   * Node also `npx vireo boot --restore FILE`). Take it at the shell's prompt (after `exec` or
   * `waitForPrompt`): a resumed VM is taken to be at its prompt, so its first `exec` types at
   * once. A state holds no disks or shared folders: a VM with them is resumed with the same
   * `devices` (and disks).
   */
  async snapshot(): Promise<Uint8Array> {
    const machine = this.runningMachine("snapshot");
    if (this.saving) throw new Error("a snapshot is being taken already");
    const bytes = new Promise<Uint8Array>((resolve, reject) => (this.saving = { resolve, reject }));
    // Whole, never an increment over an earlier save: the bytes alone restore it.
    if (!machine.requestSave()) { this.saving = null; throw new Error("another command is pending in the VM: snapshot again"); }
    return await Promise.race([bytes, this.exited.then((e): never => { throw new VmStopped(e, this.transcript, "taking a snapshot"); })]);
  }

  /** Stop the machine now (no guest shutdown: like pulling the plug; disks keep every completed write). */
  async stop(): Promise<VmExit> {
    if (!this.machine) throw new Error("the VM has not been started");
    if (!this.exitInfo) this.machine.stop();
    return this.exited;
  }

  /** Power the guest off from inside (`poweroff -f` at its prompt) and wait until it has. */
  async powerOff(options: WaitOptions = {}): Promise<VmExit> {
    if (this.exitInfo) return this.exitInfo;
    if (!this.promptKnown) await this.waitForPrompt(options);
    await this.type("poweroff -f\n");
    const timeoutMs = options.timeout ?? DEFAULT_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs)));
    const exit = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (!exit) throw new VmTimeout("powering off", timeoutMs, this.transcript);
    if (exit.reason === "panic") throw new GuestPanic(exit.message ?? "", this.transcript);
    if (exit.reason !== "poweroff") throw new VmStopped(exit, this.transcript, "powering off");
    return exit;
  }

  private runningMachine(doing: string): RunningMachine {
    if (!this.machine) throw new Error(`cannot ${doing}: the VM has not been started`);
    if (this.exitInfo) throw new VmStopped(this.exitInfo, this.transcript, `asked to ${doing}`);
    return this.machine;
  }

  /** Settle when `found` returns non-null; fail on the VM's end or after `timeoutMs`. */
  private wait<T>(doing: string, timeoutMs: number | undefined, found: () => T | null): Promise<T> {
    const ms = timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        check: () => {
          const v = found();
          if (v === null) return false;
          done();
          resolve(v);
          return true;
        },
        ended: (exit) => {
          done();
          reject(exit.reason === "panic" ? new GuestPanic(exit.message ?? "", this.transcript) : new VmStopped(exit, this.transcript, doing));
        },
      };
      const done = () => { clearTimeout(timer); this.waiters.delete(waiter); };
      if (waiter.check()) return;
      if (this.exitInfo) return waiter.ended(this.exitInfo);
      if (!this.machine) return reject(new Error(`cannot wait: the VM has not been started`));
      this.waiters.add(waiter);
      timer = setTimeout(() => { done(); reject(new VmTimeout(doing, ms, this.transcript)); }, ms);
    });
  }

  private ended(exit: VmExit): VmExit {
    this.exitInfo = exit;
    this.saving?.reject(new VmStopped(exit, this.transcript, "taking a snapshot"));
    this.saving = null;
    for (const w of [...this.waiters]) if (!w.check()) w.ended(exit);
    this.emit("exit", exit);
    return exit;
  }

  /** Tell the listeners of `event`. */
  protected emit<K extends keyof VmEvents>(event: K, value: VmEvents[K]): void {
    for (const l of this.listeners[event] as Set<(value: VmEvents[K]) => void>) l(value);
  }
}

/** A worker's exit event as the library reports it (the worker's own reasons a library VM cannot have count as errors). */
export function publicExit(e: { reason: string; message?: string; panicVia?: "pvpanic" | "console"; stats: object }, extra: Record<string, unknown> = {}): VmExit {
  const known: readonly ExitReason[] = ["poweroff", "stopped", "panic", "reboot", "image", "state", "error"];
  const reason = (known as readonly string[]).includes(e.reason) ? (e.reason as ExitReason) : "error";
  return { reason, stats: { ...(e.stats as VmStats), ...extra }, ...(e.message !== undefined ? { message: e.message } : {}), ...(e.panicVia ? { panicVia: e.panicVia } : {}) };
}

/** The exit of a machine that failed outside its run loop (a worker that could not start). */
export function failedExit(e: unknown): VmExit {
  return { reason: "error", message: e instanceof Error ? e.message : String(e), stats: { instructions: 0, wallSeconds: 0, mips: 0, resets: 0 } };
}
