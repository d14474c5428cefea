// The NAT's outside over a Wisp relay (the Wisp protocol, v1/v2: many TCP and UDP streams over
// one WebSocket; a client such as @mercuryworkshop/wisp-js's ClientConnection speaks it), for a
// page, which has no sockets. What Wisp gives and does not, and what the NAT does about it:
//   - CONNECT is optimistic (data may follow at once; a failure comes later as CLOSE with a
//     reason): the guest's SYN is answered at once, and a failed connect resets the connection.
//   - No half-close: a guest FIN is kept to itself (the stream stays open until the remote
//     closes or the guest resets); a remote CLOSE is the end of its data and of the stream.
//   - Flow control upstream is the server's CONTINUE credit (the client queues DATA past it):
//     `buffered` is that queue, polled, and a fall in it is the NAT's drain.
//   - No flow control downstream (a WebSocket cannot be paused): while the NAT asks for a pause
//     the stream's data is held here, up to HOLD_MAX bytes a stream and HOLD_TOTAL for all;
//     past that the stream is closed (a reset for the guest), so a slow guest cannot make the
//     page hold memory without bound. A relay sends as fast as its remote does, and an emulated
//     guest takes a few MB/s: a download runs up to HOLD_MAX ahead of the guest, so that is the
//     room a single transfer has (a 16 MiB download from a local server arrives almost at once).
//   - UDP streams go to one destination each: a guest flow gets one per destination (at most
//     UDP_DESTINATIONS).
//   - Names: CONNECT carries a hostname, so with `names` (relay-names.ts) the relay resolves
//     them: the guest is given a stand-in address, and a connection to it is opened to the name.
//     Otherwise `resolve` comes from the page (DNS over HTTPS, say), or names fail.
import type { RelayNames } from "./relay-names.ts";
import type { Outside, OutsideTcp, OutsideTcpEvents, OutsideUdp } from "./nat-outside.ts";

/** The part of a Wisp client connection the NAT uses (the shape of wisp-js's ClientConnection). */
export interface WispClient {
  create_stream(host: string, port: number, type?: "tcp" | "udp"): WispClientStream;
  /** Close the connection (the NAT is gone). */
  close?(): void;
}

/** A Wisp stream (the shape of wisp-js's ClientStream). */
export interface WispClientStream {
  send(data: Uint8Array): void;
  /** Send CLOSE with `reason` (Wisp close reasons, protocol §0x04). */
  close(reason?: number): void;
  onmessage: (data: Uint8Array) => void;
  onclose: (reason: number) => void;
  /** DATA queued in the client until the server's CONTINUE (wisp-js keeps it here). */
  send_buffer?: Uint8Array[];
}

/** Wisp close reasons (protocol §0x04) by number, as the NAT's log names them. */
export const WISP_CLOSE_REASONS: Readonly<Record<number, string>> = {
  0x01: "unspecified", 0x02: "voluntary", 0x03: "network error", 0x04: "incompatible extensions",
  0x41: "invalid destination", 0x42: "unreachable", 0x43: "connect timed out", 0x44: "refused",
  0x47: "transfer timed out", 0x48: "blocked by the relay", 0x49: "throttled", 0x81: "client error",
};
const VOLUNTARY = 0x02, CLIENT_ERROR = 0x81;
/** Downstream bytes held for a paused stream before it is closed. */
export const HOLD_MAX = 64 << 20;
/** Downstream bytes held for all paused streams together. */
export const HOLD_TOTAL = 128 << 20;
/** UDP destinations per guest flow. */
export const UDP_DESTINATIONS = 16;
/** How often `buffered` is looked at for streams that have some (ms). */
export const DRAIN_POLL_MS = 50;

export interface WispOutsideOptions {
  /** Name lookups (the NAT's DNS); absent: every name is unknown. */
  resolve?: (name: string, family: 4 | 6) => Promise<string[]>;
  /** The relay resolves names: the guest gets stand-in addresses (when `resolve` is absent). */
  names?: RelayNames;
  setInterval?: (f: () => void, ms: number) => unknown;
  clearInterval?: (t: unknown) => void;
}

class WispTcp implements OutsideTcp {
  private paused = false;
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private done = false;
  /** The remote closed while data was held: the end goes to the guest after that data. */
  private endOwed = false;
  lastBuffered = 0;

  constructor(private readonly owner: WispOutside, private readonly s: WispClientStream, private readonly ev: OutsideTcpEvents) {
    s.onmessage = (data) => {
      if (this.done) return;
      if (!this.paused) return ev.data(data);
      this.held.push(data);
      this.heldBytes += data.length;
      owner.held += data.length;
      if (this.heldBytes > HOLD_MAX || owner.held > HOLD_TOTAL) {
        this.s.close(CLIENT_ERROR);
        this.finish(`the guest is not reading: ${this.heldBytes} bytes held${owner.held > HOLD_TOTAL ? ` (${owner.held} for all streams)` : ""}`);
      }
    };
    s.onclose = (reason) => {
      if (this.done || this.endOwed) return;
      if (reason === VOLUNTARY) {
        // The remote's close: its data has all come (held data first — on resume if the guest
        // is not reading now — then the end).
        this.endOwed = true;
        this.flushHeld();
      } else {
        this.finish(`wisp ${WISP_CLOSE_REASONS[reason] ?? "close reason 0x" + reason.toString(16)}`);
      }
    };
  }

