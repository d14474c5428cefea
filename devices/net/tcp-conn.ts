// One TCP connection's guest-facing end (RFC 9293), as the user-mode NAT (nat.ts) terminates it:
// the guest talks TCP to this endpoint, and the bytes go on to an application — an outside
// stream — through TcpApp. Both opens (the guest connects out: passive; a forwarded host
// connection reaches into the guest: active), the full close state diagram, RST rules after
// RFC 5961, retransmission from the oldest unacknowledged byte on a timer (RFC 6298's backoff)
// or three duplicate ACKs, and a zero-window probe.
//
// Flow control in both directions is the window: what the guest may send is what the
// application can take (TcpApp.room, the outside socket's free buffer), so a slow outside slows
// the guest rather than filling host memory; what we send is bounded by the guest's window, and
// the application is told to stop reading (TcpApp.sendRoom) while our send buffer is full.
//
// Not implemented: window scaling, SACK, timestamps (never offered, so the guest uses none),
// urgent data, out-of-order queueing (the guest retransmits; the link is memory), congestion
// control (the link between host stack and guest is not shared with anyone).
import { ByteQueue } from "./byte-queue.ts";

export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10;
/** Our MSS: Ethernet's 1500-byte MTU minus 20 (IPv4) and 20 (TCP) header bytes. */
export const TCP_MSS = 1460;
/** RFC 9293 §3.7.1: the MSS assumed when the peer sends none. */
export const DEFAULT_MSS = 536;
/** The largest window without the window-scale option. */
export const MAX_WINDOW = 65535;
/** Bytes from the application held for the guest (unacknowledged + unsent) before it is told to stop. */
export const SEND_BUFFER = 256 * 1024;
/** RFC 6298 §2.1 wants 1 s; §5.5 backoff doubles it, capped here. */
export const RTO_INITIAL_MS = 1000;
export const RTO_MAX_MS = 16_000;
/** Retransmissions of one segment before the connection is given up (reset). */
export const MAX_RETRIES = 8;
/** RFC 9293 §3.6.1 wants 2 MSL; the guest's link is memory, so a short wait for a lost FIN suffices. */
export const TIME_WAIT_MS = 2000;

export type TcpState =
  | "SYN-SENT" | "SYN-RECEIVED" | "ESTABLISHED" | "FIN-WAIT-1" | "FIN-WAIT-2"
  | "CLOSE-WAIT" | "CLOSING" | "LAST-ACK" | "TIME-WAIT" | "CLOSED";

/** The application behind the connection (an outside stream). */
export interface TcpApp {
  /** In-order bytes from the guest; a view of a frame: copy what you keep. */
  deliver(data: Uint8Array): void;
  /** The guest sent FIN: no more data follows. */
  guestFin(): void;
  /** The connection ended: "reset" (by the guest or given up), or "closed" (both FINs done). */
  ended(how: "reset" | "closed"): void;
  /** An active open completed (the guest accepted). */
  opened?(): void;
  /** Bytes the application can take now (the receive window we advertise). */
  room(): number;
  /** Our send buffer went below half (true) or reached SEND_BUFFER (false): start / stop reading. */
  sendRoom(open: boolean): void;
}

/** A segment as the connection emits it: the NAT writes headers and copies `len` bytes of the send buffer from `from`. */
export interface TcpWire {
  segment(c: TcpConn, seq: number, ack: number, flags: number, window: number, from: number, len: number, mss: boolean): void;
  /**
   * Take `c` for an ACK at the end of the current batch of guest frames (flushAck), so a burst
   * of segments is acknowledged once. Absent: ACKs go at once.
   */
  deferAck?(c: TcpConn): void;
}

/** Sequence-space comparison (RFC 9293 §3.4): a − b as a signed 32-bit distance. */
export const seqDiff = (a: number, b: number): number => (a - b) | 0;
const add = (a: number, n: number): number => (a + n) >>> 0;

