// A Wisp relay (protocol v1, packets in devices/net/wisp-frame.ts): each WebSocket carries a
// client's TCP and UDP streams, which this process opens as real sockets. Served by `vireo wisp`
// (cli/wisp.ts) and by the dev server for `npm start` (vite.config.ts).
//
// It is bounded, since whoever reaches its port can use it:
//   - destinations: names are resolved here and every address is judged (relay-policy.ts) —
//     loopback, private and link-local addresses are refused unless allowed; the socket connects
//     to the address that passed, so a name cannot change its answer in between;
//   - streams per connection (over it: CLOSE "throttled"), connections per relay (over it: the
//     upgrade is answered 503), a connect timeout, packet size (the WebSocket's maxPayload);
//   - upstream, CONTINUE credit: a stream's socket holds at most a credit of packets (and a
//     connection's streams SESSION_BYTES_HELD bytes); a client sending more ignores its credit,
//     and the stream is closed;
//   - downstream, what the WebSocket has not sent yet: past WS_HIGH bytes every TCP socket of
//     the connection is paused (and UDP datagrams dropped) until it falls under WS_LOW.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { isIP, Socket } from "node:net";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { WebSocketServer, type WebSocket } from "ws";
import { CLOSE, HEADER, STREAM_TCP, STREAM_UDP, WISP, closePacket, continuePacket, dataPacket, parsePacket } from "../devices/net/wisp-frame.ts";
import { refusal, type AddressClass } from "./relay-policy.ts";

export interface RelayOptions {
  /** Address classes the relay may connect to besides public ones (default none). */
  allow: ReadonlySet<AddressClass>;
  /** Open streams per WebSocket. */
  maxStreams: number;
  /** WebSockets at once. */
  maxConnections: number;
  /** Every stream's credit: DATA packets the relay takes before the client waits for a CONTINUE. */
  credit: number;
  /** The largest WebSocket message taken (bigger closes the connection, code 1009). */
  maxPacket: number;
  connectTimeoutMs: number;
  /** Name lookups (all addresses of a name); the host's resolver by default. */
  lookup: (host: string) => Promise<string[]>;
  log: (message: string) => void;
}

export const RELAY_DEFAULTS: Omit<RelayOptions, "log"> = {
  allow: new Set(),
  maxStreams: 128,
  maxConnections: 32,
  credit: 32,
  maxPacket: HEADER + 65536,
  connectTimeoutMs: 10_000,
  lookup: async (host) => (await lookup(host, { all: true })).map((a) => a.address),
};
/** Upstream bytes held for all of a connection's streams (each holds at most a credit of packets). */
export const SESSION_BYTES_HELD = 16 << 20;
/** Downstream bytes the WebSocket may hold unsent before TCP reads pause, and resume. */
export const WS_HIGH = 4 << 20, WS_LOW = 1 << 20;

interface TcpStream {
  kind: "tcp";
  sock: Socket | null;
  /** Packets written to the socket and not yet flushed by it, and their bytes. */
  queued: number;
  queuedBytes: number;
  /** DATA received since the last CONTINUE, and what that CONTINUE allowed. */
  sinceGrant: number;
  granted: number;
  /** DATA that came before the socket (the name lookup was under way). */
  early: [Uint8Array, () => void][];
}
interface UdpStream {
  kind: "udp";
  sock: UdpSocket | null;
}
type Stream = (TcpStream | UdpStream) & { id: number; target: string; closed: boolean };

const errnoReason = (code: string | undefined): number =>
  code === "ECONNREFUSED" ? CLOSE.REFUSED
    : code === "ETIMEDOUT" ? CLOSE.CONNECT_TIMEOUT
    : code === "EHOSTUNREACH" || code === "ENETUNREACH" || code === "ENOTFOUND" || code === "EAI_AGAIN" ? CLOSE.UNREACHABLE
    : CLOSE.NETWORK_ERROR;

/** One client's WebSocket: its streams, their sockets and the credit. */
export class WispSession {
  private readonly streams = new Map<number, Stream>();
  private unsent = 0;
  /** Upstream bytes held for every stream's socket. */
  private queuedBytes = 0;
  private paused = false;
  private dead = false;
  readonly counters = { streams: 0, refused: 0, bytesUp: 0, bytesDown: 0 };

  constructor(private readonly ws: WebSocket, private readonly o: RelayOptions, private readonly peer: string) {
    ws.on("message", (data, isBinary) => this.message(data as Buffer, isBinary));
    ws.on("close", () => this.end());
    ws.on("error", () => {}); // the close follows
    this.send(continuePacket(0, o.credit)); // the handshake: every stream's initial credit
  }

