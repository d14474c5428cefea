// Drives the guest console for --expect and --cmd. It runs inside the VM worker and sees each
// byte the guest transmits at the moment it is transmitted, so in deterministic clock mode the
// commands are typed at the same guest instant on every run (same transcript, same
// instruction count) — which a driver on another thread, reacting to wall-clock time, could
// not guarantee.
import type { ConsoleScript } from "./config.ts";
import { POWEROFF_CMD, PROMPT_RE } from "./config.ts";

export type ScriptEvent = { kind: "type"; text: string } | { kind: "done"; reason: "expect" | "cmds" | "save" };

const TAIL_MAX = 512;
/** Terminal control sequences (busybox's line editor asks for the cursor position, ESC[6n). */
const CSI_RE = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;

export class ConsoleScriptRunner {
  private tail = "";
  private ready = false;
  private next = 0; // index of the next command to type
  private finished = false;
  private poweringOff = false;
  private readonly prompt: RegExp;

  /**
   * `save`: after the last command, end with "save" (the guest stays at its prompt) instead of
   * typing poweroff.
   */
  constructor(private readonly script: ConsoleScript, private readonly save = false) {
    this.prompt = script.prompt === undefined ? PROMPT_RE : new RegExp(script.prompt);
  }

  /**
   * The machine was resumed from a state saved at a prompt: what to do at once — the first
   * command (or the end) — as if that prompt had just been printed.
   */
  resumeAtPrompt(): ScriptEvent | null {
    if (this.finished || (this.script.cmds.length === 0 && !this.save)) return null;
    this.ready = true;
    this.tail = "";
    return this.atPrompt();
  }

  /** True when the script has nothing to do (an interactive session). */
  get idle(): boolean {
    return this.script.expect === undefined && this.script.cmds.length === 0 && !this.save;
  }

  /** Feed transmitted console bytes; returns what to do now, if anything. */
  observe(bytes: string): ScriptEvent | null {
    if (this.finished) return null;
    // Look for the expected text in all of it (the caller hands over up to a few KiB at a time),
    // not just in what is kept for the prompt check.
    const text = this.tail + bytes;
    this.tail = text.slice(-TAIL_MAX);
    if (this.script.expect !== undefined && text.includes(this.script.expect)) {
      this.finished = true;
      return { kind: "done", reason: "expect" };
    }
    if ((this.script.cmds.length === 0 && !this.save) || this.poweringOff) return null;
    if (!this.ready) {
      if (!this.tail.includes(this.script.ready)) return null;
      this.ready = true;
    }
    if (!this.prompt.test(this.tail.replace(CSI_RE, ""))) return null;
    this.tail = "";
    return this.atPrompt();
  }

  /** At a prompt: type the next command, or power off (or save) after the last one. */
  private atPrompt(): ScriptEvent {
    if (this.next < this.script.cmds.length) return { kind: "type", text: this.script.cmds[this.next++]! + "\n" };
    this.poweringOff = true;
    if (this.save) {
      this.finished = true;
      return { kind: "done", reason: "save" };
    }
    return { kind: "type", text: (this.script.poweroff ?? POWEROFF_CMD) + "\n" };
  }
}
