// The minimal TCP server (RFC 9293) driven segment by segment: handshake, the peer's window,
// out-of-order data, RST acceptance (RFC 5961 §3), a repeated SYN, the closing FINs. Emitted
// segments are read back at the RFC's header offsets, checksums with the test's own sum.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HALF_OPEN_MS, MAX_CONNECTIONS, MAX_HALF_OPEN, TcpServer, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpSegment } from "../../../devices/net/tcp.ts";
import { rfc1071Sum } from "./frames.ts";

const HOST = Uint8Array.of(10, 0, 2, 2), GUEST = Uint8Array.of(10, 0, 2, 15);
const ISN = 0xfffffff0; // the client's: wraps past 2^32 during the test

interface Out { seq: number; ack: number; flags: number; window: number; data: string; mss?: number }

function server(answer: (data: string) => { send?: string; close?: boolean } = () => ({})) {
  const out: Out[] = [];
  const s = new TcpServer(HOST, 80, () => ({
    receive: (d) => {
      const r = answer(new TextDecoder().decode(d));
      return { send: r.send === undefined ? undefined : new TextEncoder().encode(r.send), close: r.close };
    },
  }), (to, seg) => {
    assert.deepEqual(to, GUEST);
    // Pseudo-header per RFC 9293 §3.1, summed here.
    const ph = Uint8Array.of(...HOST, ...GUEST, 0, 6, seg.length >> 8, seg.length & 0xff);
    assert.equal(rfc1071Sum(seg, 0, seg.length, rfc1071Sum(ph)), 0xffff, "TCP checksum");
    const u32 = (i: number) => ((seg[i]! << 24) | (seg[i + 1]! << 16) | (seg[i + 2]! << 8) | seg[i + 3]!) >>> 0;
    const off = (seg[12]! >> 4) * 4;
    const o: Out = { seq: u32(4), ack: u32(8), flags: seg[13]!, window: (seg[14]! << 8) | seg[15]!, data: new TextDecoder().decode(seg.subarray(off)) };
    if (off === 24 && seg[20] === 2) o.mss = (seg[22]! << 8) | seg[23]!;
    out.push(o);
  });
  const send = (seq: number, ack: number, flags: number, data = "", window = 64240, mss?: number) => {
    out.length = 0;
    const seg: TcpSegment = { srcPort: 40000, dstPort: 80, seq: seq >>> 0, ack: ack >>> 0, flags, window, payload: new TextEncoder().encode(data), mss };
    s.segment(GUEST, seg);
    return [...out];
  };
  return { s, send };
}

function open(answer?: (d: string) => { send?: string; close?: boolean }, window?: number) {
  const t = server(answer);
  const [synAck] = t.send(ISN, 0, TCP_SYN, "", window, 1460);
  assert.ok(synAck);
  const iss = synAck.seq;
  assert.deepEqual(t.send(ISN + 1, iss + 1, TCP_ACK, "", window), []);
  return { ...t, iss };
}

test("handshake: SYN gets SYN|ACK acking ISN+1 with our MSS; the ACK establishes quietly", () => {
  const t = server();
  const [sa] = t.send(ISN, 0, TCP_SYN, "", 64240, 1460);
  assert.equal(sa!.flags, TCP_SYN | TCP_ACK);
  assert.equal(sa!.ack, (ISN + 1) >>> 0);
  assert.equal(sa!.mss, 1460);
  assert.equal(t.s.counters.accepted, 1);
});

test("a repeated SYN gets the same SYN|ACK again (ours crossed it)", () => {
  const t = server();
  const [a] = t.send(ISN, 0, TCP_SYN);
  const [b] = t.send(ISN, 0, TCP_SYN);
  assert.deepEqual(b, a);
});

test("request → response in MSS-sized pieces within the peer's window, then FIN; both FINs acked closes", () => {
  const body = "x".repeat(3000);
  const t = open((d) => (d.includes("\r\n\r\n") ? { send: body, close: true } : {}), 2000);
  let sent = t.send(ISN + 1, t.iss + 1, TCP_ACK | TCP_PSH, "GET / HTTP/1.0\r\n\r\n", 2000);
  // 1460 + 540: exactly the 2000-byte window; nothing else until it opens.
  assert.deepEqual(sent.map((o) => o.data.length), [1460, 540]);
  assert.ok(sent.every((o) => o.ack === ((ISN + 1 + 18) >>> 0)));
  const client = (ISN + 1 + 18) >>> 0;
  sent = t.send(client, t.iss + 1 + 2000, TCP_ACK, "", 2000);
  assert.deepEqual(sent.map((o) => [o.data.length, o.flags]), [[1000, TCP_ACK | TCP_PSH], [0, TCP_ACK | TCP_FIN]]);
  const finSeq = sent[1]!.seq;
  assert.deepEqual(t.send(client, finSeq + 1, TCP_ACK | TCP_FIN, "", 2000).map((o) => [o.flags, o.ack]), [[TCP_ACK, (client + 1) >>> 0]]);
  assert.equal(t.s.connections, 0);
  assert.equal(t.s.counters.closed, 1);
});

test("out-of-order data is not delivered: a duplicate ACK says where we are", () => {
  const seen: string[] = [];
  const t = open((d) => (seen.push(d), {}));
  const [dup] = t.send(ISN + 1 + 5, t.iss + 1, TCP_ACK, "later");
  assert.equal(dup!.ack, (ISN + 1) >>> 0);
  assert.deepEqual(seen, []);
  t.send(ISN + 1, t.iss + 1, TCP_ACK, "first");
  assert.deepEqual(seen, ["first"]);
});