  get buffered(): number {
    let n = 0;
    for (const b of this.s.send_buffer ?? []) n += b.length;
    return n;
  }

  write(bytes: Uint8Array): void {
    if (!this.done) this.s.send(bytes);
    this.owner.watch(this);
  }

  end(): void {
    // Wisp has no half-close: the stream stays open for the remote's answer.
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.owner.held -= this.heldBytes;
    this.heldBytes = 0;
    this.held = [];
    this.owner.unwatch(this);
    this.s.close(VOLUNTARY);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.flushHeld();
  }

  /** A drain check: the credit queue fell. */
  poll(): void {
    const b = this.buffered;
    if (b < this.lastBuffered) this.ev.drain();
    this.lastBuffered = b;
    if (b === 0) this.owner.unwatch(this);
  }

  private flushHeld(): void {
    while (!this.paused && this.held.length > 0) {
      const d = this.held.shift()!;
      this.heldBytes -= d.length;
      this.owner.held -= d.length;
      this.ev.data(d);
    }
    if (this.endOwed && this.held.length === 0 && !this.done) {
      this.ev.end();
      this.finish(null);
    }
  }

  private finish(error: string | null): void {
    this.done = true;
    this.owner.held -= this.heldBytes;
    this.heldBytes = 0;
    this.held = [];
    this.owner.unwatch(this);
    this.ev.closed(error);
  }
}

export class WispOutside implements Outside {
  /** Bytes held for paused streams (all of them). */
  held = 0;
  private readonly watched = new Set<WispTcp>();
  private timer: unknown = null;
  private readonly every: (f: () => void, ms: number) => unknown;
  private readonly stop: (t: unknown) => void;

  constructor(private readonly client: WispClient, private readonly opts: WispOutsideOptions = {}) {
    this.every = opts.setInterval ?? ((f, ms) => setInterval(f, ms));
    this.stop = opts.clearInterval ?? ((t) => clearInterval(t as ReturnType<typeof setInterval>));
  }

  connectTcp(ip: string, port: number, ev: OutsideTcpEvents): OutsideTcp {
    const t = new WispTcp(this, this.client.create_stream(this.host(ip), port, "tcp"), ev);
    // CONNECT is optimistic: the stream takes data at once; a failure arrives as CLOSE.
    queueMicrotask(() => ev.connected());
    return t;
  }

  openUdp(message: (bytes: Uint8Array, ip: string, port: number) => void): OutsideUdp {
    const streams = new Map<string, WispClientStream>();
    let open = true;
    return {
      send: (bytes, ip, port) => {
        if (!open) return;
        const key = `${ip}:${port}`;
        let s = streams.get(key);
        if (!s) {
          if (streams.size >= UDP_DESTINATIONS) return; // UDP is lossy: past the cap, dropped
          s = this.client.create_stream(this.host(ip), port, "udp");
          s.onmessage = (d) => open && message(d, ip, port);
          s.onclose = () => void streams.delete(key);
          streams.set(key, s);
        }
        s.send(bytes);
      },
      close: () => {
        open = false;
        for (const s of streams.values()) s.close(VOLUNTARY);
        streams.clear();
      },
    };
  }

  close(): void {
    for (const w of [...this.watched]) this.unwatch(w);
    this.client.close?.();
  }

  resolve(name: string, family: 4 | 6): Promise<string[]> {
    if (this.opts.resolve) return this.opts.resolve(name, family);
    const names = this.opts.names;
    if (names) {
      // The name's own addresses are the relay's to know; the guest gets an IPv4 stand-in only.
      if (family === 4) return Promise.resolve([names.address(name)]);
      return Promise.reject(Object.assign(new Error(`${name}: IPv4 only through the relay`), { code: "ENODATA" }));
    }
    return Promise.reject(Object.assign(new Error(`no resolver for ${name}`), { code: "ENOTFOUND" }));
  }

  /** What the relay is asked to connect to: the name behind a stand-in address, or the address. */
  private host(ip: string): string {
    return this.opts.names?.name(ip) ?? ip;
  }

  /** A stream with queued upstream data: polled until the queue empties. */
  watch(t: WispTcp): void {
    this.watched.add(t);
    this.timer ??= this.every(() => {
      for (const w of [...this.watched]) w.poll();
    }, DRAIN_POLL_MS);
  }

  unwatch(t: WispTcp): void {
    this.watched.delete(t);
    if (this.watched.size === 0 && this.timer !== null) {
      this.stop(this.timer);
      this.timer = null;
    }
  }
}
