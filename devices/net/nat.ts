// User-mode NAT: the built-in host as the guest's gateway to the real network, the way QEMU's
// `-netdev user` (slirp) and passt work. No packet leaves as a packet: a guest TCP connection
// ends in this host (tcp-conn.ts) and its bytes go on over an outside stream (nat-outside.ts —
// Node sockets, or a relay in a page); a UDP datagram goes on from an outside UDP socket, one
// per guest source port; a DNS query to the resolver address is answered from the outside's
// name lookup. The gateway address is the host machine itself (its 127.0.0.1), as in QEMU.
//
// ICMP echo to outside addresses is not offered: a Node program has no ICMP socket (raw or
// ping sockets need privileges Node does not expose). Echo to the gateway and the resolver
// address is answered by the host stack.
//
// The guest is hostile: connections and UDP flows are capped (a connection over the cap is
// reset and logged, a datagram over the flow cap dropped and logged), outside connects time out,
// idle connections and flows expire, DNS lookups in progress are capped, and every buffer is
// bounded by a window (tcp-conn.ts). Frames come in as views of the caller's scratch buffer;
// replies are written into the host stack's one transmit buffer (IpOut): no allocation per
// packet apart from the outside's own buffers.
import { onesSumRange, pseudoSum32 } from "./checksum.ts";
import { DNS_PORT, RCODE_FORMERR, RCODE_NOTIMP, RCODE_NXDOMAIN, RCODE_OK, RCODE_REFUSED, RCODE_SERVFAIL, TYPE_A, TYPE_AAAA, CLASS_IN, dnsAnswer, parseDnsQuery, parseIpv6, plausibleName } from "./dns.ts";
import { FrameError } from "./ethernet.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "./ipv4.ts";
import type { Outside, OutsideTcp, OutsideTcpEvents, OutsideUdp } from "./nat-outside.ts";
import { TCP_ACK, TCP_FIN, TCP_MSS, TCP_RST, TCP_SYN, TcpConn, type TcpApp, type TcpWire } from "./tcp-conn.ts";

/** Where the NAT writes a packet for the guest: an IPv4 payload at PAYLOAD_OFFSET of `buf`, then sendIp. */
export interface IpOut {
  readonly buf: Uint8Array;
  /** Frame and send `len` payload bytes from buf[PAYLOAD_OFFSET]; false when the guest's MAC is not known yet. */
  sendIp(src: number, dst: number, protocol: number, len: number): boolean;
  /** The guest's MAC is known (it has sent a frame): packets can be addressed to it. */
  ready(): boolean;
}
/** Ethernet (14) + IPv4 (20) headers before the payload in IpOut.buf. */
export const PAYLOAD_OFFSET = 34;

/** A forwarded host port: connections to host:hostPort reach the guest's guestPort. */
export interface PortForward {
  protocol: "tcp";
  host: string;
  hostPort: number;
  guestPort: number;
}

export interface NatLimits {
  /** TCP connections at once (both directions; TIME-WAIT ones give way to new ones). */
  tcp: number;
  /** Outside connects in progress at once. */
  connecting: number;
  /** UDP flows (guest source ports) at once. */
  udp: number;
  /** Name lookups in progress. */
  dns: number;
  /** An established connection with no segment either way for this long (ms) is reset. */
  tcpIdleMs: number;
  /** A closing connection (one FIN seen) idle this long is reset. */
  tcpClosingIdleMs: number;
  /** A UDP flow with no datagram either way for this long is closed. */
  udpIdleMs: number;
  /** Bytes from the guest buffered for an outside stream that has not taken them (the receive window). */
  recvBuffer: number;
}

export const NAT_LIMITS: NatLimits = {
  tcp: 256, connecting: 64, udp: 128, dns: 32,
  tcpIdleMs: 2 * 3600_000, tcpClosingIdleMs: 60_000, udpIdleMs: 60_000, recvBuffer: 256 * 1024,
};

export interface NatOptions {
  outside: Outside;
  /** The gateway's address (the host stack's own, default 10.0.2.2): the host machine's 127.0.0.1. */
  gateway: number;
  /** The resolver address handed out by DHCP (default 10.0.2.3). */
  dns: number;
  /** The guest's address: only its packets are relayed. */
  guest: number;
  /** The guest's subnet mask: other addresses on it are nobody. */
  netmask: number;
  log: (message: string) => void;
  now?: () => number;
  limits?: Partial<NatLimits>;
}

