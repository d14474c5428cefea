// The NAT's TCP endpoint (devices/net/tcp-conn.ts) driven segment by segment against what
// RFC 9293 (and RFC 5961, RFC 6298, RFC 5681) say an endpoint does: both opens, the receive
// window as flow control, the send window, retransmission and its backoff, fast retransmit,
// RST and SYN acceptance, and every path through the close diagram.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MAX_RETRIES, RTO_INITIAL_MS, SEND_BUFFER, TCP_ACK, TCP_FIN, TCP_MSS, TCP_PSH, TCP_RST, TCP_SYN, TIME_WAIT_MS, TcpConn, type TcpApp, type TcpWire,
} from "../../../devices/net/tcp-conn.ts";

const GUEST_ISN = 0xfffffff0; // wraps past 2^32 during the tests
const ISS = 0x7ffffff0;

interface Seg { seq: number; ack: number; flags: number; window: number; data: string; mss: boolean }

function harness(opts: { room?: number } = {}) {
  let t = 0;
  const out: Seg[] = [];
  const got: string[] = [];
  const events: string[] = [];
  let room = opts.room ?? 100_000;
  const wire: TcpWire = {
    segment(c, seq, ack, flags, window, from, len, mss) {
      const b = new Uint8Array(len);
      c.sendBuf.copyOut(from, len, b, 0);
      out.push({ seq, ack, flags, window, data: new TextDecoder().decode(b), mss });
    },
  };
  const app: TcpApp = {
    deliver: (d) => void got.push(new TextDecoder().decode(d)),
    guestFin: () => void events.push("fin"),
    ended: (how) => void events.push(how),
    opened: () => void events.push("opened"),
    room: () => room,
    sendRoom: (open) => void events.push(open ? "resume" : "pause"),
  };
  const take = () => out.splice(0);
  return {
    wire, app, take, got, events, now: () => t,
    advance: (ms: number) => void (t += ms),
    setRoom: (n: number) => void (room = n),
  };
}

const enc = (s: string) => new TextEncoder().encode(s);
const u = (n: number) => n >>> 0;

/** A passive open through to ESTABLISHED; `c.segment` wrapped as `send(seqOffset, ackOffset, flags, data, window)`. */
function established(opts: { room?: number; window?: number; mss?: number } = {}) {
  const h = harness(opts);
  const c = TcpConn.passive(h.wire, ISS, h.now, 40000, 0x01020304, 80, GUEST_ISN, opts.window ?? 64240, opts.mss ?? 1460);
  c.app = h.app;
  c.accept();
  h.take();
  const send = (seqOff: number, ackOff: number, flags: number, data = "", window = opts.window ?? 64240) => {
    c.segment(u(GUEST_ISN + 1 + seqOff), u(ISS + 1 + ackOff), flags, window, undefined, enc(data));
    return h.take();
  };
  assert.deepEqual(send(0, 0, TCP_ACK), []);
  assert.equal(c.state, "ESTABLISHED");
  return { ...h, c, send };
}

test("passive open: the SYN|ACK waits for accept() (the outside connect); then acks ISN+1 with our MSS", () => {
  const h = harness();
  const c = TcpConn.passive(h.wire, ISS, h.now, 40000, 0x01020304, 80, GUEST_ISN, 64240, 1460);
  c.app = h.app;
  assert.equal(c.state, "SYN-RECEIVED");
  c.segment(GUEST_ISN, 0, TCP_SYN, 64240, 1460, enc("")); // the guest retransmits its SYN meanwhile
  assert.deepEqual(h.take(), []);
  c.accept();
  const [sa] = h.take();
  assert.deepEqual(sa, { seq: ISS, ack: u(GUEST_ISN + 1), flags: TCP_SYN | TCP_ACK, window: 65535, data: "", mss: true });
  c.segment(u(GUEST_ISN + 1), u(ISS + 1), TCP_ACK, 64240, undefined, enc(""));
  assert.equal(c.state, "ESTABLISHED");
  assert.deepEqual(h.take(), []);
});

