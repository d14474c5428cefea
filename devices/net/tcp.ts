// The server side of TCP (RFC 9293), as small as serving a web page to a guest allows: passive
// open on one port, in-order data, an application that answers and closes, both FINs. Segments
// are parsed and built with the pseudo-header checksum; MSS is the only option sent or read.
//
// The guest is hostile: it can send SYNs from any address and port. Connections are capped
// (MAX_CONNECTIONS), and half-open ones (SYN-RECEIVED) are few (MAX_HALF_OPEN, the oldest evicted
// first, as a SYN cache does) and expire after HALF_OPEN_MS of host time, so a SYN flood costs
// a bounded amount of memory and time. A SYN over the cap of established connections is reset.
//
// Not implemented, on purpose: retransmission and its timers, out-of-order queueing, window
// scaling, urgent data. The link between the host stack and the guest's NIC is lossless (frames
// cross in memory; only a 256-frame backlog overflow in the device drops), so a segment that is
// sent arrives. Out-of-order arrivals are answered with a duplicate ACK and dropped; the guest's
// own retransmission then delivers them in order.
import { internetChecksum, onesSum, pseudoHeaderSum } from "./checksum.ts";
import { FrameError } from "./ethernet.ts";
import { IPPROTO_TCP, ipString } from "./ipv4.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10;
/** Our MSS: an Ethernet MTU of 1500 minus 20 (IPv4) and 20 (TCP) header bytes. */
export const TCP_MSS = 1460;
const WINDOW = 65535;
/** Connections at once, half-open ones included (the one page is fetched over one or two). */
export const MAX_CONNECTIONS = 64;
/** SYN-RECEIVED connections at once; a new SYN past it evicts the oldest. */
export const MAX_HALF_OPEN = 16;
/** A handshake not completed within this long (host milliseconds) is forgotten. */
export const HALF_OPEN_MS = 5000;

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** The MSS option (kind 2), when present. */
  mss?: number;
  payload: Uint8Array;
}

export function parseTcp(p: Uint8Array, src: Uint8Array, dst: Uint8Array): TcpSegment {
  if (p.length < 20) throw new FrameError(`tcp: ${p.length} bytes, shorter than a header`);
  const off = (p[12]! >>> 4) * 4;
  if (off < 20 || off > p.length) throw new FrameError(`tcp: data offset ${off} with ${p.length} bytes present`);
  if (onesSum(p, pseudoHeaderSum(src, dst, IPPROTO_TCP, p.length)) !== 0xffff) throw new FrameError("tcp: bad checksum");
  const u32 = (i: number) => ((p[i]! << 24) | (p[i + 1]! << 16) | (p[i + 2]! << 8) | p[i + 3]!) >>> 0;
  const seg: TcpSegment = {
    srcPort: (p[0]! << 8) | p[1]!, dstPort: (p[2]! << 8) | p[3]!, seq: u32(4), ack: u32(8),
    flags: p[13]! & 0x3f, window: (p[14]! << 8) | p[15]!, payload: p.subarray(off),
  };
  // Options (RFC 9293 §3.2): 0 ends the list, 1 is padding, anything else is kind, length, data.
  for (let at = 20; at < off;) {
    const kind = p[at]!;
    if (kind === 0) break;
    if (kind === 1) { at++; continue; }
    const len = p[at + 1];
    if (len === undefined || len < 2 || at + len > off) throw new FrameError(`tcp: option ${kind} overruns the header`);
    if (kind === 2 && len === 4) seg.mss = (p[at + 2]! << 8) | p[at + 3]!;
    at += len;
  }
  return seg;
}

export function buildTcp(src: Uint8Array, dst: Uint8Array, s: TcpSegment): Uint8Array {
  const hl = s.mss === undefined ? 20 : 24;
  const p = new Uint8Array(hl + s.payload.length);
  const put32 = (i: number, v: number) => p.set([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff], i);
  p.set([s.srcPort >>> 8, s.srcPort & 0xff, s.dstPort >>> 8, s.dstPort & 0xff]);
  put32(4, s.seq);
  put32(8, s.ack);
  p[12] = (hl / 4) << 4;
  p[13] = s.flags;
  p[14] = s.window >>> 8;
  p[15] = s.window & 0xff;
  if (s.mss !== undefined) p.set([2, 4, s.mss >>> 8, s.mss & 0xff], 20);
  p.set(s.payload, hl);
  const sum = internetChecksum(p, pseudoHeaderSum(src, dst, IPPROTO_TCP, p.length));
  p[16] = sum >>> 8;
  p[17] = sum & 0xff;
  return p;
}