export class TcpConn {
  state: TcpState;
  readonly iss: number;
  /** Oldest unacknowledged sequence number, and the next to send. */
  sndUna: number;
  sndNxt: number;
  sndWnd = 0;
  rcvNxt = 0;
  /** The right edge of the window we last advertised (never moved left: RFC 9293 §3.8.6). */
  private rcvEdge = 0;
  mss = DEFAULT_MSS;
  /** Bytes from sndUna on: unacknowledged, then unsent. */
  readonly sendBuf = new ByteQueue();
  /** The application has finished: our FIN goes after the buffer. */
  private finQueued = false;
  private finSent = false;
  /** A SYN|ACK is owed once the application is ready (passive open waits for the outside connect). */
  private synAckOwed = false;
  private reading = true;
  /** An ACK is owed and deferred to the end of the batch (TcpWire.deferAck). */
  private ackOwed = false;
  private dupAcks = 0;
  private rto = RTO_INITIAL_MS;
  private retries = 0;
  /** Host ms when the retransmission (or TIME-WAIT, or persist) timer fires; Infinity: off. */
  timerAt = Infinity;
  /** Host ms of the last segment either way (the NAT's idle timeout). */
  lastActive: number;
  app: TcpApp | null = null;

  private constructor(
    private readonly wire: TcpWire,
    iss: number,
    private readonly now: () => number,
    /** Guest port and the remote end the guest sees; the NAT's key. */
    readonly guestPort: number,
    readonly remoteIp: number,
    readonly remotePort: number,
  ) {
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = add(iss, 1);
    this.state = "CLOSED";
    this.lastActive = now();
  }

  /**
   * The guest's SYN (RFC 9293 §3.10.7.2, LISTEN): SYN-RECEIVED, its sequence number taken. The
   * SYN|ACK waits for accept() — the outside connect — so a refused connect becomes a reset.
   */
  static passive(wire: TcpWire, iss: number, now: () => number, guestPort: number, remoteIp: number, remotePort: number, seq: number, window: number, mss: number | undefined): TcpConn {
    const c = new TcpConn(wire, iss, now, guestPort, remoteIp, remotePort);
    c.state = "SYN-RECEIVED";
    c.rcvNxt = add(seq, 1);
    c.rcvEdge = c.rcvNxt;
    c.sndWnd = window;
    c.mss = Math.min(TCP_MSS, mss ?? DEFAULT_MSS);
    c.synAckOwed = true;
    return c;
  }

  /** Active open (RFC 9293 §3.10.1): SYN-SENT, our SYN out. */
  static active(wire: TcpWire, iss: number, now: () => number, guestPort: number, remoteIp: number, remotePort: number): TcpConn {
    const c = new TcpConn(wire, iss, now, guestPort, remoteIp, remotePort);
    c.state = "SYN-SENT";
    c.emit(c.iss, TCP_SYN, 0, 0, true);
    c.arm();
    return c;
  }

  /** The passive open's outside is connected: send the SYN|ACK. */
  accept(): void {
    if (!this.synAckOwed || this.state !== "SYN-RECEIVED") return;
    this.synAckOwed = false;
    this.emit(this.iss, TCP_SYN | TCP_ACK, 0, 0, true);
    this.arm();
  }

  /** The passive open's outside failed: reset the guest's SYN (RFC 9293 §3.10.7.1, as a closed port). */
  refuse(): void {
    if (this.state === "CLOSED") return;
    this.wire.segment(this, 0, this.rcvNxt, TCP_RST | TCP_ACK, 0, 0, 0, false);
    this.close("reset");
  }

  /** Bytes from the application for the guest (kept: the caller must not reuse them). */
  write(bytes: Uint8Array): void {
    if (this.finQueued || this.state === "CLOSED") return;
    this.sendBuf.push(bytes);
    if (this.reading && this.sendBuf.length >= SEND_BUFFER) {
      this.reading = false;
      this.app?.sendRoom(false);
    }
    this.output();
  }

  /** The application has no more to send: FIN after what is buffered. */
  finish(): void {
    if (this.finQueued) return;
    this.finQueued = true;
    this.output();
  }

  /** Abort (RFC 9293 §3.10.5 ABORT): a RST to the guest, and gone. */
  abort(): void {
    if (this.state === "CLOSED") return;
    if (this.state !== "SYN-RECEIVED" || !this.synAckOwed) this.wire.segment(this, this.sndNxt, 0, TCP_RST, 0, 0, 0, false);
    this.close("reset");
  }

  /** Forget a TIME-WAIT connection at once, silently (its ports are wanted, or room is). */
  release(): void {
    if (this.state === "TIME-WAIT") this.close("closed");
  }

  /** The application can take more now: tell the guest if the window reopened by a useful amount. */
  windowUpdate(): void {
    if (this.state === "CLOSED" || this.state === "SYN-SENT" || this.synAckOwed) return;
    const open = seqDiff(this.rcvEdge, this.rcvNxt);
    if (open < Math.min(this.mss, MAX_WINDOW / 2) && this.window() - open >= this.mss) this.ack();
  }