test("refuse(): a refused outside connect resets the guest's SYN as a closed port does (RST|ACK, ack ISN+1)", () => {
  const h = harness();
  const c = TcpConn.passive(h.wire, ISS, h.now, 40000, 0x01020304, 80, GUEST_ISN, 64240, 1460);
  c.app = h.app;
  c.refuse();
  assert.deepEqual(h.take().map((s) => [s.seq, s.ack, s.flags]), [[0, u(GUEST_ISN + 1), TCP_RST | TCP_ACK]]);
  assert.equal(c.state, "CLOSED");
  assert.deepEqual(h.events, ["reset"]);
});

test("SYN-RECEIVED: an ACK that does not ack our SYN gets <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.4)", () => {
  const h = harness();
  const c = TcpConn.passive(h.wire, ISS, h.now, 40000, 0x01020304, 80, GUEST_ISN, 64240, 1460);
  c.app = h.app;
  c.accept();
  h.take();
  c.segment(u(GUEST_ISN + 1), u(ISS + 7), TCP_ACK, 64240, undefined, enc(""));
  assert.deepEqual(h.take().map((s) => [s.seq, s.flags]), [[u(ISS + 7), TCP_RST]]);
  assert.equal(c.state, "SYN-RECEIVED");
});

test("receive: in-order text is delivered and acked; the window is what the application can take", () => {
  const t = established({ room: 1000 });
  const [a] = t.send(0, 0, TCP_ACK | TCP_PSH, "hello");
  assert.deepEqual(t.got, ["hello"]);
  assert.equal(a!.ack, u(GUEST_ISN + 1 + 5));
  assert.equal(a!.window, 1000);
});

test("receive: text past the advertised window is cut at its edge; an out-of-order segment is not taken, only acked", () => {
  const t = established({ room: 10 });
  t.take();
  // The window we advertised in the SYN|ACK was 10.
  t.send(0, 0, TCP_ACK, "0123456789ABCDEF");
  assert.deepEqual(t.got, ["0123456789"]);
  t.setRoom(100);
  const dup = t.send(50, 0, TCP_ACK, "later");
  assert.deepEqual(t.got, ["0123456789"]);
  assert.deepEqual(dup.map((s) => [s.ack, s.flags]), [[u(GUEST_ISN + 11), TCP_ACK]]);
});

test("receive: a retransmission overlapping new text gives only the new bytes", () => {
  const t = established();
  t.send(0, 0, TCP_ACK, "abc");
  t.send(0, 0, TCP_ACK, "abcdef");
  assert.deepEqual(t.got, ["abc", "def"]);
});

test("zero window: a probe is not taken but its ACK is; when the application drains, a window update goes out", () => {
  const t = established({ room: 0 });
  t.c.write(enc("x"));
  const [probeAck] = t.send(0, 0, TCP_ACK, "p", 64240);
  assert.deepEqual(t.got, []);
  assert.equal(probeAck!.window, 0);
  assert.equal(t.c.sndUna, u(ISS + 1));
  t.send(0, 1, TCP_ACK, "p"); // acks our "x"
  assert.equal(t.c.sndUna, u(ISS + 2));
  t.setRoom(50_000);
  t.c.windowUpdate();
  const [upd] = t.take();
  assert.equal(upd!.flags, TCP_ACK);
  assert.equal(upd!.window, 50_000);
});

test("send: MSS-sized segments within the guest's window, PSH on the last; an ACK opens the rest", () => {
  const t = established({ window: 3000, mss: 1460 });
  t.c.write(enc("a".repeat(5000)));
  assert.deepEqual(t.take().map((s) => [s.data.length, s.flags]), [[1460, TCP_ACK], [1460, TCP_ACK], [80, TCP_ACK]]);
  const rest = t.send(0, 3000, TCP_ACK, "", 3000);
  assert.deepEqual(rest.map((s) => [s.seq, s.data.length, s.flags]), [[u(ISS + 3001), 1460, TCP_ACK], [u(ISS + 4461), 540, TCP_ACK | TCP_PSH]]);
});

test("send buffer: the application is told to stop at SEND_BUFFER and to resume below half", () => {
  const t = established({ window: 0 });
  t.c.write(new Uint8Array(SEND_BUFFER));
  assert.deepEqual(t.events, ["pause"]);
  // The guest opens its window and acks in 60000-byte steps.
  let acked = 0;
  for (let i = 0; i < 3; i++) {
    t.send(0, acked, TCP_ACK, "", 60000);
    acked += 60000;
  }
  t.send(0, acked, TCP_ACK, "", 60000);
  assert.deepEqual(t.events, ["pause", "resume"]);
});

