// The xterm.js terminal on the guest console, plus a plain-text transcript of everything the
// guest printed (for the status line and the Playwright test hook; no DOM scraping). It fills
// its element and follows the window's size; each new size goes to `onResize` (a virtio-console
// passes it to the guest's tty).
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";

export class ConsoleTerminal {
  readonly term: Terminal;
  private readonly decoder = new TextDecoder();
  private text = "";
  private readonly fitter = new FitAddon();

  constructor(parent: HTMLElement, onInput: (bytes: Uint8Array) => void, onResize: (cols: number, rows: number) => void) {
    this.term = new Terminal({
      cursorBlink: true,
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
    this.term.onData((data) => onInput(enc.encode(data)));
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
    this.term.write(bytes);
    this.text += this.decoder.decode(bytes, { stream: true });
  }

  /** A line from the host (not the guest), dimmed; not part of the transcript. */
  note(message: string): void {
    this.term.write(`\r\n\x1b[2m[vireo] ${message}\x1b[0m\r\n`);
  }

  /** Everything the guest printed since the last clear. */
  transcript(): string {
    return this.text;
  }

  clear(): void {
    this.term.reset();
    this.text = "";
  }

  focus(): void {
    this.term.focus();
  }
}
