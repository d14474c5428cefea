// Board log lines that a guest cannot turn into a flood. Every device, transport and bus logs
// "source: what happened" (a bad register access, a dropped frame, DEVICE_NEEDS_RESET); a guest
// can make any of them happen in a loop. Each source gets a token bucket: a burst of BURST lines,
// then RATE lines per second; what the bucket refuses is counted, and the count goes out with
// the source's next line that passes, or at flush() (the VM's exit).
//
// Time is the host's (performance.now), never the guest's: the lines are for the person running
// the VM, and guest time can stand still (paused) or jump (deterministic clock).

/** Lines a source may log at once. */
export const LOG_BURST = 20;
/** Lines per second a source may log after its burst. */
export const LOG_RATE = 2;
/** Sources tracked apart; the rest share one bucket (a source name is our text, but bounded anyway). */
const MAX_SOURCES = 64;
const OTHER = "(other)";

interface Bucket {
  tokens: number;
  at: number;
  suppressed: number;
}

export class LogLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly sink: (message: string) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Lines refused so far, over all sources (for --stats). */
  suppressed = 0;

  log(message: string): void {
    const bucket = this.bucket(sourceOf(message));
    const t = this.now();
    bucket.tokens = Math.min(LOG_BURST, bucket.tokens + ((t - bucket.at) / 1000) * LOG_RATE);
    bucket.at = t;
    if (bucket.tokens < 1) {
      bucket.suppressed++;
      this.suppressed++;
      return;
    }
    bucket.tokens -= 1;
    if (bucket.suppressed > 0) {
      this.sink(`${message} (${bucket.suppressed} earlier line${bucket.suppressed === 1 ? "" : "s"} from here suppressed)`);
      bucket.suppressed = 0;
    } else {
      this.sink(message);
    }
  }

  /** Say how many lines each source lost since its last line (the VM is about to exit). */
  flush(): void {
    for (const [source, b] of this.buckets) {
      if (b.suppressed === 0) continue;
      this.sink(`${source}: ${b.suppressed} more line${b.suppressed === 1 ? "" : "s"} suppressed (rate limit)`);
      b.suppressed = 0;
    }
  }

  private bucket(source: string): Bucket {
    let b = this.buckets.get(source);
    if (b) return b;
    if (this.buckets.size >= MAX_SOURCES) source = OTHER;
    b = this.buckets.get(source);
    if (!b) this.buckets.set(source, (b = { tokens: LOG_BURST, at: this.now(), suppressed: 0 }));
    return b;
  }
}

/** "virtio-blk0: write to read-only …" → "virtio-blk0"; a line without a prefix is its own source. */
function sourceOf(message: string): string {
  const i = message.indexOf(": ");
  return i > 0 && i <= 40 ? message.slice(0, i) : OTHER;
}