test("retransmission (RFC 6298): unacked data goes again from SND.UNA after the RTO, doubling; given up after MAX_RETRIES with a RST", () => {
  const t = established();
  t.c.write(enc("data"));
  t.take();
  const gaps: number[] = [];
  let last = 0;
  for (let i = 0; i < MAX_RETRIES; i++) {
    let n = 0;
    while (t.take().length === 0 && n < 100) {
      t.advance(250);
      t.c.tick(t.now());
      n++;
    }
    gaps.push(t.now() - last);
    last = t.now();
  }
  assert.equal(gaps[0], RTO_INITIAL_MS);
  assert.equal(gaps[1], 2 * RTO_INITIAL_MS);
  assert.equal(gaps[2], 4 * RTO_INITIAL_MS);
  t.advance(60_000);
  t.c.tick(t.now());
  assert.deepEqual(t.take().map((s) => s.flags), [TCP_RST]);
  assert.equal(t.c.state, "CLOSED");
  assert.deepEqual(t.events, ["reset"]);
});

test("fast retransmit (RFC 5681 §3.2): the third duplicate ACK resends from SND.UNA at once", () => {
  const t = established({ mss: 1000 });
  t.c.write(enc("z".repeat(4000)));
  t.take();
  t.send(0, 1000, TCP_ACK);
  assert.deepEqual(t.send(0, 1000, TCP_ACK), []);
  assert.deepEqual(t.send(0, 1000, TCP_ACK), []);
  const again = t.send(0, 1000, TCP_ACK);
  assert.equal(again[0]!.seq, u(ISS + 1 + 1000));
});

test("RST (RFC 5961 §3.2): exactly at RCV.NXT resets; elsewhere in the window a challenge ACK; outside it, nothing", () => {
  const t = established();
  assert.deepEqual(t.send(5, 0, TCP_RST).map((s) => [s.flags, s.ack]), [[TCP_ACK, u(GUEST_ISN + 1)]]);
  assert.equal(t.c.state, "ESTABLISHED");
  assert.deepEqual(t.send(-100000, 0, TCP_RST), []);
  assert.equal(t.c.state, "ESTABLISHED");
  t.send(0, 0, TCP_RST);
  assert.equal(t.c.state, "CLOSED");
  assert.deepEqual(t.events, ["reset"]);
});

test("a SYN on an established connection gets a challenge ACK (RFC 5961 §4.2), the connection stays", () => {
  const t = established();
  const r = t.send(0, 0, TCP_SYN);
  assert.deepEqual(r.map((s) => s.flags), [TCP_ACK]);
  assert.equal(t.c.state, "ESTABLISHED");
});

test("an ACK of data never sent is answered with an ACK and ignored", () => {
  const t = established();
  assert.deepEqual(t.send(0, 500, TCP_ACK).map((s) => [s.seq, s.flags]), [[u(ISS + 1), TCP_ACK]]);
  assert.equal(t.c.sndUna, u(ISS + 1));
});

test("close, guest first: CLOSE-WAIT (the application told), our FIN after the data → LAST-ACK → CLOSED", () => {
  const t = established();
  t.send(0, 0, TCP_ACK | TCP_FIN);
  assert.equal(t.c.state, "CLOSE-WAIT");
  assert.deepEqual(t.events, ["fin"]);
  t.c.write(enc("bye"));
  t.c.finish();
  const segs = t.take();
  assert.deepEqual(segs.map((s) => [s.data, s.flags]), [["bye", TCP_ACK | TCP_PSH], ["", TCP_FIN | TCP_ACK]]);
  assert.equal(t.c.state, "LAST-ACK");
  t.send(1, 4, TCP_ACK);
  assert.equal(t.c.state, "CLOSED");
  assert.deepEqual(t.events, ["fin", "closed"]);
});

