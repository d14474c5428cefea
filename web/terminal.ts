// The xterm.js terminal on the guest console, plus a plain-text transcript of everything the
// guest printed (for the status line and the Playwright test hook; no DOM scraping). It fills
// its element and follows the window's size; each new size goes to `onResize` (a virtio-console
// passes it to the guest's tty).
//
// While the page is hidden nothing is drawn: output is kept (up to HIDDEN_KEEP_BYTES, the newest)
// and handed to xterm.js when the page shows again, and the cursor stops blinking.
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import { CursorBlink } from "./cursor-blink.ts";

/**
 * Output kept while the page is hidden: the newest bytes, well over the 5,000 lines of
 * scrollback a terminal this size shows; older ones are dropped (and counted in a note).
 */
export const HIDDEN_KEEP_BYTES = 2 << 20;

export class ConsoleTerminal {
  readonly term: Terminal;
  private readonly decoder = new TextDecoder();
  private text = "";
  private readonly fitter = new FitAddon();
  private readonly blink: CursorBlink;
  private hidden = false;
  /** Output held while hidden, oldest first; `heldBytes` counts it, `dropped` what did not fit. */
  private held: (Uint8Array | string)[] = [];
  private heldBytes = 0;
  private dropped = 0;

  constructor(parent: HTMLElement, onInput: (bytes: Uint8Array) => void, onResize: (cols: number, rows: number) => void) {
    this.term = new Terminal({
      cursorBlink: false, // blinked by CursorBlink: xterm.js's CSS animation redraws every frame
      convertEol: false,
      fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
      fontSize: 14,
      rows: 30,
      cols: 100,
      scrollback: 5000,
      theme: { background: "#101418" },
    });
    this.term.loadAddon(this.fitter);
    this.term.open(parent);
    this.term.onResize(({ cols, rows }) => onResize(cols, rows));
    // The element's size changes with the window and with the layout above it (messages, the
    // image panel); fitting on every change keeps the grid filling it.
    new ResizeObserver(() => this.fit()).observe(parent);
    this.fit();
    const enc = new TextEncoder();
    this.blink = new CursorBlink(parent);
    this.term.onData((data) => {
      this.blink.restart();
      onInput(enc.encode(data));
    });
    this.term.onBinary((data) => onInput(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)));
  }

  get cols(): number {
    return this.term.cols;
  }

  get rows(): number {
    return this.term.rows;
  }

  fit(): void {
    this.fitter.fit();
  }

  write(bytes: Uint8Array): void {
    this.show(bytes);
    this.text += this.decoder.decode(bytes, { stream: true });
  }

  /**
   * Resolves once xterm.js has parsed everything written so far, and so has sent its answers
   * to what the guest asked in it (busybox's line editor asks for the cursor position, ESC[6n):
   * keys typed after this reach the guest after those answers, not inside a command's input.
   * While hidden nothing is parsed: at once.
   */
  flushed(): Promise<void> {
    return this.hidden ? Promise.resolve() : new Promise((resolve) => this.term.write("", resolve));
  }

  /** Show output of an earlier session again (a resumed machine's screen); not part of the transcript. */
  replay(text: string): void {
    this.show(text);
  }

  /** A line from the host (not the guest), dimmed; not part of the transcript. */
  note(message: string): void {
    this.show(noteText(message));
  }

  /** The page is hidden (document.visibilityState): draw nothing until it shows again. */
  setHidden(hidden: boolean): void {
    if (hidden === this.hidden) return;
    this.hidden = hidden;
    this.blink.setHidden(hidden);
    if (hidden) return;
    if (this.dropped > 0) this.term.write(noteText(`${this.dropped} bytes of output while the page was hidden are not shown`));
    for (const chunk of this.held) this.term.write(chunk);
    this.held = [];
    this.heldBytes = this.dropped = 0;
  }

  private show(data: Uint8Array | string): void {
    if (!this.hidden) {
      this.blink.restart();
      this.term.write(data);
      return;
    }
    this.held.push(data);
    this.heldBytes += data.length;
    while (this.heldBytes > HIDDEN_KEEP_BYTES && this.held.length > 1) {
      const old = this.held.shift()!;
      this.heldBytes -= old.length;
      this.dropped += old.length;
    }
  }

  /** Everything the guest printed since the last clear. */
  transcript(): string {
    return this.text;
  }

  clear(): void {
    this.term.reset();
    this.text = "";
    this.held = [];
    this.heldBytes = this.dropped = 0;
  }

  focus(): void {
    this.term.focus();
  }
}

function noteText(message: string): string {
  return `\r\n\x1b[2m[vireo] ${message}\x1b[0m\r\n`;
}
