// Fuzz: the host stack as a NAT gateway (devices/net/nat.ts, tcp-conn.ts) fed what a hostile
// guest can send — random bytes inside valid IPv4 packets to outside addresses, TCP segments
// with any flags, sequence and acknowledgment numbers and flipped bytes, UDP datagrams (DNS
// queries of random bytes among them), SYN floods — while a scripted outside does anything a
// socket can: connect or fail, send data, end, drain, break; and host time passes (timers).
// Properties: nothing escapes as an internal error, connections and flows stay within the
// limits, bytes held per connection stay within the windows, replies per frame are bounded.
import { test } from "node:test";
import fc from "fast-check";
import { fuzz } from "../../fuzz.ts";
import { HostStack } from "../../../devices/net/host-stack.ts";
import { Nat, ipNumber, type NatLimits } from "../../../devices/net/nat.ts";
import type { Outside, OutsideTcp, OutsideTcpEvents } from "../../../devices/net/nat-outside.ts";
import { buildEthernet, ETHERTYPE_IPV4 } from "../../../devices/net/ethernet.ts";
import { buildIpv4, IPPROTO_TCP, IPPROTO_UDP } from "../../../devices/net/ipv4.ts";
import { buildTcp, TCP_ACK, TCP_SYN } from "../../../devices/net/tcp.ts";
import { buildUdp } from "../../../devices/net/udp.ts";

const HOST_MAC = Uint8Array.of(0x02, 0x76, 0x69, 0x72, 0x65, 0xfe);
const GUEST_MAC = Uint8Array.of(0x02, 0x76, 0x69, 0x72, 0x65, 0x00);
const GUEST = Uint8Array.of(10, 0, 2, 15);
const DSTS = [Uint8Array.of(93, 184, 216, 34), Uint8Array.of(10, 0, 2, 2), Uint8Array.of(10, 0, 2, 3), Uint8Array.of(10, 0, 2, 9), Uint8Array.of(224, 0, 0, 1)];
const LIMITS: Partial<NatLimits> = { tcp: 12, connecting: 6, udp: 6, dns: 4, recvBuffer: 4096 };

/** A scripted outside stream: `buffered` what it has not taken; `written` the guest's bytes since it last drained. */
interface Stream { ev: OutsideTcpEvents; buffered: number; written: number; gone: boolean }

const opArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant("tcp" as const), dst: fc.integer({ min: 0, max: DSTS.length - 1 }), port: fc.integer({ min: 40000, max: 40005 }), dport: fc.constantFrom(80, 53, 0),
      flags: fc.oneof(fc.constant(TCP_SYN), fc.constant(TCP_ACK), fc.integer({ min: 0, max: 63 })),
      seq: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 0xffff_ffff })), ack: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 0xffff_ffff })),
      window: fc.oneof(fc.constant(0), fc.constant(65535), fc.integer({ min: 0, max: 65535 })),
      data: fc.uint8Array({ maxLength: 1460 }), flip: fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { nil: undefined }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant("udp" as const), dst: fc.integer({ min: 0, max: DSTS.length - 1 }), port: fc.integer({ min: 5000, max: 5010 }),
      dport: fc.constantFrom(53, 7000), data: fc.uint8Array({ maxLength: 600 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("raw" as const), proto: fc.integer({ min: 0, max: 255 }), dst: fc.integer({ min: 0, max: DSTS.length - 1 }), bytes: fc.uint8Array({ maxLength: 200 }) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant("outside" as const), which: fc.nat(), what: fc.constantFrom("connected", "data", "end", "drain", "closed", "error", "slow", "fast"),
      n: fc.integer({ min: 1, max: 70_000 }),
    }),
  },
  // A handshake done right (SYN, the outside connects, the ACK of our SYN|ACK), so connections get established.
  { weight: 4, arbitrary: fc.record({ k: fc.constant("open" as const), port: fc.integer({ min: 40000, max: 40002 }), seq: fc.integer({ min: 0, max: 0xffff_ffff }) }) },
  // In-sequence text (and maybe a FIN) on a connection `open` made: what a well-behaved guest sends.
  { weight: 12, arbitrary: fc.record({ k: fc.constant("send" as const), port: fc.integer({ min: 40000, max: 40002 }), n: fc.integer({ min: 0, max: 1460 }), fin: fc.boolean(), window: fc.constantFrom(0, 1000, 65535) }) },
  // Many SYNs; with `connect` each outside connect succeeds at once, so the connection cap is reached.
  { weight: 1, arbitrary: fc.record({ k: fc.constant("flood" as const), n: fc.integer({ min: 1, max: 40 }), base: fc.nat(20000), connect: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 130_000 }) }) },
);

