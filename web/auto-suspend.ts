// When the page saves the running machine to browser storage by itself (state-store.ts), so
// that the next visit resumes where this one left off:
// - after the user typed and the console has then been quiet for QUIET_MS (a command ran):
//   the shell, its history and its files as they are now;
// - when the tab has been hidden for HIDDEN_MS with anything new since the last save;
// - on pagehide, as far as the browser lets a closing page finish (it may not: the two above
//   are what a reload relies on).
// Nothing runs while the guest and the user are idle: no timer is armed without input, output
// or a hidden tab. Saves are increments over the stored chain (only pages written since the
// last save); a whole state starts a new chain when there is none yet, or once the chain holds
// MAX_PARTS increments or more bytes of them than its whole state has.
import type { SavedState, VmSession } from "./vm-host.ts";
import type { StateStore, SuspendExtra, SuspendMeta } from "./state-store.ts";

export const QUIET_MS = 1500;
export const HIDDEN_MS = 5000;
export const MAX_PARTS = 16;

export interface AutoSuspendHost {
  /** The running VM, if any. */
  session(): VmSession | undefined;
  /** What the stored record keeps beside the states: the settings query and the screen. */
  extra(): SuspendExtra;
  /** A save failed: the message, once per power-on (saving is then off until the next). */
  failed(message: string): void;
}

/** A save that was stored: the chain's record after it, and the state itself. */
export interface StoredSave {
  meta: SuspendMeta;
  state: SavedState;
}

export class AutoSuspend {
  private quiet: ReturnType<typeof setTimeout> | undefined;
  private hiddenTimer: ReturnType<typeof setTimeout> | undefined;
  private typed = false; // input since the last quiet save
  private changed = false; // input or output since the last save
  private off = false; // a save failed on this machine
  private meta: SuspendMeta | null = null;
  private running: Promise<StoredSave | null> | null = null;

  constructor(private readonly store: StateStore, private readonly h: AutoSuspendHost) {}

  /** A machine started: fresh (no chain yet) or resumed from `meta`'s chain. */
  started(meta: SuspendMeta | null): void {
    this.meta = meta;
    this.off = false;
    this.typed = this.changed = false;
    this.disarm();
  }

  /** The machine stopped: nothing more to save. */
  stopped(): void {
    this.disarm();
  }

  /** The user typed at the console. */
  input(): void {
    this.typed = this.changed = true;
    this.armQuiet();
  }

  /** The guest printed. */
  output(): void {
    this.changed = true;
    if (this.typed) this.armQuiet();
  }

  visibility(hidden: boolean): void {
    clearTimeout(this.hiddenTimer);
    this.hiddenTimer = undefined;
    if (hidden && this.changed) this.hiddenTimer = setTimeout(() => void this.save().catch(() => {}), HIDDEN_MS);
  }

  pagehide(): void {
    if (this.changed) void this.save().catch(() => {});
  }

  /**
   * Save now and store it (the Suspend and Download buttons, the timers). Resolves with what was
   * stored, or null when there is no machine or saving is off; rejects when the save or the
   * store failed.
   */
  save(whole = false): Promise<StoredSave | null> {
    if (this.running) return this.running.catch(() => null).then(() => this.save(whole));
    const s = this.h.session();
    if (!s?.alive || this.off) return Promise.resolve(null);
    this.running = this.saveTo(s, whole).finally(() => (this.running = null));
    return this.running;
  }

  private async saveTo(s: VmSession, whole: boolean): Promise<StoredSave | null> {
    this.changed = this.typed = false;
    const m = this.meta;
    const chainBytes = m ? m.parts.slice(1).reduce((n, p) => n + p.bytes, 0) : 0;
    const compact = !m || m.parts.length >= MAX_PARTS || chainBytes > m.parts[0]!.bytes;
    try {
      let state = await s.save(whole || compact);
      // An increment over a chain no longer stored (cleared, or replaced from another tab):
      // useless alone, so a whole state instead.
      let meta = await this.store.put(state, this.h.extra());
      if (!meta) meta = await this.store.put((state = await s.save(true)), this.h.extra());
      this.meta = meta;
      return meta ? { meta, state } : null;
    } catch (e) {
      if (s.alive) {
        this.off = true;
        this.h.failed((e as Error).message);
      }
      throw e;
    }
  }

  private armQuiet(): void {
    if (this.off) return;
    clearTimeout(this.quiet);
    this.quiet = setTimeout(() => {
      this.quiet = undefined;
      void this.save().catch(() => {});
    }, QUIET_MS);
  }

  private disarm(): void {
    clearTimeout(this.quiet);
    clearTimeout(this.hiddenTimer);
    this.quiet = this.hiddenTimer = undefined;
  }
}