test("close, us first: FIN-WAIT-1 → FIN-WAIT-2 → (guest FIN, acked) TIME-WAIT → CLOSED after TIME_WAIT_MS; a repeated FIN is acked again", () => {
  const t = established();
  t.c.finish();
  assert.deepEqual(t.take().map((s) => s.flags), [TCP_FIN | TCP_ACK]);
  assert.equal(t.c.state, "FIN-WAIT-1");
  t.send(0, 1, TCP_ACK);
  assert.equal(t.c.state, "FIN-WAIT-2");
  t.send(0, 0, TCP_ACK, "late data"); // text in FIN-WAIT-2 is still taken
  assert.deepEqual(t.got, ["late data"]);
  const [ack] = t.send(9, 1, TCP_ACK | TCP_FIN);
  assert.equal(ack!.ack, u(GUEST_ISN + 1 + 9 + 1));
  assert.equal(t.c.state, "TIME-WAIT");
  assert.deepEqual(t.send(9, 1, TCP_ACK | TCP_FIN).map((s) => [s.flags, s.ack]), [[TCP_ACK, u(GUEST_ISN + 11)]]);
  t.advance(TIME_WAIT_MS);
  t.c.tick(t.now());
  assert.equal(t.c.state, "CLOSED");
  assert.deepEqual(t.events, ["fin", "closed"]);
});

test("simultaneous close: FIN-WAIT-1 + the guest's FIN → CLOSING → (our FIN acked) TIME-WAIT", () => {
  const t = established();
  t.c.finish();
  t.take();
  t.send(0, 0, TCP_ACK | TCP_FIN);
  assert.equal(t.c.state, "CLOSING");
  t.send(1, 1, TCP_ACK);
  assert.equal(t.c.state, "TIME-WAIT");
});

test("a lost FIN is retransmitted alone", () => {
  const t = established();
  t.c.finish();
  t.take();
  t.advance(RTO_INITIAL_MS);
  t.c.tick(t.now());
  assert.deepEqual(t.take().map((s) => [s.seq, s.flags]), [[u(ISS + 1), TCP_FIN | TCP_ACK]]);
});

test("active open (a forwarded connection): SYN with MSS; SYN|ACK → ESTABLISHED, ACK, opened()", () => {
  const h = harness();
  const c = TcpConn.active(h.wire, ISS, h.now, 80, 0x0a000202, 50000);
  c.app = h.app;
  const [syn] = h.take();
  assert.deepEqual([syn!.seq, syn!.ack, syn!.flags, syn!.mss], [ISS, 0, TCP_SYN, true]);
  c.segment(GUEST_ISN, u(ISS + 1), TCP_SYN | TCP_ACK, 29200, 1460, enc(""));
  assert.equal(c.state, "ESTABLISHED");
  assert.deepEqual(h.take().map((s) => [s.seq, s.ack, s.flags]), [[u(ISS + 1), u(GUEST_ISN + 1), TCP_ACK]]);
  assert.deepEqual(h.events, ["opened"]);
  assert.equal(c.mss, TCP_MSS);
});

test("active open: RST|ACK acking our SYN is a refusal; an ACK of something else gets a RST", () => {
  const h = harness();
  const c = TcpConn.active(h.wire, ISS, h.now, 80, 0x0a000202, 50000);
  c.app = h.app;
  h.take();
  c.segment(0, u(ISS + 5), TCP_ACK, 0, undefined, enc(""));
  assert.deepEqual(h.take().map((s) => [s.seq, s.flags]), [[u(ISS + 5), TCP_RST]]);
  assert.equal(c.state, "SYN-SENT");
  c.segment(0, u(ISS + 1), TCP_RST | TCP_ACK, 0, undefined, enc(""));
  assert.equal(c.state, "CLOSED");
  assert.deepEqual(h.events, ["reset"]);
});

test("active open: the SYN is retransmitted with backoff when unanswered", () => {
  const h = harness();
  const c = TcpConn.active(h.wire, ISS, h.now, 80, 0x0a000202, 50000);
  h.take();
  h.advance(RTO_INITIAL_MS);
  c.tick(h.now());
  assert.deepEqual(h.take().map((s) => [s.seq, s.flags]), [[ISS, TCP_SYN]]);
  h.advance(RTO_INITIAL_MS);
  c.tick(h.now());
  assert.deepEqual(h.take(), []); // the second waits 2 s
  h.advance(RTO_INITIAL_MS);
  c.tick(h.now());
  assert.equal(h.take().length, 1);
});