  /** A segment from the guest for this connection (RFC 9293 §3.10.7). `payload` is a view. */
  segment(seq: number, ack: number, flags: number, window: number, mss: number | undefined, payload: Uint8Array): void {
    this.lastActive = this.now();
    if (this.state === "CLOSED") return;
    if (this.state === "SYN-SENT") return this.synSent(seq, ack, flags, window, mss);
    // Before the SYN|ACK went out there is nothing to answer: the guest's retransmitted SYN waits.
    if (this.synAckOwed) {
      if (flags & TCP_RST && seq === this.rcvNxt) this.close("reset");
      return;
    }
    let len = payload.length;
    const segLen = len + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
    // §3.10.7.4 first: is the segment in the receive window (the RFC's four cases)? A
    // retransmission that overlaps new data is trimmed below.
    const wnd = Math.max(0, seqDiff(this.rcvEdge, this.rcvNxt));
    const d = seqDiff(seq, this.rcvNxt);
    const off = -d;
    let probe = false;
    let acceptable = segLen === 0
      ? (wnd === 0 ? d === 0 : d >= 0 && d < wnd)
      : wnd > 0 && ((d >= 0 && d < wnd) || (d + segLen - 1 >= 0 && d + segLen - 1 < wnd));
    if (!acceptable && wnd === 0 && d === 0 && flags & TCP_ACK && !(flags & (TCP_RST | TCP_SYN))) {
      // A probe of our closed window: its text is not taken, but its ACK is (RFC 9293 §3.10.7.4).
      payload = payload.subarray(0, 0);
      flags &= ~TCP_FIN;
      len = 0;
      acceptable = true;
      probe = true;
    }
    if (!acceptable) {
      if (!(flags & TCP_RST)) this.ack();
      return;
    }
    // RST (RFC 5961 §3.2): exactly at rcvNxt resets; elsewhere in the window, a challenge ACK.
    if (flags & TCP_RST) {
      if (seq === this.rcvNxt) this.close("reset");
      else this.ack();
      return;
    }
    // SYN in a synchronized state (RFC 5961 §4.2): a challenge ACK. In SYN-RECEIVED a SYN for
    // the same ISN is the guest retransmitting: our SYN|ACK again (once owed, still nothing).
    if (flags & TCP_SYN) {
      if (this.state === "SYN-RECEIVED" && add(seq, 1) === this.rcvNxt) {
        if (!this.synAckOwed) this.emit(this.iss, TCP_SYN | TCP_ACK, 0, 0, true);
      } else {
        this.ack();
      }
      return;
    }
    if (!(flags & TCP_ACK)) return;
    // ACK (§3.10.7.4 fifth).
    if (this.state === "SYN-RECEIVED") {
      if (this.synAckOwed || ack !== add(this.iss, 1)) {
        this.wire.segment(this, ack, 0, TCP_RST, 0, 0, 0, false);
        return;
      }
      this.sndUna = ack;
      this.sndWnd = window;
      this.state = "ESTABLISHED";
      this.retries = 0;
      this.rto = RTO_INITIAL_MS;
      this.timerAt = Infinity;
    } else {
      if (seqDiff(ack, this.sndNxt) > 0) {
        // Acknowledges what was never sent (§3.10.7.4): say where we are.
        this.ack();
        return;
      }
      if (seqDiff(ack, this.sndUna) > 0) {
        this.acked(ack);
      } else if (ack === this.sndUna && len === 0 && !(flags & TCP_FIN) && window === this.sndWnd && this.sndNxt !== this.sndUna) {
        // A duplicate ACK (RFC 5681 §2): the third makes us resend from sndUna at once.
        if (++this.dupAcks === 3) this.retransmit();
      }
      this.sndWnd = window;
      if (window === 0) this.retries = 0; // the guest answers our probes: keep probing (§3.8.6.1)
      const now = this.state as TcpState; // acked() may have moved it
      if (now === "CLOSED" || now === "TIME-WAIT") return;
    }
    // Text (§3.10.7.4 seventh): the part past rcvNxt, within the window. A probe is answered.
    let needAck = probe;
    let fin = (flags & TCP_FIN) !== 0;
    if (len > 0 || fin) {
      let data = payload;
      if (off > 0) data = data.subarray(Math.min(off, data.length));
      if (data.length > wnd) {
        data = data.subarray(0, wnd);
        fin = false; // the FIN is past the window
      }
      len = data.length;
      if (len > 0) {
        if (this.state === "ESTABLISHED" || this.state === "FIN-WAIT-1" || this.state === "FIN-WAIT-2") {
          this.rcvNxt = add(this.rcvNxt, len);
          this.app?.deliver(data);
        }
        needAck = true;
      }
      if (fin && off <= payload.length) this.peerFin();
      needAck = needAck || fin;
    }
    if ((this.state as TcpState) === "CLOSED") return;
    if (this.output() || !needAck) return;
    // Text is acknowledged once per batch of guest frames (RFC 9293 §3.8.6.3 allows delaying
    // ACKs; the batch is what the guest sent in one go). A FIN or a probe is answered at once.
    if (this.wire.deferAck && !fin && !probe) {
      if (!this.ackOwed) this.wire.deferAck(this);
      this.ackOwed = true;
    } else {
      this.ack();
    }
  }