test("NAT: random guest traffic against a scripted outside, with time passing", () => {
  const seen = new Set<string>();
  const runs = fuzz("nat", fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
    let now = 0;
    const streams: Stream[] = [];
    const outside: Outside = {
      connectTcp(_ip, _port, ev): OutsideTcp {
        const s: Stream = { ev, buffered: 0, written: 0, gone: false };
        streams.push(s);
        return {
          write: (b) => void ((s.buffered += b.length), (s.written += b.length)), get buffered() { return s.buffered; },
          end: () => {}, destroy: () => void (s.gone = true), pause: () => {}, resume: () => {},
        };
      },
      openUdp: () => ({ send: () => {}, close: () => {} }),
      resolve: async () => ["192.0.2.1"],
    };
    const nat = new Nat({
      outside, gateway: ipNumber("10.0.2.2")!, dns: ipNumber("10.0.2.3")!, guest: ipNumber("10.0.2.15")!, netmask: ipNumber("255.255.255.0")!,
      log: () => {}, now: () => now, limits: LIMITS,
    });
    const stack = new HostStack({ nat, now: () => now });
    let replies = 0;
    // Per guest port, the sequence number after the last segment the NAT sent it: what an ACK acks.
    const nxt = new Map<number, number>();
    stack.onReceive = (f) => {
      replies++;
      if (f.length < 54 || f[23] !== IPPROTO_TCP) return;
      const seq = ((f[38]! << 24) | (f[39]! << 16) | (f[40]! << 8) | f[41]!) >>> 0, flags = f[47]!;
      const len = ((f[16]! << 8) | f[17]!) - 20 - (f[46]! >> 4) * 4 + (flags & 2 ? 1 : 0) + (flags & 1 ? 1 : 0);
      nxt.set((f[36]! << 8) | f[37]!, (seq + len) >>> 0);
    };
    const seqs = new Map<number, number>();
    const frame = (dst: Uint8Array, proto: number, payload: Uint8Array) => buildEthernet(HOST_MAC, GUEST_MAC, ETHERTYPE_IPV4, buildIpv4(GUEST, dst, proto, 1, payload));
    for (const op of ops) {
      const before = replies;
      let frames = 1;
      switch (op.k) {
        case "tcp": {
          const dst = DSTS[op.dst]!;
          const seq = op.seq === -1 ? (seqs.get(op.port) ?? 1000) : op.seq;
          const ack = op.ack === -1 ? (nxt.get(op.port) ?? 0) : op.ack;
          const f = frame(dst, IPPROTO_TCP, buildTcp(GUEST, dst, { srcPort: op.port, dstPort: op.dport, seq: seq >>> 0, ack: ack >>> 0, flags: op.flags, window: op.window, payload: op.data, mss: op.flags & TCP_SYN ? 1460 : undefined }));
          if (op.flip) f[op.flip[0] % f.length]! ^= op.flip[1];
          stack.send(f);
          seqs.set(op.port, (seq + op.data.length + (op.flags & TCP_SYN ? 1 : 0)) >>> 0);
          break;
        }
        case "udp": {
          const dst = DSTS[op.dst]!;
          stack.send(frame(dst, IPPROTO_UDP, buildUdp(GUEST, dst, op.port, op.dport, op.data)));
          break;
        }
        case "raw":
          stack.send(frame(DSTS[op.dst]!, op.proto, op.bytes));
          break;
        case "outside": {
          const s = streams[op.which % Math.max(1, streams.length)];
          if (!s || s.gone) break;
          frames = 1 + Math.ceil(op.n / 1000);
          if (op.what === "connected") s.ev.connected();
          else if (op.what === "data") s.ev.data(new Uint8Array(op.n));
          else if (op.what === "end") s.ev.end();
          else if (op.what === "drain") (s.buffered = s.written = 0), s.ev.drain();
          else if (op.what === "closed" || op.what === "error") (s.gone = true), s.ev.closed(op.what === "error" ? "ECONNRESET" : null);
          else if (op.what === "slow") s.buffered += op.n;
          break;
        }
        case "open": {
          const syn = (flags: number, seq: number, ack: number) => stack.send(frame(DSTS[0]!, IPPROTO_TCP, buildTcp(GUEST, DSTS[0]!, { srcPort: op.port, dstPort: 80, seq, ack, flags, window: 65535, payload: new Uint8Array(0), mss: flags & TCP_SYN ? 1460 : undefined })));
          const n = streams.length;
          syn(TCP_SYN, op.seq, 0);
          if (streams.length > n) streams.at(-1)!.ev.connected();
          syn(TCP_ACK, (op.seq + 1) >>> 0, nxt.get(op.port) ?? 0);
          seqs.set(op.port, (op.seq + 1) >>> 0);
          frames = 2;
          break;
        }
        case "send": {
          const seq = seqs.get(op.port) ?? 0;
          const flags = TCP_ACK | (op.fin ? 1 : 0);
          stack.send(frame(DSTS[0]!, IPPROTO_TCP, buildTcp(GUEST, DSTS[0]!, { srcPort: op.port, dstPort: 80, seq, ack: nxt.get(op.port) ?? 0, flags, window: op.window, payload: new Uint8Array(op.n) })));
          seqs.set(op.port, (seq + op.n + (op.fin ? 1 : 0)) >>> 0);
          break;
        }
        case "flood":
          frames = op.n;
          for (let i = 0; i < op.n; i++) {
            const n = streams.length;
            stack.send(frame(DSTS[0]!, IPPROTO_TCP, buildTcp(GUEST, DSTS[0]!, { srcPort: 20000 + op.base + i, dstPort: 80, seq: i, ack: 0, flags: TCP_SYN, window: 1000, payload: new Uint8Array(0) })));
            if (op.connect && streams.length > n) streams.at(-1)!.ev.connected();
          }
          break;
        case "wait":
          now += op.ms;
          nat.tick();
          frames = 1 + nat.tcpConnections;
          break;
      }
      stack.flush();
      // A data event may emit a window's worth of segments (65535 / 536-byte MSS ≈ 123).
      if (replies - before > 130 * frames + 2 * LIMITS.tcp!) throw new Error(`${op.k}: ${replies - before} replies to ${frames} frames`);
      const st = stack.stats();
      if (st.internalErrors !== 0) throw new Error(`${st.internalErrors} internal error(s): a frame dropped by a bug, not a parser`);
      if (nat.tcpConnections > LIMITS.tcp!) throw new Error(`${nat.tcpConnections} TCP connections, limit ${LIMITS.tcp}`);
      if (nat.udpFlows > LIMITS.udp!) throw new Error(`${nat.udpFlows} UDP flows, limit ${LIMITS.udp}`);
      // What the guest sent that the outside did not take is bounded by the windows offered: every
      // window is what the outside could still take when offered, so at most the receive buffer.
      for (const s of streams) if (s.written > LIMITS.recvBuffer!) throw new Error(`an outside stream was given ${s.written} bytes from the guest without draining`);
      for (const row of nat.table()) if (row.protocol === "tcp") seen.add(row.state);
    }
    nat.close();
  }), 60);
  // Not vacuous: the cases reach established connections (and, over more runs, every state).
  if (runs >= 60 && !seen.has("ESTABLISHED")) throw new Error(`no case established a connection (states seen: ${[...seen].join(", ")})`);
});
