// The host stack as a NAT gateway (devices/net/nat.ts) with a scripted outside in place of
// sockets: guest frames go in, the outside's calls and the frames for the guest are checked
// at the RFCs' offsets with the test's own checksum. Hostile cases: thousands of connections,
// a refused or failing outside, resets, half-closes, a slow outside (the window closes) and a
// slow guest (the outside is paused), DNS queries good and bad, forwarded connections.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HostStack } from "../../../devices/net/host-stack.ts";
import { Nat, NAT_LIMITS, ipNumber, type NatLimits } from "../../../devices/net/nat.ts";
import type { Outside, OutsideAccept, OutsideTcp, OutsideTcpEvents, OutsideUdp } from "../../../devices/net/nat-outside.ts";
import { SEND_BUFFER, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../../../devices/net/tcp-conn.ts";
import { buildTcp } from "../../../devices/net/tcp.ts";
import { buildUdp } from "../../../devices/net/udp.ts";
import { buildIpv4 } from "../../../devices/net/ipv4.ts";
import { buildEthernet } from "../../../devices/net/ethernet.ts";
import { hex, pseudoSum, rfc1071Sum } from "./frames.ts";

const GUEST_MAC = hex("027669726500");
const HOST_MAC = hex("0276697265fe");
const GUEST = Uint8Array.of(10, 0, 2, 15);
const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const u32 = (b: Uint8Array, at: number) => (u16(b, at) * 0x10000 + u16(b, at + 2));

class FakeStream implements OutsideTcp {
  written: string[] = [];
  buffered = 0;
  ended = false;
  destroyed = false;
  paused = false;
  constructor(readonly ip: string, readonly port: number, readonly ev: OutsideTcpEvents) {}
  write(b: Uint8Array): void { this.written.push(Buffer.from(b).toString("latin1")); }
  end(): void { this.ended = true; }
  destroy(): void { this.destroyed = true; }
  pause(): void { this.paused = true; }
  resume(): void { this.paused = false; }
}

class FakeOutside implements Outside {
  streams: FakeStream[] = [];
  udp: { sent: [string, string, number][]; closed: boolean; message: (b: Uint8Array, ip: string, port: number) => void }[] = [];
  names = new Map<string, string[]>();
  accept: OutsideAccept | null = null;
  connectTcp(ip: string, port: number, ev: OutsideTcpEvents): OutsideTcp {
    const s = new FakeStream(ip, port, ev);
    this.streams.push(s);
    return s;
  }
  openUdp(message: (b: Uint8Array, ip: string, port: number) => void): OutsideUdp {
    const u = { sent: [] as [string, string, number][], closed: false, message };
    this.udp.push(u);
    return { send: (b, ip, port) => void u.sent.push([Buffer.from(b).toString("latin1"), ip, port]), close: () => void (u.closed = true) };
  }
  async resolve(name: string, family: 4 | 6): Promise<string[]> {
    const a = this.names.get(`${name}/${family}`);
    if (!a) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    return a;
  }
  async listenTcp(_host: string, _port: number, accept: OutsideAccept): Promise<{ close(): void }> {
    this.accept = accept;
    return { close: () => void (this.accept = null) };
  }
}

function gateway(limits: Partial<NatLimits> = {}) {
  let t = 0;
  const outside = new FakeOutside();
  const logs: string[] = [];
  const nat = new Nat({
    outside, gateway: ipNumber("10.0.2.2")!, dns: ipNumber("10.0.2.3")!, guest: ipNumber("10.0.2.15")!, netmask: ipNumber("255.255.255.0")!,
    log: (m) => logs.push(m), now: () => t, limits,
  });
  const stack = new HostStack({ nat, log: (m) => logs.push(m), now: () => t });
  const out: Uint8Array[] = [];
  stack.onReceive = (f) => out.push(f.slice());
  const take = () => out.splice(0);
  const ip = (dst: number[], protocol: number, payload: Uint8Array, src = GUEST) =>
    buildEthernet(HOST_MAC, GUEST_MAC, 0x0800, buildIpv4(src, Uint8Array.from(dst), protocol, 1, payload));
  const tcp = (dst: number[], sport: number, dport: number, seq: number, ack: number, flags: number, data = "", window = 64240) =>
    ip(dst, 6, buildTcp(GUEST, Uint8Array.from(dst), { srcPort: sport, dstPort: dport, seq: seq >>> 0, ack: ack >>> 0, flags, window, payload: Buffer.from(data, "latin1"), mss: flags & TCP_SYN ? 1460 : undefined }));
  const udp = (dst: number[], sport: number, dport: number, data: Uint8Array) => ip(dst, 17, buildUdp(GUEST, Uint8Array.from(dst), sport, dport, data));
  // One frame is one batch: the deferred ACKs go out at its end, as the link's pump does.
  const send = (f: Uint8Array) => {
    stack.send(f);
    stack.flush();
    return take();
  };
  return { nat, stack, outside, logs, take, tcp, udp, ip, send, advance: (ms: number) => void (t += ms) };
}

/** A TCP segment for the guest: checksums checked with the test's own sum; fields at RFC 9293's offsets. */
function seg(f: Uint8Array) {
  assert.equal(u16(f, 12), 0x0800);
  assert.equal(rfc1071Sum(f, 14, 34), 0xffff, "IPv4 header checksum");
  assert.equal(f[23], 6);
  const len = u16(f, 16) - 20;
  assert.equal(rfc1071Sum(f, 34, 34 + len, pseudoSum(f)), 0xffff, "TCP checksum");
  const off = (f[34 + 12]! >> 4) * 4;
  return {
    src: [...f.subarray(26, 30)].join("."), dst: [...f.subarray(30, 34)].join("."), sport: u16(f, 34), dport: u16(f, 36),
    seq: u32(f, 38), ack: u32(f, 42), flags: f[47]!, window: u16(f, 48), data: Buffer.from(f.subarray(34 + off, 34 + len)).toString("latin1"),
  };
}

function udpOf(f: Uint8Array) {
  assert.equal(f[23], 17);
  const len = u16(f, 38);
  assert.equal(rfc1071Sum(f, 34, 34 + len, pseudoSum(f)), 0xffff, "UDP checksum");
  return { src: [...f.subarray(26, 30)].join("."), sport: u16(f, 34), dport: u16(f, 36), data: f.slice(42, 34 + len) };
}

const ISN = 1000;
const REMOTE = [93, 184, 216, 34];

/** A guest connection to REMOTE:80 from port 40000 through to ESTABLISHED. */
function connected(g = gateway()) {
  assert.deepEqual(g.send(g.tcp(REMOTE, 40000, 80, ISN, 0, TCP_SYN)), []); // the SYN|ACK waits for the outside
  const s = g.outside.streams.at(-1)!;
  assert.deepEqual([s.ip, s.port], ["93.184.216.34", 80]);
  s.ev.connected();
  const [sa] = g.take().map(seg);
  assert.equal(sa!.flags, TCP_SYN | TCP_ACK);
  assert.equal(sa!.ack, ISN + 1);
  assert.deepEqual([sa!.src, sa!.dst, sa!.sport, sa!.dport], ["93.184.216.34", "10.0.2.15", 80, 40000]);
  const iss = sa!.seq;
  assert.deepEqual(g.send(g.tcp(REMOTE, 40000, 80, ISN + 1, iss + 1, TCP_ACK)), []);
  return { ...g, s, iss };
}

test("TCP relay: guest bytes reach the outside stream, outside bytes come back as segments, each end's FIN reaches the other", () => {
  const g = connected();
  const [ack] = g.send(g.tcp(REMOTE, 40000, 80, ISN + 1, g.iss + 1, TCP_ACK, "GET / HTTP/1.0\r\n\r\n")).map(seg);
  assert.deepEqual(g.s.written, ["GET / HTTP/1.0\r\n\r\n"]);
  assert.equal(ack!.ack, ISN + 1 + 18);
  const answer = "HTTP/1.0 200 OK\r\n\r\nhi";
  g.s.ev.data(Buffer.from(answer));
  const [d] = g.take().map(seg);
  assert.equal(d!.data, answer);
  g.s.ev.end();
  const [fin] = g.take().map(seg);
  assert.equal(fin!.flags, TCP_FIN | TCP_ACK);
  // The guest acks both and closes its side: the stream is ended, the connection in TIME-WAIT, then gone.
  g.send(g.tcp(REMOTE, 40000, 80, ISN + 19, g.iss + 1 + answer.length + 1, TCP_ACK | TCP_FIN));
  assert.equal(g.s.ended, true);
  assert.equal(g.nat.tcpConnections, 1); // TIME-WAIT
  g.advance(3000);
  g.nat.tick();
  assert.equal(g.nat.tcpConnections, 0);
});

test("the gateway address is the host machine: 10.0.2.2:8080 connects to 127.0.0.1:8080", () => {
  const g = gateway();
  g.send(g.tcp([10, 0, 2, 2], 40001, 8080, ISN, 0, TCP_SYN));
  assert.deepEqual([g.outside.streams[0]!.ip, g.outside.streams[0]!.port], ["127.0.0.1", 8080]);
});

test("nobody else on the subnet: a SYN to 10.0.2.77 is reset without an outside connect", () => {
  const g = gateway();
  const [r] = g.send(g.tcp([10, 0, 2, 77], 40001, 80, ISN, 0, TCP_SYN)).map(seg);
  assert.equal(r!.flags, TCP_RST | TCP_ACK);
  assert.equal(g.outside.streams.length, 0);
});

test("a refused outside connect resets the guest's SYN (RST|ACK) and says so in the log", () => {
  const g = gateway();
  g.send(g.tcp(REMOTE, 40000, 81, ISN, 0, TCP_SYN));
  g.outside.streams[0]!.ev.closed("ECONNREFUSED");
  const [r] = g.take().map(seg);
  assert.deepEqual([r!.flags, r!.ack], [TCP_RST | TCP_ACK, ISN + 1]);
  assert.equal(g.nat.tcpConnections, 0);
  assert.match(g.logs.join("\n"), /TCP 10\.0\.2\.15:40000 → 93\.184\.216\.34:81: outside connect failed \(ECONNREFUSED\)/);
});

test("a guest opening thousands of connections: NAT_LIMITS.tcp are relayed, the rest reset, each refusal logged", () => {
  const g = gateway();
  const n = 3000;
  let resets = 0;
  for (let i = 0; i < n; i++) {
    const frames = g.send(g.tcp(REMOTE, 10000 + i, 80, ISN, 0, TCP_SYN));
    if (frames.length > 0 && (seg(frames[0]!).flags & TCP_RST)) resets++;
  }
  // Connects in progress are capped first, then connections: let every connect succeed as it comes.
  assert.equal(g.outside.streams.length, NAT_LIMITS.connecting);
  for (const s of g.outside.streams) s.ev.connected();
  for (let i = 0; i < n; i++) g.send(g.tcp(REMOTE, 20000 + i, 80, ISN, 0, TCP_SYN));
  for (const s of g.outside.streams) s.ev.connected();
  for (let i = 0; i < n; i++) g.send(g.tcp(REMOTE, 30000 + i, 80, ISN, 0, TCP_SYN));
  for (const s of g.outside.streams) s.ev.connected();
  for (let i = 0; i < n; i++) g.send(g.tcp(REMOTE, 40000 + i, 80, ISN, 0, TCP_SYN));
  for (const s of g.outside.streams) s.ev.connected();
  for (let i = 0; i < n; i++) g.send(g.tcp(REMOTE, 50000 + i, 80, ISN, 0, TCP_SYN));
  assert.equal(g.nat.tcpConnections, NAT_LIMITS.tcp);
  assert.ok(g.outside.streams.length <= NAT_LIMITS.tcp);
  assert.equal(resets, n - NAT_LIMITS.connecting);
  const refusals = g.logs.filter((l) => /^host network: refused TCP 10\.0\.2\.15:\d+ → 93\.184\.216\.34:80: (256 connections open|64 connects in progress) \(the limit\)$/.test(l));
  assert.equal(refusals.length, g.nat.counters.tcpRefused);
  assert.ok(g.nat.counters.tcpRefused > 10_000);
});

test("the guest's RST aborts the outside stream; an outside error resets the guest", () => {
  const g = connected();
  g.send(g.tcp(REMOTE, 40000, 80, ISN + 1, 0, TCP_RST));
  assert.equal(g.s.destroyed, true);
  assert.equal(g.nat.tcpConnections, 0);
  const h = connected();
  h.s.ev.closed("ECONNRESET");
  const [r] = h.take().map(seg);
  assert.equal(r!.flags & TCP_RST, TCP_RST);
  assert.equal(h.nat.tcpConnections, 0);
});

test("half-close: the guest's FIN ends the outside's writing side; the outside's bytes still reach the guest", () => {
  const g = connected();
  g.send(g.tcp(REMOTE, 40000, 80, ISN + 1, g.iss + 1, TCP_ACK | TCP_FIN, "req"));
  assert.deepEqual(g.s.written, ["req"]);
  assert.equal(g.s.ended, true);
  g.s.ev.data(Buffer.from("answer"));
  assert.equal(g.take().map(seg)[0]!.data, "answer");
  g.s.ev.end();
  assert.equal(g.take().map(seg)[0]!.flags, TCP_FIN | TCP_ACK);
  g.send(g.tcp(REMOTE, 40000, 80, ISN + 5, g.iss + 1 + 6 + 1, TCP_ACK));
  assert.equal(g.nat.tcpConnections, 0); // LAST-ACK → CLOSED
});

test("a burst of guest segments in one batch is acknowledged once, at the batch's end", () => {
  const g = connected();
  for (let i = 0; i < 5; i++) g.stack.send(g.tcp(REMOTE, 40000, 80, ISN + 1 + 100 * i, g.iss + 1, TCP_ACK, "d".repeat(100)));
  assert.deepEqual(g.take(), []);
  g.stack.flush();
  const acks = g.take().map(seg);
  assert.deepEqual(acks.map((a) => [a.flags, a.ack]), [[TCP_ACK, ISN + 1 + 500]]);
  assert.equal(g.s.written.join(""), "d".repeat(500));
});

test("a slow outside closes the guest's window (bounded buffering: at most the window already offered); drain reopens it", () => {
  const g = connected();
  g.s.buffered = NAT_LIMITS.recvBuffer; // the outside takes nothing more
  let taken = 0, window = -1;
  for (let i = 0; i < 60; i++) {
    const [a] = g.send(g.tcp(REMOTE, 40000, 80, ISN + 1 + taken, g.iss + 1, TCP_ACK, "x".repeat(1460))).map(seg);
    taken = a!.ack - ISN - 1;
    window = a!.window;
  }
  // The 65535 bytes offered in the SYN|ACK are taken (RFC 9293 §3.8.6: a window is not shrunk); then nothing.
  assert.equal(taken, 65535);
  assert.equal(window, 0);
  assert.equal(g.s.written.join("").length, 65535);
  g.s.buffered = 0;
  g.s.ev.drain();
  const [c] = g.take().map(seg);
  assert.equal(c!.window, 65535);
});

test("a slow guest (window 0) pauses the outside at SEND_BUFFER and resumes it as the guest acks", () => {
  const g = connected();
  g.send(g.tcp(REMOTE, 40000, 80, ISN + 1, g.iss + 1, TCP_ACK, "", 0));
  for (let i = 0; i < SEND_BUFFER / 16384; i++) g.s.ev.data(new Uint8Array(16384));
  assert.equal(g.s.paused, true);
  let acked = 0;
  while (g.s.paused && acked < SEND_BUFFER) {
    const sent = g.send(g.tcp(REMOTE, 40000, 80, ISN + 1, g.iss + 1 + acked, TCP_ACK, "", 65535)).map(seg);
    acked += sent.reduce((n, s) => n + s.data.length, 0);
  }
  assert.equal(g.s.paused, false);
});

test("UDP: a datagram goes out from the guest port's own socket; an answer comes back from where it came", () => {
  const g = gateway();
  g.send(g.udp([192, 0, 2, 9], 5353, 7000, Buffer.from("ping")));
  assert.equal(g.outside.udp.length, 1);
  assert.deepEqual(g.outside.udp[0]!.sent, [["ping", "192.0.2.9", 7000]]);
  g.outside.udp[0]!.message(Buffer.from("pong"), "192.0.2.9", 7000);
  const [r] = g.take().map(udpOf);
  assert.deepEqual([r!.src, r!.sport, r!.dport, Buffer.from(r!.data).toString()], ["192.0.2.9", 7000, 5353, "pong"]);
  g.advance(NAT_LIMITS.udpIdleMs + 1);
  g.nat.tick();
  assert.equal(g.outside.udp[0]!.closed, true);
});

test("UDP flows are capped: a datagram from one more guest port is dropped and logged", () => {
  const g = gateway({ udp: 4 });
  for (let p = 0; p < 6; p++) g.send(g.udp([192, 0, 2, 9], 6000 + p, 7000, Buffer.from("x")));
  assert.equal(g.outside.udp.length, 4);
  assert.equal(g.logs.filter((l) => /dropped UDP .*: 4 UDP flows open \(the limit\)/.test(l)).length, 2);
});

/** An RFC 1035 query for `name`, type `qtype`, id 0x1234, RD. */
function query(name: string, qtype: number): Uint8Array {
  const labels = name.split(".").flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Uint8Array.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, qtype >> 8, qtype & 0xff, 0, 1]);
}