  private message(data: Buffer, isBinary: boolean): void {
    if (this.dead) return;
    if (!isBinary) return this.protocolError("a text message");
    const p = parsePacket(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (typeof p === "string") return this.protocolError(p);
    if (p.stream === 0) return; // v2's INFO from a client: this relay speaks v1 and ignores it
    if ("host" in p) return this.connect(p.stream, p.streamType, p.port, p.host);
    const s = this.streams.get(p.stream);
    if (!s) return; // CLOSE and DATA cross, or a stream already refused
    if ("data" in p) this.data(s, p.data);
    else if ("reason" in p) this.close(s, null);
    // CONTINUE from a client means nothing; other types are ignored (extensions not offered)
  }

  private connect(id: number, type: number, port: number, host: string): void {
    if (this.streams.has(id)) return this.protocolError(`CONNECT for stream ${id}, which is open`);
    const refuse = (reason: number, why: string) => {
      this.counters.refused++;
      this.o.log(`wisp: ${this.peer}: refused ${type === STREAM_UDP ? "udp" : "tcp"} ${host}:${port}: ${why}`);
      this.send(closePacket(id, reason));
    };
    if (type !== STREAM_TCP && type !== STREAM_UDP) return refuse(CLOSE.INVALID, `stream type 0x${type.toString(16)}`);
    if (port === 0) return refuse(CLOSE.INVALID, "port 0");
    if (this.streams.size >= this.o.maxStreams) return refuse(CLOSE.THROTTLED, `${this.o.maxStreams} streams open (the limit)`);
    const base = { id, target: `${host}:${port}`, closed: false };
    const s: Stream = type === STREAM_TCP ? { ...base, kind: "tcp", sock: null, queued: 0, queuedBytes: 0, sinceGrant: 0, granted: this.o.credit, early: [] } : { ...base, kind: "udp", sock: null };
    this.streams.set(id, s);
    this.counters.streams++;
    void this.resolve(host).then((addrs) => {
      if (s.closed || this.dead) return;
      if (addrs.length === 0) {
        this.streams.delete(id);
        return refuse(CLOSE.UNREACHABLE, "the name has no addresses");
      }
      const allowed = addrs.find((a) => refusal(a, this.o.allow) === null);
      if (allowed === undefined) {
        this.streams.delete(id);
        const why = refusal(addrs[0]!, this.o.allow)!;
        return refuse(CLOSE.BLOCKED, `${addrs[0]} is ${why}${why.includes("reserved") ? "" : " (vireo wisp --allow … allows it)"}`);
      }
      if (s.kind === "tcp") this.openTcp(s, allowed, port);
      else this.openUdp(s, allowed, port);
    }, (e: NodeJS.ErrnoException) => {
      if (s.closed || this.dead) return;
      this.streams.delete(id);
      refuse(errnoReason(e.code), e.code ?? e.message);
    });
  }

  private async resolve(host: string): Promise<string[]> {
    const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
    return isIP(bare) ? [bare] : this.o.lookup(host);
  }

  private openTcp(s: TcpStream & Stream, ip: string, port: number): void {
    const sock = new Socket({ allowHalfOpen: false });
    s.sock = sock;
    const timer = setTimeout(() => sock.destroy(Object.assign(new Error("connect timed out"), { code: "ETIMEDOUT" })), this.o.connectTimeoutMs);
    let connected = false;
    sock.setNoDelay(true);
    sock.once("connect", () => {
      connected = true;
      clearTimeout(timer);
    });
    sock.on("data", (b: Buffer) => {
      this.counters.bytesDown += b.length;
      this.send(dataPacket(s.id, b));
      if (this.paused) sock.pause();
    });
    sock.on("error", () => {}); // the close says it
    sock.on("close", () => {
      clearTimeout(timer);
      if (s.closed) return;
      const err = (sock as Socket & { errored?: NodeJS.ErrnoException | null }).errored;
      if (!connected && err) this.o.log(`wisp: ${this.peer}: tcp ${s.target} (${ip}): ${err.code ?? err.message}`);
      this.close(s, err ? (connected ? CLOSE.NETWORK_ERROR : errnoReason(err.code)) : CLOSE.VOLUNTARY);
    });
    sock.connect(port, ip);
    for (const [b, done] of s.early) sock.write(b, done);
    s.early = [];
    if (this.paused) sock.pause();
  }

  private openUdp(s: UdpStream & Stream, ip: string, port: number): void {
    const sock = createSocket(isIP(ip) === 6 ? "udp6" : "udp4");
    s.sock = sock;
    sock.on("message", (b) => {
      if (this.unsent > WS_HIGH) return; // UDP may be lost; the WebSocket is backed up
      this.counters.bytesDown += b.length;
      this.send(dataPacket(s.id, b));
    });
    sock.on("error", () => {}); // an ICMP error on a connected UDP socket: UDP's loss
    sock.connect(port, ip);
  }

  private data(s: Stream, bytes: Uint8Array): void {
    this.counters.bytesUp += bytes.length;
    if (s.kind === "udp") {
      // A datagram sent before the socket is connected (the lookup is under way) is lost, as UDP may be.
      if (s.sock) s.sock.send(bytes, (e) => void e);
      return;
    }
    s.sinceGrant++;
    const over = s.queued >= this.o.credit ? `${s.queued} packets`
      : this.queuedBytes + bytes.length > SESSION_BYTES_HELD ? `${this.queuedBytes} bytes over all its streams` : null;
    if (over !== null) {
      this.o.log(`wisp: ${this.peer}: tcp ${s.target}: the client sent past its credit (${over} queued); stream closed`);
      this.send(closePacket(s.id, CLOSE.THROTTLED));
      return this.close(s, null);
    }
    const n = bytes.length;
    s.queued++;
    s.queuedBytes += n;
    this.queuedBytes += n;
    const done = () => {
      s.queued--;
      s.queuedBytes -= n;
      this.queuedBytes -= n;
      this.grant(s);
    };
    // Before the lookup ends there is no socket yet: the packet waits (bounded by the credit).
    if (s.sock) s.sock.write(bytes.slice(), done);
    else s.early.push([bytes.slice(), done]);
    this.grant(s);
  }

  /**
   * A CONTINUE resets the client's count (v1 has no increments), so a new one goes out only once
   * every packet of the last one has come — none is then on the way, and the socket never holds
   * more than a credit — and once the socket has taken at least half of them.
   */
  private grant(s: TcpStream & Stream): void {
    if (s.closed || s.sinceGrant < s.granted || s.queued > this.o.credit >> 1) return;
    s.sinceGrant = 0;
    s.granted = this.o.credit - s.queued;
    this.send(continuePacket(s.id, s.granted));
  }

  private close(s: Stream, reason: number | null): void {
    if (s.closed) return;
    s.closed = true;
    this.streams.delete(s.id);
    if (s.kind === "tcp") s.sock?.destroy();
    else s.sock?.close();
    if (reason !== null && !this.dead) this.send(closePacket(s.id, reason));
  }

  private send(p: Uint8Array): void {
    if (this.dead) return;
    const n = p.length;
    this.unsent += n;
    this.ws.send(p, () => {
      this.unsent -= n;
      if (this.paused && this.unsent < WS_LOW) {
        this.paused = false;
        for (const s of this.streams.values()) if (s.kind === "tcp") s.sock?.resume();
      }
    });
    if (!this.paused && this.unsent > WS_HIGH) this.paused = true; // each socket pauses at its next read
  }

  private protocolError(why: string): void {
    this.o.log(`wisp: ${this.peer}: not a Wisp packet (${why}); connection closed`);
    this.ws.close(1002, "not a Wisp packet");
    this.end();
  }

  private end(): void {
    if (this.dead) return;
    this.dead = true;
    for (const s of [...this.streams.values()]) this.close(s, null);
  }
}

/**
 * Serve Wisp on `server`'s WebSocket upgrades to a path under `prefix` (the protocol's URLs end
 * in "/"). Other upgrades are left to the server's other listeners.
 */
export function attachWisp(
  server: Server,
  prefix: string,
  options: Partial<RelayOptions> & Pick<RelayOptions, "log">,
  /** The classes allowed for a client at this address (default: options.allow for every client). */
  allowFor?: (remote: string | undefined) => ReadonlySet<AddressClass>,
): { close(): void; sessions: Set<WispSession> } {
  const o: RelayOptions = { ...RELAY_DEFAULTS, ...options };
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPacket, perMessageDeflate: false });
  const sessions = new Set<WispSession>();
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (!path.startsWith(prefix)) return;
    if (sessions.size >= o.maxConnections) {
      o.log(`wisp: refused a connection from ${req.socket.remoteAddress}: ${o.maxConnections} open (the limit)`);
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
      const s = new WispSession(ws, allowFor ? { ...o, allow: allowFor(req.socket.remoteAddress) } : o, peer);
      sessions.add(s);
      ws.on("close", () => sessions.delete(s));
    });
  };
  server.on("upgrade", onUpgrade);
  return {
    sessions,
    close: () => {
      server.off("upgrade", onUpgrade);
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}
