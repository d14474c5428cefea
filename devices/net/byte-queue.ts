// A FIFO of bytes kept as the chunks they arrived in (no concatenation): a TCP sender's buffer,
// which holds what the peer has not acknowledged yet and what it has not been sent yet, and
// gives any range of it back for (re)transmission. Chunks are owned by the queue once pushed.

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already consumed. */
  private headOffset = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** Copy `len` bytes starting `from` bytes into the queue to `dst` at `at`. */
  copyOut(from: number, len: number, dst: Uint8Array, at: number): void {
    if (from < 0 || len < 0 || from + len > this.total) throw new RangeError(`byte queue: ${from}+${len} of ${this.total}`);
    let skip = from + this.headOffset;
    for (let i = 0; len > 0; i++) {
      const c = this.chunks[i]!;
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const n = Math.min(len, c.length - skip);
      dst.set(n === c.length ? c : c.subarray(skip, skip + n), at);
      at += n;
      len -= n;
      skip = 0;
    }
  }

  /** Drop the first `n` bytes (acknowledged). */
  consume(n: number): void {
    if (n > this.total) n = this.total;
    this.total -= n;
    n += this.headOffset;
    let i = 0;
    while (i < this.chunks.length && n >= this.chunks[i]!.length) n -= this.chunks[i++]!.length;
    if (i > 0) this.chunks.splice(0, i);
    this.headOffset = this.chunks.length > 0 ? n : 0;
  }

  clear(): void {
    this.chunks = [];
    this.headOffset = 0;
    this.total = 0;
  }
}