/** What an application does with bytes received: answer with `send`, then close if `close`. */
export interface TcpHandler {
  receive(data: Uint8Array): { send?: Uint8Array; close?: boolean };
}

type State = "SYN-RECEIVED" | "ESTABLISHED";

interface Connection {
  state: State;
  /** Host time the SYN arrived (half-open expiry). */
  openedAt: number;
  remoteIp: Uint8Array;
  remotePort: number;
  iss: number;
  sndUna: number;
  sndNxt: number;
  sndWnd: number;
  rcvNxt: number;
  mss: number;
  /** Bytes the application wrote, not yet sent. */
  unsent: Uint8Array;
  closing: boolean;
  finSent: boolean;
  peerFin: boolean;
  handler: TcpHandler;
}

/** Sequence-space comparison (RFC 9293 §3.4): a − b as a signed 32-bit distance. */
const diff = (a: number, b: number): number => (a - b) | 0;
const add = (a: number, n: number): number => (a + n) >>> 0;

export class TcpServer implements Stateful {
  private readonly conns = new Map<string, Connection>();
  /** The keys of SYN-RECEIVED connections, oldest first (a Map keeps insertion order). */
  private readonly halfOpen = new Map<string, Connection>();
  private nextIss = 0x1000_0000;
  readonly counters = { accepted: 0, closed: 0, resets: 0, dropped: 0, expired: 0, refused: 0 };

  /**
   * Snapshot fields (devices/state/): the next initial sequence number. Open connections are not
   * kept (their handlers are host objects mid-request): a restored guest's next segment on one
   * finds no connection and gets a reset, as after the host restarted.
   */
  readonly stateTable: StateTable = { nextIss: "u32" };