const LOOPBACK = 0x7f000001;
const EMPTY = new Uint8Array(0);
/** The largest UDP payload that fits one unfragmented frame for the guest (1500 − 20 − 8). */
const UDP_MAX_PAYLOAD = 1472;
/** Ports a forwarded connection comes from, as the guest sees it (RFC 6335's dynamic range). */
const EPHEMERAL_FIRST = 49152, EPHEMERAL_COUNT = 16384;

export const ipText = (a: number): string => `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
export function ipNumber(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x < 256) ? ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0 : null;
}
const u16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u32 = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
function put16(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 8;
  b[i + 1] = v & 0xff;
}
function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}

interface UdpFlow {
  guestPort: number;
  sock: OutsideUdp;
  lastActive: number;
  /** The last destination as text (a datagram to the same place reuses it). */
  lastIp: number;
  lastText: string;
}

/** One TCP connection's two ends tied together: the guest's TcpConn and the outside stream. */
class TcpRelay implements TcpApp, OutsideTcpEvents {
  stream: OutsideTcp | null = null;
  connecting = true;

  constructor(private readonly nat: Nat, readonly conn: TcpConn, readonly what: string, private readonly forwarded: boolean) {}

  // ---- guest side (TcpApp) ----
  deliver(data: Uint8Array): void {
    this.nat.counters.tcpBytesFromGuest += data.length;
    this.stream?.write(data.slice()); // the view is of a frame; the stream keeps its bytes
  }
  guestFin(): void {
    this.stream?.end();
  }
  opened(): void {
    this.connecting = false;
    this.stream?.resume(); // a forwarded connection's host side waited for the guest to accept
  }
  ended(how: "reset" | "closed"): void {
    const s = this.stream;
    this.stream = null;
    if (this.connecting && !this.forwarded) {
      this.connecting = false;
      this.nat.connectDone(); // the guest gave up before the outside answered
    }
    if (how === "reset") {
      s?.destroy();
      if (this.forwarded && this.connecting) this.nat.refusedByGuest(this.what);
    }
    this.nat.forget(this);
  }
  room(): number {
    return this.nat.limits.recvBuffer - (this.stream?.buffered ?? 0);
  }
  sendRoom(open: boolean): void {
    if (open) this.stream?.resume();
    else this.stream?.pause();
  }

  // ---- outside side (OutsideTcpEvents) ----
  connected(): void {
    if (!this.connecting) return;
    this.connecting = false;
    this.nat.connectDone();
    this.conn.accept();
  }
  data(bytes: Uint8Array): void {
    this.nat.counters.tcpBytesToGuest += bytes.length;
    this.conn.write(bytes);
  }
  end(): void {
    this.conn.finish();
  }
  drain(): void {
    this.conn.windowUpdate();
  }
  closed(error: string | null): void {
    if (this.stream === null) return; // we closed it
    this.stream = null;
    if (this.connecting && !this.forwarded) {
      this.connecting = false;
      this.nat.connectDone();
      this.nat.connectFailed(this.what, error ?? "closed");
      this.conn.refuse();
      return;
    }
    if (error) this.conn.abort();
    else this.conn.finish();
  }
}

export class Nat implements TcpWire {
  readonly limits: NatLimits;
  private out: IpOut | null = null;
  private readonly outside: Outside;
  private readonly log: (m: string) => void;
  private readonly now: () => number;
  private readonly gateway: number;
  private readonly dnsIp: number;
  private readonly guest: number;
  private readonly netmask: number;
  /** Connections by guestPort << 16 | remotePort (a list: remote addresses may differ). */
  private readonly tcp = new Map<number, TcpRelay[]>();
  private tcpCount = 0;
  private connecting = 0;
  private readonly udp = new Map<number, UdpFlow>();
  private dnsPending = 0;
  private nextIss: number;
  private nextEphemeral = 0;
  private readonly listeners: { close(): void }[] = [];
  /** Connections owing an ACK at the end of this batch of guest frames. */
  private acksOwed: TcpConn[] = [];
  private closed = false;
  /** Things said once per NAT (ICMP not offered, foreign sources). */
  private readonly said = new Set<string>();
  readonly counters = {
    tcpOpened: 0, tcpRefused: 0, tcpFailed: 0, tcpResets: 0, tcpBytesFromGuest: 0, tcpBytesToGuest: 0, tcpForwarded: 0,
    udpFlows: 0, udpRefused: 0, udpDatagramsOut: 0, udpDatagramsIn: 0, udpDropped: 0,
    dnsQueries: 0, dnsRefused: 0, icmpDropped: 0, foreignSource: 0, noRoute: 0, expired: 0,
  };

  constructor(o: NatOptions) {
    this.outside = o.outside;
    this.log = o.log;
    this.now = o.now ?? (() => performance.now());
    this.gateway = o.gateway;
    this.dnsIp = o.dns;
    this.guest = o.guest;
    this.netmask = o.netmask;
    this.limits = { ...NAT_LIMITS, ...o.limits };
    this.nextIss = (Math.random() * 0x1_0000_0000) >>> 0;
  }

  /** The host stack's transmit path (set once by HostStack). */
  attach(out: IpOut): void {
    this.out = out;
  }

  get tcpConnections(): number {
    return this.tcpCount;
  }

  get udpFlows(): number {
    return this.udp.size;
  }

  /** The NAT table, for the inspector and tests: one row per TCP connection and UDP flow. */
  table(): { protocol: "tcp" | "udp"; guestPort: number; remote: string; state: string }[] {
    const rows: { protocol: "tcp" | "udp"; guestPort: number; remote: string; state: string }[] = [];
    for (const list of this.tcp.values()) for (const r of list) rows.push({ protocol: "tcp", guestPort: r.conn.guestPort, remote: `${ipText(r.conn.remoteIp)}:${r.conn.remotePort}`, state: r.conn.state });
    for (const f of this.udp.values()) rows.push({ protocol: "udp", guestPort: f.guestPort, remote: f.lastText, state: "open" });
    return rows;
  }

  /** Listen on the host for each forward; rejects (nothing left listening) when one cannot. */
  async forward(forwards: readonly PortForward[]): Promise<void> {
    if (forwards.length === 0) return;
    if (!this.outside.listenTcp) throw new Error("port forwarding is not offered by this outside");
    for (const f of forwards) {
      try {
        this.listeners.push(await this.outside.listenTcp(f.host, f.hostPort, (attach, remote) => this.acceptForward(f, attach, remote)));
      } catch (e) {
        this.close();
        throw new Error(`forward tcp:${f.host}:${f.hostPort}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
  }

  /** Close every connection, flow and listener (the VM is gone). */
  close(): void {
    this.closed = true;
    for (const l of this.listeners) l.close();
    this.listeners.length = 0;
    for (const list of [...this.tcp.values()]) for (const r of list) {
      const s = r.stream;
      r.stream = null;
      s?.destroy();
    }
    this.tcp.clear();
    this.tcpCount = 0;
    for (const f of this.udp.values()) f.sock.close();
    this.udp.clear();
    this.outside.close?.();
  }

  /**
   * An IPv4 packet from the guest that is not for the host stack itself: bytes [start, end) of
   * `f` are its payload. True when the NAT took it (relayed, answered or dropped on purpose).
   */
  ipv4(f: Uint8Array, start: number, end: number, protocol: number, src: number, dst: number): boolean {
    if (this.closed) return true;
    if (src !== this.guest) {
      this.counters.foreignSource++;
      this.once(`src ${src}`, `host network: NAT drops packets from ${ipText(src)}: only the guest's ${ipText(this.guest)} is relayed`);
      return true;
    }
    switch (protocol) {
      case IPPROTO_TCP:
        this.tcpSegment(f, start, end, dst);
        return true;
      case IPPROTO_UDP:
        this.udpDatagram(f, start, end, dst);
        return true;
      case IPPROTO_ICMP:
        if (dst === this.gateway || dst === this.dnsIp) return false; // the host stack echoes
        this.counters.icmpDropped++;
        this.once("icmp", `host network: ICMP to ${ipText(dst)} not relayed: the NAT has no ICMP sockets (ping the gateway ${ipText(this.gateway)}; TCP and UDP reach the outside)`);
        return true;
      default:
        return false;
    }
  }

  /** TcpWire: an ACK for the end of the batch. */
  deferAck(c: TcpConn): void {
    this.acksOwed.push(c);
  }

  /** The end of a batch of guest frames: the deferred ACKs go out. */
  flush(): void {
    if (this.acksOwed.length === 0) return;
    const owed = this.acksOwed;
    this.acksOwed = [];
    for (const c of owed) c.flushAck();
  }

  /** Timers: retransmission, TIME-WAIT, idle connections and flows. Call every ~100 ms. */
  tick(): void {
    const t = this.now();
    for (const list of [...this.tcp.values()]) {
      for (const r of [...list]) {
        const c = r.conn;
        c.tick(t);
        if (c.state === "CLOSED") continue;
        const closing = c.state !== "ESTABLISHED" && c.state !== "SYN-RECEIVED" && c.state !== "SYN-SENT";
        if (t - c.lastActive > (closing ? this.limits.tcpClosingIdleMs : this.limits.tcpIdleMs)) {
          this.counters.expired++;
          c.abort();
        }
      }
    }
    for (const f of [...this.udp.values()]) {
      if (t - f.lastActive > this.limits.udpIdleMs) {
        f.sock.close();
        this.udp.delete(f.guestPort);
      }
    }
  }

  // ---- TCP ----

  private tcpSegment(f: Uint8Array, start: number, end: number, dst: number): void {
    const len = end - start;
    if (len < 20) throw new FrameError(`tcp: ${len} bytes, shorter than a header`);
    const off = (f[start + 12]! >>> 4) * 4;
    if (off < 20 || off > len) throw new FrameError(`tcp: data offset ${off} with ${len} bytes present`);
    if (onesSumRange(f, start, end, pseudoSum32(this.guest, dst, IPPROTO_TCP, len)) !== 0xffff) throw new FrameError("tcp: bad checksum");
    const srcPort = u16(f, start), dstPort = u16(f, start + 2);
    const seq = u32(f, start + 4), ack = u32(f, start + 8), flags = f[start + 13]! & 0x3f, window = u16(f, start + 14);
    let mss: number | undefined;
    for (let at = start + 20; at < start + off;) {
      const kind = f[at]!;
      if (kind === 0) break;
      if (kind === 1) { at++; continue; }
      const l = f[at + 1];
      if (l === undefined || l < 2 || at + l > start + off) throw new FrameError(`tcp: option ${kind} overruns the header`);
      if (kind === 2 && l === 4) mss = u16(f, at + 2);
      at += l;
    }
    let r = this.findTcp(srcPort, dst, dstPort);
    if (r && r.conn.state === "TIME-WAIT" && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      r.conn.release(); // a new connection on a TIME-WAIT's ports (RFC 9293 §3.6.1 allows reopening)
      r = undefined;
    }
    if (r) return r.conn.segment(seq, ack, flags, window, mss, off === len ? EMPTY : f.subarray(start + off, end));
    if (flags & TCP_RST) return;
    if ((flags & (TCP_SYN | TCP_ACK | TCP_FIN)) === TCP_SYN) return this.openTcp(srcPort, dst, dstPort, seq, window, mss);
    // RFC 9293 §3.10.7.1: anything else for no connection gets a reset.
    const segLen = len - off + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
    this.counters.tcpResets++;
    if (flags & TCP_ACK) this.rawTcp(dst, dstPort, srcPort, ack, 0, TCP_RST);
    else this.rawTcp(dst, dstPort, srcPort, 0, (seq + segLen) >>> 0, TCP_RST | TCP_ACK);
  }

  private openTcp(guestPort: number, dst: number, dstPort: number, seq: number, window: number, mss: number | undefined): void {
    const what = `TCP ${ipText(this.guest)}:${guestPort} → ${ipText(dst)}:${dstPort}`;
    const target = this.outsideAddress(dst);
    const refuse = (why: string, log: boolean) => {
      this.counters.tcpRefused++;
      if (log) this.log(`host network: refused ${what}: ${why}`);
      this.rawTcp(dst, dstPort, guestPort, 0, (seq + 1) >>> 0, TCP_RST | TCP_ACK);
    };
    if (target === null || dstPort === 0) {
      this.counters.noRoute++;
      return refuse("no such address", false);
    }
    if (!this.roomForTcp()) return refuse(`${this.limits.tcp} connections open (the limit)`, true);
    if (this.connecting >= this.limits.connecting) return refuse(`${this.limits.connecting} connects in progress (the limit)`, true);
    const conn = TcpConn.passive(this, this.iss(), this.now, guestPort, dst, dstPort, seq, window, mss);
    const relay = new TcpRelay(this, conn, what, false);
    conn.app = relay;
    this.add(relay);
    this.connecting++;
    this.counters.tcpOpened++;
    relay.stream = this.outside.connectTcp(target, dstPort, relay);
  }

  private acceptForward(f: PortForward, attach: (ev: OutsideTcpEvents) => OutsideTcp, remote: string): void {
    const what = `forwarded ${remote} → ${f.host}:${f.hostPort} → guest port ${f.guestPort}`;
    const port = this.ephemeral(f.guestPort);
    const refuse = (why: string) => {
      this.counters.tcpRefused++;
      this.log(`host network: refused ${what}: ${why}`);
      attach(IGNORE).destroy();
    };
    if (this.closed) return refuse("the VM is gone");
    if (!this.roomForTcp()) return refuse(`${this.limits.tcp} connections open (the limit)`);
    if (port < 0) return refuse("no free source port");
    if (!this.out?.ready()) return refuse("the guest has not sent a frame yet (its MAC is unknown)");
    const conn = TcpConn.active(this, this.iss(), this.now, f.guestPort, this.gateway, port);
    const relay = new TcpRelay(this, conn, what, true);
    conn.app = relay;
    this.add(relay);
    this.counters.tcpForwarded++;
    relay.stream = attach(relay);
    relay.stream.pause(); // until the guest accepts
  }

  /** A forwarded connection the guest reset before accepting (nothing listens on its port). */
  refusedByGuest(what: string): void {
    this.counters.tcpRefused++;
    this.log(`host network: refused ${what}: the guest reset it (nothing listening?)`);
  }

  connectDone(): void {
    this.connecting--;
  }

  connectFailed(what: string, error: string): void {
    this.counters.tcpFailed++;
    this.log(`host network: ${what}: outside connect failed (${error}); reset`);
  }

  forget(r: TcpRelay): void {
    const key = (r.conn.guestPort << 16 | r.conn.remotePort) >>> 0;
    const list = this.tcp.get(key);
    if (!list) return;
    const i = list.indexOf(r);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.tcp.delete(key);
    this.tcpCount--;
  }

  private add(r: TcpRelay): void {
    const key = (r.conn.guestPort << 16 | r.conn.remotePort) >>> 0;
    const list = this.tcp.get(key);
    if (list) list.push(r);
    else this.tcp.set(key, [r]);
    this.tcpCount++;
  }

  private findTcp(guestPort: number, remoteIp: number, remotePort: number): TcpRelay | undefined {
    const list = this.tcp.get((guestPort << 16 | remotePort) >>> 0);
    if (!list) return undefined;
    for (const r of list) if (r.conn.remoteIp === remoteIp) return r;
    return undefined;
  }

  /** Below the cap, after letting TIME-WAIT connections go if that makes room. */
  private roomForTcp(): boolean {
    if (this.tcpCount < this.limits.tcp) return true;
    for (const list of [...this.tcp.values()]) for (const r of [...list]) r.conn.release();
    return this.tcpCount < this.limits.tcp;
  }

  private iss(): number {
    // RFC 9293 §3.4.1 wants ISNs that are hard to guess and move with time: a random start, and
    // for each connection a step of 64 Ki plus the host clock's microseconds.
    this.nextIss = (this.nextIss + 0x10000 + Math.floor(this.now() * 1000)) >>> 0;
    return this.nextIss;
  }

  /** A free source port for a forwarded connection to `guestPort`, or -1. */
  private ephemeral(guestPort: number): number {
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const port = EPHEMERAL_FIRST + ((this.nextEphemeral + i) % EPHEMERAL_COUNT);
      if (!this.findTcp(guestPort, this.gateway, port)) {
        this.nextEphemeral = (this.nextEphemeral + i + 1) % EPHEMERAL_COUNT;
        return port;
      }
    }
    return -1;
  }

  /** TcpWire: one segment of `c` to the guest, `len` bytes of its send buffer from `from`. */
  segment(c: TcpConn, seq: number, ack: number, flags: number, window: number, from: number, len: number, mss: boolean): void {
    const out = this.out;
    if (!out) return;
    const b = out.buf, o = PAYLOAD_OFFSET, hl = mss ? 24 : 20;
    this.tcpHeader(b, o, c.remotePort, c.guestPort, seq, ack, flags, window, hl);
    if (mss) {
      b[o + 20] = 2;
      b[o + 21] = 4;
      put16(b, o + 22, TCP_MSS);
    }
    if (len > 0) c.sendBuf.copyOut(from, len, b, o + hl);
    this.sendTcp(c.remoteIp, hl + len);
  }

  private rawTcp(src: number, srcPort: number, dstPort: number, seq: number, ack: number, flags: number): void {
    const out = this.out;
    if (!out) return;
    this.tcpHeader(out.buf, PAYLOAD_OFFSET, srcPort, dstPort, seq, ack, flags, 0, 20);
    this.sendTcp(src, 20);
  }

  private tcpHeader(b: Uint8Array, o: number, srcPort: number, dstPort: number, seq: number, ack: number, flags: number, window: number, hl: number): void {
    put16(b, o, srcPort);
    put16(b, o + 2, dstPort);
    put32(b, o + 4, seq);
    put32(b, o + 8, ack);
    b[o + 12] = (hl / 4) << 4;
    b[o + 13] = flags;
    put16(b, o + 14, window);
    put32(b, o + 16, 0); // checksum, urgent pointer
  }

  private sendTcp(src: number, len: number): void {
    const b = this.out!.buf, o = PAYLOAD_OFFSET;
    put16(b, o + 16, ~onesSumRange(b, o, o + len, pseudoSum32(src, this.guest, IPPROTO_TCP, len)) & 0xffff);
    this.out!.sendIp(src, this.guest, IPPROTO_TCP, len);
  }

  // ---- UDP and DNS ----

  private udpDatagram(f: Uint8Array, start: number, end: number, dst: number): void {
    if (end - start < 8) throw new FrameError(`udp: ${end - start} bytes, shorter than 8`);
    const len = u16(f, start + 4);
    if (len < 8 || len > end - start) throw new FrameError(`udp: length ${len} with ${end - start} bytes present`);
    const sum = u16(f, start + 6);
    if (sum !== 0 && onesSumRange(f, start, start + len, pseudoSum32(this.guest, dst, IPPROTO_UDP, len)) !== 0xffff) throw new FrameError("udp: bad checksum");
    const srcPort = u16(f, start), dstPort = u16(f, start + 2);
    const payload = f.subarray(start + 8, start + len);
    if (dst === this.dnsIp) {
      if (dstPort === DNS_PORT) this.dnsQuery(srcPort, payload);
      else this.counters.noRoute++;
      return;
    }
    const target = this.outsideAddress(dst);
    if (target === null || dstPort === 0) {
      this.counters.noRoute++;
      return;
    }
    let flow = this.udp.get(srcPort);
    if (!flow) {
      if (this.udp.size >= this.limits.udp) {
        this.counters.udpRefused++;
        this.log(`host network: dropped UDP ${ipText(this.guest)}:${srcPort} → ${ipText(dst)}:${dstPort}: ${this.limits.udp} UDP flows open (the limit)`);
        return;
      }
      const fl: UdpFlow = { guestPort: srcPort, sock: null as unknown as OutsideUdp, lastActive: 0, lastIp: dst, lastText: target };
      fl.sock = this.outside.openUdp((bytes, ip, port) => this.udpIn(fl, bytes, ip, port));
      this.udp.set(srcPort, fl);
      this.counters.udpFlows++;
      flow = fl;
    }
    flow.lastActive = this.now();
    if (flow.lastIp !== dst) {
      flow.lastIp = dst;
      flow.lastText = target;
    }
    this.counters.udpDatagramsOut++;
    flow.sock.send(payload.slice(), flow.lastText, dstPort);
  }

  private udpIn(flow: UdpFlow, bytes: Uint8Array, ip: string, port: number): void {
    if (this.udp.get(flow.guestPort) !== flow) return;
    let src = ipNumber(ip);
    if (src === LOOPBACK) src = this.gateway;
    if (src === null || bytes.length > UDP_MAX_PAYLOAD) {
      this.counters.udpDropped++;
      return;
    }
    flow.lastActive = this.now();
    this.counters.udpDatagramsIn++;
    this.sendUdp(src, port, flow.guestPort, bytes);
  }

  private sendUdp(src: number, srcPort: number, dstPort: number, payload: Uint8Array): void {
    const out = this.out;
    if (!out) return;
    const b = out.buf, o = PAYLOAD_OFFSET, len = 8 + payload.length;
    put16(b, o, srcPort);
    put16(b, o + 2, dstPort);
    put16(b, o + 4, len);
    put16(b, o + 6, 0);
    b.set(payload, o + 8);
    const sum = ~onesSumRange(b, o, o + len, pseudoSum32(src, this.guest, IPPROTO_UDP, len)) & 0xffff;
    put16(b, o + 6, sum === 0 ? 0xffff : sum); // RFC 768: a computed 0 is sent as all ones
    out.sendIp(src, this.guest, IPPROTO_UDP, len);
  }

  private dnsQuery(guestPort: number, m: Uint8Array): void {
    this.counters.dnsQueries++;
    let q;
    try {
      q = parseDnsQuery(m);
    } catch (e) {
      if (!(e instanceof FrameError) || m.length < 12) throw e;
      // A header we can answer from: FORMERR with no question (RFC 1035 §4.1.1).
      const a = m.slice(0, 12);
      a[2] = 0x80 | (a[2]! & 0x79);
      a[3] = 0x80 | RCODE_FORMERR;
      a.fill(0, 4, 12);
      return this.sendUdp(this.dnsIp, DNS_PORT, guestPort, a);
    }
    const answer = (rcode: number, addrs: Uint8Array[] = []) => this.sendUdp(this.dnsIp, DNS_PORT, guestPort, dnsAnswer(m, q, rcode, addrs));
    if (q.opcode !== 0) return answer(RCODE_NOTIMP);
    if (q.qclass !== CLASS_IN || (q.qtype !== TYPE_A && q.qtype !== TYPE_AAAA)) return answer(RCODE_NOTIMP);
    if (!plausibleName(q.name)) return answer(RCODE_NXDOMAIN);
    if (this.dnsPending >= this.limits.dns) {
      this.counters.dnsRefused++;
      this.log(`host network: refused DNS query for ${q.name}: ${this.limits.dns} lookups in progress (the limit)`);
      return answer(RCODE_REFUSED);
    }
    const keep = m.slice(0, q.questionEnd); // the frame's bytes are reused before the lookup ends
    this.dnsPending++;
    const six = q.qtype === TYPE_AAAA;
    // getaddrinfo says ENOTFOUND for a name with addresses of the other family only: ask for
    // those too, so the answer is NODATA (RFC 2308 §2.2: the name exists) and not NXDOMAIN.
    const resolve = (family: 4 | 6) => this.outside.resolve(q.name, family).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOTFOUND") throw e;
      await this.outside.resolve(q.name, family === 6 ? 4 : 6);
      return [];
    });
    resolve(six ? 6 : 4).then(
      (list) => {
        const addrs = list.map((a) => (six ? parseIpv6(a) : ipBytes(a))).filter((a): a is Uint8Array => a !== null);
        return [RCODE_OK, addrs] as const;
      },
      // No such name: NXDOMAIN; the name without addresses of this family: an empty answer.
      (e: NodeJS.ErrnoException) => [e.code === "ENOTFOUND" ? RCODE_NXDOMAIN : e.code === "ENODATA" ? RCODE_OK : RCODE_SERVFAIL, []] as const,
    ).then(([rcode, addrs]) => {
      this.dnsPending--;
      if (!this.closed) this.sendUdp(this.dnsIp, DNS_PORT, guestPort, dnsAnswer(keep, q, rcode, addrs));
    });
  }

  /** The outside address for a guest destination: the gateway is the host's loopback; the guest's own subnet and special ranges are nobody. */
  private outsideAddress(dst: number): string | null {
    if (dst === this.gateway) return "127.0.0.1";
    if ((dst & this.netmask) === (this.gateway & this.netmask)) return null;
    const first = dst >>> 24;
    if (first === 0 || first === 127 || first >= 224) return null; // this network, loopback, multicast, reserved
    return ipText(dst);
  }

  private once(key: string, message: string): void {
    if (this.said.has(key) || this.said.size > 64) return;
    this.said.add(key);
    this.log(message);
  }
}

function ipBytes(text: string): Uint8Array | null {
  const n = ipNumber(text);
  return n === null ? null : Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

const IGNORE: OutsideTcpEvents = { connected() {}, data() {}, end() {}, drain() {}, closed() {} };
