// Fuzz: the built-in host network (devices/net/host-stack.ts and the protocols beside it) fed
// what a hostile guest can send: random bytes (bare, behind a valid Ethernet header, or inside a
// valid IPv4 packet of any protocol), valid TCP segments with bytes flipped, any flags, sequence
// and acknowledgment numbers from spoofed sources, SYN floods (plain, or with every handshake
// completed so established connections reach the cap), and host time passing (a fake clock, so
// half-open connections expire). Properties: nothing escapes as an internal error (send()
// catches everything, so a bug would hide as a dropped frame: counters.internalErrors counts
// them, past the log's limit too), connections ≤ MAX_CONNECTIONS (bounded memory), replies per
// frame bounded, CPU time per frame bounded.
//
// A case is short so that 10⁶ cases run in well under half an hour: a few operations, a flood
// in about one case in three (≈ 370,000 floods in 10⁶ cases), each flood just past the half-open
// cap or past the connection cap, so every cap is crossed; the 300,000-SYN flood is a unit test
// (tcp.test.ts).
import { test } from "node:test";
import fc from "fast-check";
import { fuzz } from "../../fuzz.ts";
import { HostStack } from "../../../devices/net/host-stack.ts";
import { buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from "../../../devices/net/ethernet.ts";
import { buildIpv4, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../../../devices/net/ipv4.ts";
import { buildTcp, HALF_OPEN_MS, MAX_CONNECTIONS, MAX_HALF_OPEN, TCP_ACK, TCP_SYN } from "../../../devices/net/tcp.ts";

/** CPU time of this process in ms: bounds that hold on a loaded machine (wall time does not). */
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

const HOST_IP = Uint8Array.of(10, 0, 2, 2);
const HOST_MAC = Uint8Array.of(0x02, 0x76, 0x69, 0x72, 0x65, 0xfe);
const GUEST_MAC = Uint8Array.of(0x02, 0x76, 0x69, 0x72, 0x65, 0x00);
const GET = new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n");
const EMPTY = new Uint8Array(0);

function tcpFrame(src: Uint8Array, srcPort: number, flags: number, seq: number, ack: number, payload: Uint8Array, dstPort = 80): Uint8Array {
  const seg = buildTcp(src, HOST_IP, { srcPort, dstPort, seq: seq >>> 0, ack: ack >>> 0, flags, window: 64240, payload, mss: flags & TCP_SYN ? 1460 : undefined });
  return buildEthernet(HOST_MAC, GUEST_MAC, ETHERTYPE_IPV4, buildIpv4(src, HOST_IP, IPPROTO_TCP, 1, seg));
}

const opArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant("raw" as const), bytes: fc.uint8Array({ maxLength: 1600 }),
      // 0: the bytes are the frame; 1: an Ethernet payload; 2: an IPv4 payload of `proto`.
      layer: fc.integer({ min: 0, max: 2 }),
      ethertype: fc.oneof(fc.constantFrom(ETHERTYPE_IPV4, ETHERTYPE_ARP), fc.integer({ min: 0, max: 0xffff })),
      proto: fc.oneof(fc.constantFrom(IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP), fc.integer({ min: 0, max: 255 })),
      broadcast: fc.boolean(),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant("tcp" as const), src: fc.integer({ min: 0, max: 3 }), port: fc.integer({ min: 40000, max: 40003 }), flags: fc.integer({ min: 0, max: 63 }),
      seq: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 0xffff_ffff })), ack: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 0xffff_ffff })),
      data: fc.oneof(fc.constant(GET), fc.uint8Array({ maxLength: 64 }), fc.constant(EMPTY)), dstPort: fc.constantFrom(80, 80, 81),
      flip: fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      // Past the half-open cap, or past the connection cap (completed, they fill it).
      k: fc.constant("flood" as const), base: fc.nat(),
      n: fc.oneof(fc.integer({ min: 1, max: MAX_HALF_OPEN + 8 }), fc.integer({ min: MAX_CONNECTIONS - 8, max: 2 * MAX_CONNECTIONS })),
      // Each SYN's SYN-ACK answered with the ACK that completes the handshake.
      complete: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 2 * HALF_OPEN_MS }) }) },
);

test("host network: random frames, TCP state sequences, SYN floods and host time", () => {
  fuzz("host-stack", fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
    let now = 0;
    const stack = new HostStack({ now: () => now });
    let replies = 0;
    let lastSeq = 0; // the host's last sequence number, so ACKs can complete handshakes
    stack.onReceive = (f) => {
      replies++;
      if (f.length >= 54 && f[23] === IPPROTO_TCP) lastSeq = ((f[38]! << 24) | (f[39]! << 16) | (f[40]! << 8) | f[41]!) >>> 0;
    };
    const seqs = new Map<string, number>();
    let t0 = cpuMs();
    for (const op of ops) {
      const before = replies;
      let frames = 1;
      switch (op.k) {
        case "raw": {
          const dstIp = op.broadcast ? Uint8Array.of(255, 255, 255, 255) : HOST_IP;
          const payload = op.layer === 2 ? buildIpv4(Uint8Array.of(10, 0, 2, 15), dstIp, op.proto, 1, op.bytes) : op.bytes;
          stack.send(op.layer === 0 ? op.bytes : buildEthernet(HOST_MAC, GUEST_MAC, op.layer === 2 ? ETHERTYPE_IPV4 : op.ethertype, payload));
          break;
        }
        case "flood":
          frames = op.complete ? 2 * op.n : op.n;
          for (let i = 0; i < op.n; i++) {
            const v = op.base + i;
            const src = Uint8Array.of(10, 1 + ((v >> 16) & 0x7f), (v >> 8) & 0xff, v & 0xff), port = 1024 + (v % 60000);
            stack.send(tcpFrame(src, port, TCP_SYN, v, 0, EMPTY));
            if (op.complete) stack.send(tcpFrame(src, port, TCP_ACK, v + 1, lastSeq + 1, EMPTY));
          }
          break;
        case "wait":
          now += op.ms;
          break;
        case "tcp": {
          const src = Uint8Array.of(10, 0, 2, 15 + op.src);
          const key = `${op.src}:${op.port}`;
          const seq = op.seq === -1 ? (seqs.get(key) ?? 1000) : op.seq;
          const ack = op.ack === -1 ? lastSeq + 1 : op.ack;
          const f = tcpFrame(src, op.port, op.flags, seq, ack, op.data, op.dstPort);
          if (op.flip) f[op.flip[0] % f.length]! ^= op.flip[1];
          stack.send(f);
          seqs.set(key, (seq + op.data.length + (op.flags & TCP_SYN ? 1 : 0)) >>> 0);
        }
      }
      const t1 = cpuMs();
      const ms = t1 - t0; // this operation and the previous one's checks: one clock read per operation
      t0 = t1;
      if (ms > 50 + frames) throw new Error(`${op.k}: ${ms.toFixed(0)} ms for ${frames} frames`);
      if (replies - before > 4 * frames) throw new Error(`${op.k}: ${replies - before} replies to ${frames} frames`);
      const st = stack.stats();
      if (st.tcpConnections! > MAX_CONNECTIONS) throw new Error(`${st.tcpConnections} connections`);
      if (st.internalErrors !== 0) throw new Error(`${st.internalErrors} internal error(s) in the stack (a frame dropped by a bug, not by a parser)`);
    }
  }), 60);
});
