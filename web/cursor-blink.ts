// The terminal's blinking cursor, at the cost of the cursor cell alone. xterm.js blinks its DOM
// renderer's cursor with an infinite CSS animation, which has the browser recompute style and
// produce a frame 60 times a second for as long as the page is open — most of what an idle tab
// cost (issue #22). Here xterm draws a steady cursor and a timer toggles one class on the
// terminal's element twice a second; the only rule that class enters (style.css,
// `.cursor-off .xterm-cursor-block`) matches the cursor's cell, so each toggle restyles and
// repaints that cell and nothing else.
//
// It blinks only while it can be seen and means something: the terminal has the keyboard, the
// page is visible, and the OS does not ask for reduced motion (then the cursor stays on).
// Typing or output shows the cursor at once and starts the blink over, as terminals do, and
// BLINK_FOR_MS after the last of them the cursor stays on (GTK's cursor-blink-timeout, 10 s by
// default, does the same): a terminal left alone costs no frames at all.

/** One phase (on or off) of the blink. */
export const BLINK_MS = 500;
/** Blinking stops this long after the last input or output (an even number of phases: it ends on). */
export const BLINK_FOR_MS = 10_000;
/** The class that hides the cursor cell (style.css). */
export const CURSOR_OFF = "cursor-off";

export class CursorBlink {
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Phases left before the blink rests (BLINK_FOR_MS). */
  private phases = 0;
  private focused = false;
  private hidden = false;
  private readonly reduced: MediaQueryList;

  constructor(private readonly el: HTMLElement) {
    this.reduced = matchMedia("(prefers-reduced-motion: reduce)");
    this.reduced.addEventListener("change", () => this.update());
    el.addEventListener("focusin", () => ((this.focused = true), this.restart()));
    el.addEventListener("focusout", () => ((this.focused = false), this.update()));
    this.focused = el.contains(document.activeElement);
    this.restart();
  }

  /** The page is hidden (document.visibilityState): no blinking, no timer; shown again, it blinks anew. */
  setHidden(hidden: boolean): void {
    this.hidden = hidden;
    if (hidden) this.update();
    else this.restart();
  }

  /** Input or output: the cursor shows at once and the blink starts over. */
  restart(): void {
    this.stop();
    this.phases = BLINK_FOR_MS / BLINK_MS;
    this.update();
  }

  private update(): void {
    const blink = this.focused && !this.hidden && !this.reduced.matches && this.phases > 0;
    if (!blink) return this.stop();
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.el.classList.toggle(CURSOR_OFF);
      if (--this.phases <= 0) this.stop(); // at rest, cursor on
    }, BLINK_MS);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.el.classList.remove(CURSOR_OFF);
  }
}