async function dnsAnswer(g: ReturnType<typeof gateway>, q: Uint8Array) {
  const now = g.send(g.udp([10, 0, 2, 3], 33333, 53, q));
  await new Promise((r) => setImmediate(r));
  const [r] = [...now, ...g.take()].map(udpOf);
  assert.ok(r, "an answer");
  assert.deepEqual([r.src, r.sport, r.dport], ["10.0.2.3", 53, 33333]);
  const d = r.data;
  return { id: u16(d, 0), flags: u16(d, 2), rcode: d[3]! & 0xf, an: u16(d, 6), d };
}

test("DNS: an A query is answered from the outside's resolver (RFC 1035 §4.1: header, question, A records)", async () => {
  const g = gateway();
  g.outside.names.set("host.example/4", ["192.0.2.7", "192.0.2.8"]);
  const q = query("Host.Example", 1);
  const a = await dnsAnswer(g, q);
  assert.equal(a.id, 0x1234);
  assert.equal(a.flags & 0x8000, 0x8000); // QR
  assert.equal(a.flags & 0x0100, 0x0100); // RD copied
  assert.equal(a.rcode, 0);
  assert.equal(a.an, 2);
  const rr = q.length; // answers follow the question
  assert.deepEqual([...a.d.subarray(rr, rr + 12)], [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
  assert.deepEqual([...a.d.subarray(rr + 12, rr + 16)], [192, 0, 2, 7]);
  assert.deepEqual([...a.d.subarray(rr + 28, rr + 32)], [192, 0, 2, 8]);
});

test("DNS: an unknown name is NXDOMAIN; AAAA for a v4-only name is an empty answer; MX is NOTIMP; a broken query FORMERR", async () => {
  const g = gateway();
  g.outside.names.set("v4only/4", ["192.0.2.1"]);
  assert.equal((await dnsAnswer(g, query("nowhere", 1))).rcode, 3);
  const aaaa = await dnsAnswer(g, query("v4only", 28));
  assert.deepEqual([aaaa.rcode, aaaa.an], [0, 0]);
  assert.equal((await dnsAnswer(g, query("v4only", 15))).rcode, 4);
  const bad = query("v4only", 1);
  bad[12] = 0xc0; // a compression pointer in the question
  assert.equal((await dnsAnswer(g, bad)).rcode, 1);
});

test("ICMP: echo to the gateway and the resolver is answered; echo to the outside is dropped, said once", () => {
  const g = gateway();
  const echo = (dst: number[]) => {
    const icmp = Uint8Array.from([8, 0, 0, 0, 0, 1, 0, 1, 0x61, 0x62]);
    const s = ~rfc1071Sum(icmp) & 0xffff;
    icmp[2] = s >> 8;
    icmp[3] = s & 0xff;
    return g.ip(dst, 1, icmp);
  };
  assert.equal(g.send(echo([10, 0, 2, 2])).length, 1);
  const [r] = g.send(echo([10, 0, 2, 3]));
  assert.deepEqual([...r!.subarray(26, 30)], [10, 0, 2, 3]);
  assert.equal(g.send(echo(REMOTE)).length, 0);
  assert.equal(g.send(echo(REMOTE)).length, 0);
  assert.equal(g.logs.filter((l) => l.includes("ICMP to 93.184.216.34 not relayed")).length, 1);
});

test("DHCP with a NAT names the resolver (RFC 2132 option 6: 10.0.2.3)", async () => {
  const { G_DISCOVER } = await import("./frames.ts");
  const g = gateway();
  const [r] = g.send(G_DISCOVER);
  const m = 14 + 20 + 8;
  const opts = new Map<number, number[]>();
  for (let at = m + 240; r![at] !== 255; at += 2 + r![at + 1]!) opts.set(r![at]!, [...r!.subarray(at + 2, at + 2 + r![at + 1]!)]);
  assert.deepEqual(opts.get(6), [10, 0, 2, 3]);
});

test("port forwarding: a host connection becomes a SYN from the gateway to the guest's port; the guest's reset refuses it, logged", async () => {
  const g = gateway();
  await g.nat.forward([{ protocol: "tcp", host: "127.0.0.1", hostPort: 8080, guestPort: 80 }]);
  g.send(g.udp([192, 0, 2, 9], 5353, 7000, Buffer.from("hello"))); // the guest's MAC is known from a frame
  g.take();
  let stream: FakeStream | null = null;
  g.outside.accept!((ev) => (stream = new FakeStream("127.0.0.1", 50000, ev)), "127.0.0.1:50000");
  const [syn] = g.take().map(seg);
  assert.deepEqual([syn!.src, syn!.dport, syn!.flags], ["10.0.2.2", 80, TCP_SYN]);
  assert.equal(stream!.paused, true);
  // The guest accepts: SYN|ACK → our ACK, and the host side reads.
  g.send(g.tcp([10, 0, 2, 2], 80, syn!.sport, 7000, syn!.seq + 1, TCP_SYN | TCP_ACK));
  assert.equal(stream!.paused, false);
  stream!.ev.data(Buffer.from("GET /"));
  assert.equal(g.take().map(seg)[0]!.data, "GET /");
  // A second one to a port where nothing listens: the guest resets, the host side is aborted.
  let second: FakeStream | null = null;
  g.outside.accept!((ev) => (second = new FakeStream("127.0.0.1", 50001, ev)), "127.0.0.1:50001");
  const [syn2] = g.take().map(seg);
  g.send(g.tcp([10, 0, 2, 2], 80, syn2!.sport, 0, syn2!.seq + 1, TCP_RST | TCP_ACK));
  assert.equal(second!.destroyed, true);
  assert.match(g.logs.join("\n"), /refused forwarded 127\.0\.0\.1:50001 → 127\.0\.0\.1:8080 → guest port 80: the guest reset it/);
});

test("packets from an address that is not the guest's are dropped, said once", () => {
  const g = gateway();
  const f = g.tcp(REMOTE, 40000, 80, ISN, 0, TCP_SYN);
  f[29] = 99; // source 10.0.2.99 …
  f[24] = f[25] = 0; // … with the IPv4 header checksum recomputed
  const s = ~rfc1071Sum(f, 14, 34) & 0xffff;
  f[24] = s >> 8;
  f[25] = s & 0xff;
  g.send(f);
  assert.equal(g.outside.streams.length, 0);
  assert.equal(g.nat.counters.foreignSource, 1);
});

test("an established connection idle past the limit is reset both ways", () => {
  const g = connected(gateway({ tcpIdleMs: 10_000 }));
  g.advance(10_001);
  g.nat.tick();
  assert.equal(g.s.destroyed, true);
  assert.equal(g.take().map(seg)[0]!.flags & TCP_RST, TCP_RST);
  assert.equal(g.nat.tcpConnections, 0);
});

test("a relayed packet with a bad IPv4 header checksum, or a fragment, is dropped as malformed (RFC 791)", () => {
  const g = gateway();
  const bad = g.tcp(REMOTE, 40000, 80, ISN, 0, TCP_SYN);
  bad[24]! ^= 0xff;
  g.send(bad);
  const frag = g.tcp(REMOTE, 40000, 80, ISN, 0, TCP_SYN);
  frag[20] = 0x20; // MF, with the header checksum made right again
  frag[24] = frag[25] = 0;
  const s = ~rfc1071Sum(frag, 14, 34) & 0xffff;
  frag[24] = s >> 8;
  frag[25] = s & 0xff;
  g.send(frag);
  assert.equal(g.outside.streams.length, 0);
  assert.equal(g.stack.stats().malformed, 2);
  assert.equal(g.stack.stats().internalErrors, 0);
});

test("TIME-WAIT gives way: a new SYN on its ports opens a new connection, and at the cap it makes room, with no reset either time", () => {
  const g = connected(gateway({ tcp: 1 }));
  g.s.ev.end(); // the outside closes first: our FIN, the guest's ACK and FIN → TIME-WAIT
  const [fin] = g.take().map(seg);
  g.send(g.tcp(REMOTE, 40000, 80, ISN + 1, fin!.seq + 1, TCP_ACK | TCP_FIN));
  assert.equal(g.nat.table()[0]!.state, "TIME-WAIT");
  // Another port, at the cap of 1: the TIME-WAIT one makes room.
  const other = g.send(g.tcp(REMOTE, 40001, 80, ISN, 0, TCP_SYN)).map(seg);
  assert.deepEqual(other, []); // no reset: the new SYN waits for its outside connect
  assert.equal(g.outside.streams.length, 2);
  assert.deepEqual(g.nat.table().map((r) => [r.guestPort, r.state]), [[40001, "SYN-RECEIVED"]]);
  // The same ports again: the TIME-WAIT one is replaced.
  const h = connected(gateway());
  h.s.ev.end();
  const [fin2] = h.take().map(seg);
  h.send(h.tcp(REMOTE, 40000, 80, ISN + 1, fin2!.seq + 1, TCP_ACK | TCP_FIN));
  assert.deepEqual(h.send(h.tcp(REMOTE, 40000, 80, ISN + 5000, 0, TCP_SYN)), []);
  assert.deepEqual(h.nat.table().map((r) => [r.guestPort, r.state]), [[40000, "SYN-RECEIVED"]]);
});
