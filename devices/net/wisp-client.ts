// A Wisp client (protocol v1, packets in wisp-frame.ts) over one WebSocket: the NAT's outside in
// a page (wisp-outside.ts) opens a stream per guest connection here. What it does:
//   - waits for the relay's first CONTINUE (stream 0: every stream's initial credit) before it
//     sends anything; streams opened meanwhile queue their CONNECT;
//   - counts each TCP stream's credit (one per DATA packet) and queues DATA past it in the
//     stream's send_buffer until the relay's next CONTINUE for that stream (UDP has no credit);
//   - answers a v2 relay's INFO with its own (version 2.0, the UDP extension), so such a relay
//     need not wait for one; anything else of v2 is not used.
// A relay that sends what is not a Wisp packet, or whose WebSocket closes, ends every stream
// with "network error" (a reset for the guest). WispRelay opens a new connection for the next
// stream after a pause, so a relay that went away and came back is used again.
import { CLOSE, STREAM_TCP, STREAM_UDP, WISP, closePacket, connectPacket, dataPacket, parsePacket } from "./wisp-frame.ts";
import type { WispClient, WispClientStream } from "./wisp-outside.ts";

/** The part of a WebSocket the client uses (the browser's, or the `ws` package's in Node). */
export interface WispSocket {
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: never) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: never) => void) | null;
}

/** Packets queued before the relay's first CONTINUE (CONNECTs and UDP datagrams). */
export const PENDING_MAX = 1024;
/** Queued writes are joined into one DATA packet up to this many bytes. */
export const COALESCE_MAX = 16384;
/** v2's INFO: major 2, minor 0, the UDP extension (id 0x01) with no metadata. */
const INFO_REPLY = Uint8Array.of(WISP.INFO, 0, 0, 0, 0, 2, 0, 0x01, 0, 0, 0, 0);

class Stream implements WispClientStream {
  credit = 0;
  closed = false;
  send_buffer: Uint8Array[] = [];
  onmessage: (data: Uint8Array) => void = () => {};
  onclose: (reason: number) => void = () => {};

  constructor(private readonly conn: WispConnection, readonly id: number, readonly tcp: boolean) {}

  send(data: Uint8Array): void {
    if (this.closed) return;
    if (!this.tcp) return this.conn.packet(dataPacket(this.id, data));
    this.send_buffer.push(data);
    this.flush();
  }

  close(reason: number = CLOSE.VOLUNTARY): void {
    if (this.closed) return;
    this.conn.packet(closePacket(this.id, reason));
    this.conn.forget(this);
  }

  /** Queued DATA goes out while credit lasts; small writes queued together share a packet (credit counts packets). */
  flush(): void {
    const q = this.send_buffer;
    while (this.credit > 0 && q.length > 0 && this.conn.ready) {
      this.credit--;
      let n = 1, bytes = q[0]!.length;
      while (n < q.length && bytes + q[n]!.length <= COALESCE_MAX) bytes += q[n++]!.length;
      if (n === 1) {
        this.conn.packet(dataPacket(this.id, q.shift()!));
        continue;
      }
      const joined = new Uint8Array(bytes);
      for (let i = 0, at = 0; i < n; at += q[i]!.length, i++) joined.set(q[i]!, at);
      q.splice(0, n);
      this.conn.packet(dataPacket(this.id, joined));
    }
  }
}

export class WispConnection implements WispClient {
  ready = false;
  dead = false;
  private initialCredit = 0;
  private readonly streams = new Map<number, Stream>();
  private nextId = 1;
  private pending: Uint8Array[] = [];
  readonly counters = { streams: 0, bytesUp: 0, bytesDown: 0 };

  constructor(private readonly ws: WispSocket, private readonly log: (m: string) => void, private readonly what = "wisp relay") {
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => this.message(ev.data);
    ws.onclose = (ev) => this.die(`closed (WebSocket code ${ev.code}${ev.reason ? `: ${ev.reason}` : ""})`);
    ws.onerror = () => {}; // the close that follows says it
  }

  get open(): number {
    return this.streams.size;
  }

  create_stream(host: string, port: number, type: "tcp" | "udp" = "tcp"): WispClientStream {
    const s = new Stream(this, this.nextId, type === "tcp");
    this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1; // 0 is the connection's
    if (this.dead) {
      s.closed = true;
      queueMicrotask(() => s.onclose(CLOSE.NETWORK_ERROR));
      return s;
    }
    this.counters.streams++;
    this.streams.set(s.id, s);
    s.credit = this.initialCredit;
    this.packet(connectPacket(s.id, type === "tcp" ? STREAM_TCP : STREAM_UDP, port, host));
    return s;
  }