  constructor(
    private readonly localIp: Uint8Array,
    readonly port: number,
    private readonly accept: () => TcpHandler,
    /** Send a segment (already checksummed) to `to` as an IPv4 payload. */
    private readonly emit: (to: Uint8Array, segment: Uint8Array) => void,
    /** Host time in ms, for half-open expiry. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  get connections(): number {
    return this.conns.size;
  }

  segment(from: Uint8Array, s: TcpSegment): void {
    const key = `${ipString(from)}:${s.srcPort}`;
    const c = this.conns.get(key);
    if (!c) return this.noConnection(from, key, s);
    if (s.flags & TCP_RST) {
      // RFC 5961 §3: only an exactly matching RST is believed.
      if (s.seq === c.rcvNxt) this.drop(key);
      return;
    }
    if (s.flags & TCP_SYN) {
      // A retransmitted SYN (our SYN-ACK crossed it): answer it again; any other SYN is ignored with an ACK.
      if (c.state === "SYN-RECEIVED" && add(s.seq, 1) === c.rcvNxt) this.send(c, c.iss, TCP_SYN | TCP_ACK, new Uint8Array(0), TCP_MSS);
      else this.send(c, c.sndNxt, TCP_ACK);
      return;
    }
    if (!(s.flags & TCP_ACK)) return void this.counters.dropped++;
    if (s.seq !== c.rcvNxt) {
      // Out of order or a duplicate: say where we are (RFC 9293 §3.10.7.4) and drop it.
      if (s.payload.length > 0 || s.flags & TCP_FIN) this.send(c, c.sndNxt, TCP_ACK);
      this.counters.dropped++;
      return;
    }
    if (diff(s.ack, c.sndNxt) > 0) return this.send(c, c.sndNxt, TCP_ACK); // acks what we never sent
    if (diff(s.ack, c.sndUna) > 0) c.sndUna = s.ack;
    c.sndWnd = s.window;
    if (c.state === "SYN-RECEIVED") {
      if (c.sndUna !== add(c.iss, 1)) return;
      c.state = "ESTABLISHED";
      this.halfOpen.delete(key);
    }
    let needAck = false;
    if (s.payload.length > 0 && !c.peerFin) {
      c.rcvNxt = add(c.rcvNxt, s.payload.length);
      needAck = true;
      if (!c.closing) {
        const r = c.handler.receive(s.payload);
        if (r.send) c.unsent = concat(c.unsent, r.send);
        if (r.close) c.closing = true;
      }
    }
    if (s.flags & TCP_FIN && !c.peerFin) {
      c.rcvNxt = add(c.rcvNxt, 1);
      c.peerFin = true;
      c.closing = true; // the client is done sending; this server has nothing more to say
      needAck = true;
    }
    if (!this.output(c) && needAck) this.send(c, c.sndNxt, TCP_ACK);
    // Both FINs sent and ours acknowledged: done. TIME-WAIT is skipped — no segment of this
    // connection can still be in flight on a lossless link.
    if (c.finSent && c.peerFin && c.sndUna === c.sndNxt) this.drop(key, true);
  }

  private noConnection(from: Uint8Array, key: string, s: TcpSegment): void {
    if (s.flags & TCP_RST) return;
    if (s.dstPort === this.port && (s.flags & (TCP_SYN | TCP_ACK | TCP_FIN)) === TCP_SYN && this.admit()) {
      const iss = this.nextIss;
      this.nextIss = add(this.nextIss, 64000); // RFC 9293 §3.4.1 wants clock-driven ISNs; one guest, one server: a counter
      const c: Connection = {
        state: "SYN-RECEIVED", openedAt: this.now(), remoteIp: from.slice(), remotePort: s.srcPort, iss, sndUna: iss, sndNxt: add(iss, 1),
        sndWnd: s.window, rcvNxt: add(s.seq, 1), mss: Math.min(TCP_MSS, s.mss ?? 536), unsent: new Uint8Array(0),
        closing: false, finSent: false, peerFin: false, handler: this.accept(),
      };
      this.conns.set(key, c);
      this.halfOpen.set(key, c);
      this.counters.accepted++;
      this.send(c, iss, TCP_SYN | TCP_ACK, new Uint8Array(0), TCP_MSS);
      return;
    }
    // RFC 9293 §3.10.7.1: anything else for a closed port or connection gets a reset.
    this.counters.resets++;
    const len = s.payload.length + (s.flags & TCP_SYN ? 1 : 0) + (s.flags & TCP_FIN ? 1 : 0);
    const rst: TcpSegment = s.flags & TCP_ACK
      ? { srcPort: s.dstPort, dstPort: s.srcPort, seq: s.ack, ack: 0, flags: TCP_RST, window: 0, payload: new Uint8Array(0) }
      : { srcPort: s.dstPort, dstPort: s.srcPort, seq: 0, ack: add(s.seq, len), flags: TCP_RST | TCP_ACK, window: 0, payload: new Uint8Array(0) };
    this.emit(from, buildTcp(this.localIp, from, rst));
  }

  /**
   * Room for one more connection? Expired half-open ones go first, then the oldest half-open one
   * if there are MAX_HALF_OPEN; with MAX_CONNECTIONS established, the SYN is refused (reset).
   */
  private admit(): boolean {
    const t = this.now();
    for (const [key, c] of this.halfOpen) {
      if (t - c.openedAt < HALF_OPEN_MS && this.halfOpen.size < MAX_HALF_OPEN) break;
      this.drop(key);
      this.counters.expired++;
    }
    if (this.conns.size < MAX_CONNECTIONS) return true;
    this.counters.refused++;
    return false;
  }

  /** Send what the peer's window allows, then our FIN once everything is out. True if anything went. */
  private output(c: Connection): boolean {
    if (c.state !== "ESTABLISHED") return false;
    let sent = false;
    while (c.unsent.length > 0) {
      const room = c.sndWnd - diff(c.sndNxt, c.sndUna);
      const n = Math.min(c.mss, c.unsent.length, room);
      if (n <= 0) break;
      const data = c.unsent.subarray(0, n);
      c.unsent = c.unsent.subarray(n);
      this.send(c, c.sndNxt, TCP_ACK | (c.unsent.length === 0 ? TCP_PSH : 0), data);
      c.sndNxt = add(c.sndNxt, n);
      sent = true;
    }
    if (c.closing && !c.finSent && c.unsent.length === 0) {
      this.send(c, c.sndNxt, TCP_FIN | TCP_ACK);
      c.sndNxt = add(c.sndNxt, 1);
      c.finSent = true;
      sent = true;
    }
    return sent;
  }

  private send(c: Connection, seq: number, flags: number, payload: Uint8Array = new Uint8Array(0), mss?: number): void {
    const seg: TcpSegment = { srcPort: this.port, dstPort: c.remotePort, seq, ack: c.rcvNxt, flags, window: WINDOW, payload, mss };
    this.emit(c.remoteIp, buildTcp(this.localIp, c.remoteIp, seg));
  }

  private drop(key: string, clean = false): void {
    this.conns.delete(key);
    this.halfOpen.delete(key);
    if (clean) this.counters.closed++;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