test("RST: a wrong sequence number is ignored, the exact one closes (RFC 5961 §3)", () => {
  const t = open();
  t.send(ISN + 1000, 0, TCP_RST);
  assert.equal(t.s.connections, 1);
  t.send(ISN + 1, 0, TCP_RST);
  assert.equal(t.s.connections, 0);
});

test("an ACK for data never sent is answered with an ACK and changes nothing", () => {
  const t = open();
  const [a] = t.send(ISN + 1, t.iss + 500, TCP_ACK, "zz");
  assert.equal(a!.flags, TCP_ACK);
  assert.equal(a!.seq, (t.iss + 1) >>> 0);
});

test("the client's FIN before a full request: ACK and our FIN", () => {
  const t = open();
  const out = t.send(ISN + 1, t.iss + 1, TCP_ACK | TCP_FIN, "GE");
  assert.deepEqual(out.map((o) => o.flags), [TCP_ACK | TCP_FIN]);
  assert.equal(out[0]!.ack, (ISN + 1 + 2 + 1) >>> 0);
});

test("segments for no connection: with ACK → RST at their ack; without → RST|ACK acking their length; RST → nothing", () => {
  const t = server();
  const [r1] = t.send(5, 777, TCP_ACK, "ab");
  assert.deepEqual([r1!.flags, r1!.seq], [TCP_RST, 777]);
  const [r2] = t.send(100, 0, TCP_FIN, "ab");
  assert.deepEqual([r2!.flags, r2!.seq, r2!.ack], [TCP_RST | TCP_ACK, 0, 103]);
  assert.deepEqual(t.send(1, 0, TCP_RST), []);
});

// Issue #15: 300k SYNs from a guest were 300k connections (+218 MiB), kept forever.
test("a SYN flood from 300,000 addresses and ports leaves a bounded number of connections", () => {
  let t = 0;
  let emitted = 0;
  const s = new TcpServer(HOST, 80, () => ({ receive: () => ({}) }), () => void emitted++, () => t);
  const from = new Uint8Array(4);
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < 300_000; i++) {
    from.set([10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]); // spoofed sources
    s.segment(from, { srcPort: 1024 + (i % 60000), dstPort: 80, seq: i, ack: 0, flags: TCP_SYN, window: 64240, payload: new Uint8Array(0) });
    if (i % 1000 === 0) t += 1; // 300 ms of host time over the flood
  }
  assert.ok(s.connections <= MAX_HALF_OPEN, `${s.connections} connections`);
  assert.equal(emitted, 300_000, "each SYN answered once (SYN-ACK)");
  assert.ok(performance.now() - t0 < 20_000);
  assert.ok(process.memoryUsage().heapUsed - heap0 < 64 << 20, "bounded memory");
});

test("half-open connections expire after HALF_OPEN_MS; an established one does not; past MAX_CONNECTIONS a SYN is reset", () => {
  let t = 0;
  const out: { to: string; flags: number }[] = [];
  let lastSeg = { seq: 0 };
  const s = new TcpServer(HOST, 80, () => ({ receive: () => ({}) }), (to, seg) => {
    out.push({ to: to.join("."), flags: seg[13]! });
    lastSeg = { seq: ((seg[4]! << 24) | (seg[5]! << 16) | (seg[6]! << 8) | seg[7]!) >>> 0 };
  }, () => t);
  const syn = (port: number) => s.segment(GUEST, { srcPort: port, dstPort: 80, seq: 1000, ack: 0, flags: TCP_SYN, window: 64240, payload: new Uint8Array(0) });
  const ackOf = (port: number, iss: number) => s.segment(GUEST, { srcPort: port, dstPort: 80, seq: 1001, ack: (iss + 1) >>> 0, flags: TCP_ACK, window: 64240, payload: new Uint8Array(0) });
  // Establish MAX_CONNECTIONS connections, each handshake completed with our SYN-ACK's number.
  for (let port = 2000; port < 2000 + MAX_CONNECTIONS; port++) {
    out.length = 0;
    syn(port);
    const synAck = lastSeg;
    ackOf(port, synAck.seq);
  }
  assert.equal(s.connections, MAX_CONNECTIONS);
  out.length = 0;
  syn(9999);
  assert.equal(out.at(-1)!.flags & TCP_RST, TCP_RST, "over the cap: reset");
  assert.equal(s.connections, MAX_CONNECTIONS);
  t += HALF_OPEN_MS * 10;
  syn(9998);
  assert.equal(s.connections, MAX_CONNECTIONS, "established connections are not expired by time");
  assert.equal(s.counters.refused, 2);
});

test("a half-open connection older than HALF_OPEN_MS is forgotten at the next SYN", () => {
  let t = 0;
  const s = new TcpServer(HOST, 80, () => ({ receive: () => ({}) }), () => {}, () => t);
  const syn = (port: number) => s.segment(GUEST, { srcPort: port, dstPort: 80, seq: 1000, ack: 0, flags: TCP_SYN, window: 64240, payload: new Uint8Array(0) });
  syn(3000);
  syn(3001);
  assert.equal(s.connections, 2);
  t += HALF_OPEN_MS;
  syn(3002);
  assert.equal(s.connections, 1);
  assert.equal(s.counters.expired, 2);
});