  /** Close the WebSocket; every stream ends as by a network error (said only if there were any). */
  close(): void {
    if (this.streams.size > 0) this.die("closed by its user");
    this.dead = true;
    this.ws.close(1000);
  }

  packet(p: Uint8Array): void {
    if (this.dead) return;
    if (!this.ready) {
      if (this.pending.length >= PENDING_MAX) return this.fail(`${PENDING_MAX} packets queued before the relay's first CONTINUE`);
      this.pending.push(p);
      return;
    }
    if (p[0] === WISP.DATA) this.counters.bytesUp += p.length - 5;
    this.ws.send(p);
  }

  forget(s: Stream): void {
    s.closed = true;
    s.send_buffer.length = 0;
    this.streams.delete(s.id);
  }

  private message(data: unknown): void {
    if (this.dead) return;
    if (!(data instanceof ArrayBuffer)) return this.fail("a text message (Wisp packets are binary)");
    const p = parsePacket(new Uint8Array(data));
    if (typeof p === "string") return this.fail(p);
    if (p.stream === 0) {
      if ("remaining" in p && !this.ready) {
        this.initialCredit = p.remaining;
        this.ready = true;
        const queued = this.pending;
        this.pending = [];
        for (const q of queued) this.packet(q);
        for (const s of this.streams.values()) {
          s.credit = this.initialCredit;
          s.flush();
        }
      } else if (p.type === WISP.INFO) {
        this.ws.send(INFO_REPLY); // not queued: the handshake's own
      } else if ("reason" in p) {
        this.die(`closed the connection (reason 0x${p.reason.toString(16)})`);
        this.ws.close(1000);
      }
      return;
    }
    const s = this.streams.get(p.stream);
    if (!s) return; // a packet for a stream already closed here: they cross
    if ("data" in p) {
      this.counters.bytesDown += p.data.length;
      s.onmessage(p.data); // a view of this message's own buffer: the receiver may keep it
    } else if ("remaining" in p) {
      s.credit = p.remaining;
      s.flush();
    } else if ("reason" in p) {
      this.forget(s);
      s.onclose(p.reason);
    }
  }

  private fail(why: string): void {
    this.die(`sent what is not a Wisp packet: ${why}`);
    this.ws.close(1002);
  }

  private die(why: string): void {
    if (this.dead) return;
    this.dead = true;
    this.pending = [];
    this.log(`${this.what}: ${why}; its ${this.streams.size} stream(s) are reset`);
    const all = [...this.streams.values()];
    this.streams.clear();
    for (const s of all) {
      s.closed = true;
      s.onclose(CLOSE.NETWORK_ERROR);
    }
  }
}

/** How long after a connection that never became ready the next one is tried (ms), doubling to RETRY_MAX_MS. */
export const RETRY_MS = 2000, RETRY_MAX_MS = 30_000;

/**
 * The NAT's Wisp client: one connection at a time, opened on first use and again after the last
 * one died. A relay that cannot be reached is tried again only after a pause (streams meanwhile
 * end at once), so a guest retrying in a loop does not make the page open WebSockets in a loop.
 */
export class WispRelay implements WispClient {
  private conn: WispConnection | null = null;
  private retryAt = 0;
  private retryMs = RETRY_MS;
  private closed = false;

  constructor(
    private readonly openSocket: () => WispSocket,
    private readonly log: (m: string) => void,
    readonly url: string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The current connection (its counters, for the inspector), if any. */
  get connection(): WispConnection | null {
    return this.conn;
  }

  create_stream(host: string, port: number, type: "tcp" | "udp" = "tcp"): WispClientStream {
    if (this.closed) return this.deadStream();
    if (this.conn === null || this.conn.dead) {
      const failed = this.conn !== null && !this.conn.ready;
      if (failed && this.now() < this.retryAt) return this.deadStream();
      if (failed) this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      else if (this.conn !== null) this.retryMs = RETRY_MS;
      this.retryAt = this.now() + this.retryMs;
      try {
        this.conn = new WispConnection(this.openSocket(), this.log, `wisp relay ${this.url}`);
      } catch (e) {
        this.log(`wisp relay ${this.url}: ${(e as Error).message}`);
        return this.deadStream();
      }
    }
    return this.conn.create_stream(host, port, type);
  }

  close(): void {
    this.closed = true;
    this.conn?.close();
  }

  private deadStream(): WispClientStream {
    const s: WispClientStream = { send() {}, close() {}, onmessage: () => {}, onclose: () => {} };
    queueMicrotask(() => s.onclose(CLOSE.NETWORK_ERROR));
    return s;
  }
}
