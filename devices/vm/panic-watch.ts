// The console side of panic detection. A kernel with the pvpanic driver reports its panic to the
// board (devices/pvpanic.ts); this is the fallback for kernels without it: the line Linux's
// panic() prints first (kernel/panic.c: "Kernel panic - not syncing: <reason>"), recognized on
// the console once the line is complete. It also keeps that line for the report when pvpanic
// is what ended the run.

export const PANIC_TEXT = "Kernel panic - not syncing";
/** A console line longer than this is cut (the panic reason is short). */
const LINE_MAX = 512;

export class PanicWatch {
  /** The last complete panic line seen (without its printk timestamp), or null. */
  line: string | null = null;
  private current = "";

  /** Feed console text; returns the panic line when one has just been completed. */
  observe(text: string): string | null {
    let found: string | null = null;
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      const piece = text.slice(start, nl < 0 ? text.length : nl);
      if (this.current.length < LINE_MAX) this.current += piece.slice(0, LINE_MAX - this.current.length);
      if (nl < 0) break;
      const at = this.current.indexOf(PANIC_TEXT);
      // Linux's own end marker repeats the text ("---[ end Kernel panic - not syncing: …"): not a new panic.
      if (at >= 0 && !this.current.includes("---[ end ")) found = this.line = this.current.slice(at).replace(/\r$/, "");
      this.current = "";
      start = nl + 1;
    }
    return found;
  }
}