  /** The end of a batch of guest frames: send the ACK deferred for it, unless a segment carried it. */
  flushAck(): void {
    if (!this.ackOwed) return;
    this.ackOwed = false;
    if (this.state !== "CLOSED") this.ack();
  }

  /** The retransmission / persist / TIME-WAIT timer, at host time `t`. */
  tick(t: number): void {
    if (t < this.timerAt) return;
    if (this.state === "TIME-WAIT") return this.close("closed");
    if (++this.retries > MAX_RETRIES) return this.abort();
    this.rto = Math.min(this.rto * 2, RTO_MAX_MS);
    this.timerAt = Infinity;
    if (this.state === "SYN-SENT") {
      this.emit(this.iss, TCP_SYN, 0, 0, true);
      return this.arm();
    }
    if (this.state === "SYN-RECEIVED") {
      if (!this.synAckOwed) this.emit(this.iss, TCP_SYN | TCP_ACK, 0, 0, true);
      return this.arm();
    }
    if (this.sndNxt === this.sndUna && this.sndWnd === 0 && this.sendBuf.length > 0) {
      // Persist (RFC 9293 §3.8.6.1): one byte past the closed window.
      this.emit(this.sndNxt, TCP_ACK, 0, 1, false);
      this.sndNxt = add(this.sndNxt, 1);
      return this.arm();
    }
    this.retransmit();
  }

  private synSent(seq: number, ack: number, flags: number, window: number, mss: number | undefined): void {
    const ackOk = (flags & TCP_ACK) !== 0 && ack === add(this.iss, 1);
    if (flags & TCP_ACK && !ackOk) {
      if (!(flags & TCP_RST)) this.wire.segment(this, ack, 0, TCP_RST, 0, 0, 0, false);
      return;
    }
    if (flags & TCP_RST) {
      if (ackOk) this.close("reset"); // connection refused
      return;
    }
    if (!(flags & TCP_SYN) || !ackOk) return; // simultaneous open: not for a guest server
    this.rcvNxt = add(seq, 1);
    this.rcvEdge = this.rcvNxt;
    this.sndUna = ack;
    this.sndWnd = window;
    this.mss = Math.min(TCP_MSS, mss ?? DEFAULT_MSS);
    this.state = "ESTABLISHED";
    this.retries = 0;
    this.rto = RTO_INITIAL_MS;
    this.timerAt = Infinity;
    if (!this.output()) this.ack();
    this.app?.opened?.();
  }

  /** The guest acknowledged up to `ack` (past sndUna). */
  private acked(ack: number): void {
    let n = seqDiff(ack, this.sndUna);
    this.sndUna = ack;
    this.dupAcks = 0;
    this.retries = 0;
    this.rto = RTO_INITIAL_MS;
    const finAcked = this.finSent && ack === this.sndNxt;
    if (finAcked) n--; // the FIN's sequence number carries no byte
    this.sendBuf.consume(n);
    if (!this.reading && this.sendBuf.length <= SEND_BUFFER / 2) {
      this.reading = true;
      this.app?.sendRoom(true);
    }
    this.timerAt = this.sndUna === this.sndNxt ? Infinity : this.now() + this.rto;
    if (finAcked) {
      if (this.state === "FIN-WAIT-1") this.state = "FIN-WAIT-2";
      else if (this.state === "CLOSING") this.timeWait();
      else if (this.state === "LAST-ACK") this.close("closed");
    }
  }

