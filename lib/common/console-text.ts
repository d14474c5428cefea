// The guest console as text a test can search: bytes decoded as UTF-8, terminal control
// sequences taken out and CRLF folded to LF, kept up to a bound (a guest printing forever must
// not grow the host without limit), with the shell-prompt and command-output rules `exec` uses.

/** Terminal control sequences (busybox's line editor asks for the cursor position, ESC[6n). */
export const CSI_RE = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;
/** An escape sequence, or a CR, that the next chunk may complete: held back until it does. */
const PARTIAL_RE = /(\x1b(\[[0-9;?]*[ -\/]*)?|\r)$/;
/**
 * A kernel log line ("[    1.178498] clocksource: Switched to clocksource tsc"). printk writes
 * them whenever the kernel has something to say, so one can start right after a prompt or in
 * the middle of a command's echo; they are taken out before prompts are matched.
 */
export const KERNEL_LINE_RE = /\[ *\d+\.\d+\] [^\n]*\n/g;
/** The default guest's prompt (PS1='vireo:\w# '), at the end of the output. */
export const DEFAULT_PROMPT = /vireo:[^\n]*# $/;

/** Most characters kept; past it the oldest half is dropped (offsets stay absolute). */
export const TRANSCRIPT_MAX = 32 << 20;

export class ConsoleText {
  private readonly decoder = new TextDecoder();
  private pending = "";
  private kept = "";
  /** Characters dropped from the front (TRANSCRIPT_MAX). */
  private dropped = 0;

  /** Add console bytes; returns the text they completed (possibly ""). */
  push(bytes: Uint8Array): string {
    const text = this.pending + this.decoder.decode(bytes, { stream: true });
    const cut = text.search(PARTIAL_RE);
    const whole = cut < 0 ? text : text.slice(0, cut);
    this.pending = cut < 0 ? "" : text.slice(cut);
    const clean = whole.replace(CSI_RE, "").replace(/\r\n?/g, "\n");
    this.kept += clean;
    if (this.kept.length > TRANSCRIPT_MAX) {
      const drop = this.kept.length - TRANSCRIPT_MAX / 2;
      this.kept = this.kept.slice(drop);
      this.dropped += drop;
    }
    return clean;
  }

  /** Offset just past the last character (absolute: counts dropped characters too). */
  get end(): number {
    return this.dropped + this.kept.length;
  }

  /** The text from absolute offset `from` (or the oldest kept) to the end. */
  from(from: number): string {
    return this.kept.slice(Math.max(0, from - this.dropped));
  }

  /** Everything kept. */
  get text(): string {
    return this.kept;
  }
}

/** Does the output after `from` end at a shell prompt (kernel log lines aside)? */
export function atPrompt(text: string, prompt: RegExp): boolean {
  return prompt.test(text.replace(KERNEL_LINE_RE, ""));
}

/**
 * The line `exec` types: the command, then its exit status printed between two RS (0x1e)
 * bytes. The echo of the line shows the printf's format, never the digits, so only the real
 * status matches STATUS_RE.
 */
export function execLine(command: string): string {
  return `${command}; ${STATUS_PRINTF}\n`;
}
const STATUS_PRINTF = "printf '\\036%d\\036\\n' $?";
export const STATUS_RE = /\x1e(\d+)\x1e\n/;

/**
 * What a command printed: the text after its echoed line, up to the exit status. The echo ends
 * with the status printf (its first occurrence), unless the terminal broke the line inside it;
 * then the first line is the echo.
 */
export function commandOutput(after: string, statusAt: number, keepKernelLines: boolean): string {
  const echoEnd = after.indexOf(STATUS_PRINTF + "\n");
  const start = echoEnd >= 0 && echoEnd < statusAt ? echoEnd + STATUS_PRINTF.length + 1 : after.indexOf("\n") + 1;
  let out = after.slice(start, statusAt);
  if (!keepKernelLines) out = out.replace(KERNEL_LINE_RE, "");
  return out.endsWith("\n") ? out.slice(0, -1) : out;
}