  private peerFin(): void {
    if (this.state === "CLOSE-WAIT" || this.state === "CLOSING" || this.state === "LAST-ACK" || this.state === "TIME-WAIT") return;
    this.rcvNxt = add(this.rcvNxt, 1);
    if (this.state === "FIN-WAIT-2") this.timeWait();
    else if (this.state === "FIN-WAIT-1") this.state = "CLOSING";
    else this.state = "CLOSE-WAIT";
    this.app?.guestFin();
  }

  private timeWait(): void {
    this.state = "TIME-WAIT";
    this.timerAt = this.now() + TIME_WAIT_MS;
  }

  /** Send what the guest's window allows, then our FIN once all is out. True if anything went. */
  private output(): boolean {
    const s = this.state;
    if (s !== "ESTABLISHED" && s !== "CLOSE-WAIT" && s !== "FIN-WAIT-1" && s !== "CLOSING" && s !== "LAST-ACK") return false;
    let sent = false;
    const buffered = this.sendBuf.length;
    for (;;) {
      const inFlight = seqDiff(this.sndNxt, this.sndUna) - (this.finSent ? 1 : 0);
      const left = buffered - inFlight;
      const room = this.sndWnd - seqDiff(this.sndNxt, this.sndUna);
      const n = Math.min(this.mss, left, room);
      if (n <= 0) break;
      this.emit(this.sndNxt, TCP_ACK | (n === left ? TCP_PSH : 0), inFlight, n, false);
      this.sndNxt = add(this.sndNxt, n);
      sent = true;
    }
    if (this.finQueued && !this.finSent && seqDiff(this.sndNxt, this.sndUna) === buffered) {
      this.emit(this.sndNxt, TCP_FIN | TCP_ACK, 0, 0, false);
      this.sndNxt = add(this.sndNxt, 1);
      this.finSent = true;
      if (s === "ESTABLISHED") this.state = "FIN-WAIT-1";
      else if (s === "CLOSE-WAIT") this.state = "LAST-ACK";
      sent = true;
    }
    if (sent && this.timerAt === Infinity) this.arm();
    else if (!sent && this.sndNxt === this.sndUna && this.sndWnd === 0 && buffered > 0 && this.timerAt === Infinity) this.arm(); // persist
    return sent;
  }

  /** Go back to sndUna (RFC 5681 / RFC 6298 §5.4): the oldest unacknowledged segment goes again. */
  private retransmit(): void {
    if (this.finSent && this.sndNxt === add(this.sndUna, 1) && this.sendBuf.length === 0) {
      this.emit(this.sndUna, TCP_FIN | TCP_ACK, 0, 0, false);
      return this.arm();
    }
    this.sndNxt = this.sndUna;
    this.finSent = false;
    if (this.state === "FIN-WAIT-1") this.state = "ESTABLISHED";
    else if (this.state === "LAST-ACK") this.state = "CLOSE-WAIT";
    else if (this.state === "CLOSING") this.state = "CLOSE-WAIT";
    this.timerAt = Infinity;
    this.output();
    if (this.timerAt === Infinity && this.sndNxt !== this.sndUna) this.arm();
  }

  private arm(): void {
    this.timerAt = this.now() + this.rto;
  }

  private ack(): void {
    this.emit(this.sndNxt, TCP_ACK, 0, 0, false);
  }

  private window(): number {
    return Math.max(0, Math.min(MAX_WINDOW, this.app ? this.app.room() : MAX_WINDOW));
  }

  private emit(seq: number, flags: number, from: number, len: number, mss: boolean): void {
    // The window: what the application can take, never moving the right edge left.
    const w = Math.max(this.window(), seqDiff(this.rcvEdge, this.rcvNxt));
    const win = Math.min(w, MAX_WINDOW);
    if (seqDiff(add(this.rcvNxt, win), this.rcvEdge) > 0) this.rcvEdge = add(this.rcvNxt, win);
    this.lastActive = this.now();
    if (flags & TCP_ACK) this.ackOwed = false; // this segment carries it
    this.wire.segment(this, seq, flags & TCP_SYN && !(flags & TCP_ACK) ? 0 : this.rcvNxt, flags, win, from, len, mss);
  }

  private close(how: "reset" | "closed"): void {
    if (this.state === "CLOSED") return;
    this.state = "CLOSED";
    this.timerAt = Infinity;
    this.sendBuf.clear();
    const app = this.app;
    this.app = null;
    app?.ended(how);
  }
}
