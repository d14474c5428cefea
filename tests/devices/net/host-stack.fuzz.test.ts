// Fuzz: the built-in host network (devices/net/host-stack.ts and the protocols beside it) fed
// what a hostile guest can send: random bytes, valid frames with bytes flipped, TCP segments
// with any flags, sequence and acknowledgment numbers from spoofed sources, and SYN floods.
// Properties: nothing escapes as an internal error (send() catches everything, so a bug would
// hide as a "malformed" drop: the log says which), connections ≤ MAX_CONNECTIONS, replies per
// frame bounded, time per frame bounded.
import { test } from "node:test";
import fc from "fast-check";
import { fuzz } from "../../fuzz.ts";
import { HostStack } from "../../../devices/net/host-stack.ts";
import { buildEthernet, ETHERTYPE_IPV4 } from "../../../devices/net/ethernet.ts";
import { buildIpv4, IPPROTO_TCP } from "../../../devices/net/ipv4.ts";
import { buildTcp, MAX_CONNECTIONS, TCP_ACK, TCP_SYN } from "../../../devices/net/tcp.ts";

/** CPU time of this process in ms: bounds that hold on a loaded machine (wall time does not). */
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

const HOST_IP = Uint8Array.of(10, 0, 2, 2);
const HOST_MAC = Uint8Array.of(0x02, 0x76, 0x69, 0x72, 0x65, 0xfe);
const GUEST_MAC = Uint8Array.of(0x02, 0x76, 0x69, 0x72, 0x65, 0x00);
const GET = new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n");

function tcpFrame(src: Uint8Array, srcPort: number, flags: number, seq: number, ack: number, payload: Uint8Array, dstPort = 80): Uint8Array {
  const seg = buildTcp(src, HOST_IP, { srcPort, dstPort, seq: seq >>> 0, ack: ack >>> 0, flags, window: 64240, payload, mss: flags & TCP_SYN ? 1460 : undefined });
  return buildEthernet(HOST_MAC, GUEST_MAC, ETHERTYPE_IPV4, buildIpv4(src, HOST_IP, IPPROTO_TCP, 1, seg));
}

const opArb = fc.oneof(
  fc.record({ k: fc.constant("raw" as const), bytes: fc.uint8Array({ maxLength: 1600 }) }),
  fc.record({
    k: fc.constant("tcp" as const), src: fc.integer({ min: 0, max: 3 }), port: fc.integer({ min: 40000, max: 40003 }), flags: fc.integer({ min: 0, max: 63 }),
    seq: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 0xffff_ffff })), ack: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 0xffff_ffff })),
    data: fc.oneof(fc.constant(GET), fc.uint8Array({ maxLength: 64 }), fc.constant(new Uint8Array(0))), dstPort: fc.constantFrom(80, 80, 81),
    flip: fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { nil: undefined }),
  }),
  fc.record({ k: fc.constant("flood" as const), n: fc.integer({ min: 1, max: 1000 }), base: fc.nat() }),
);

test("host network: random frames, TCP state sequences and SYN floods", () => {
  fuzz("host-stack", fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
    const logs: string[] = [];
    const stack = new HostStack({ log: (m) => void logs.push(m) });
    let replies = 0;
    let lastSeq = 0; // the host's last sequence number, so ACKs can complete handshakes
    stack.onReceive = (f) => {
      replies++;
      if (f.length >= 54 && f[23] === IPPROTO_TCP) lastSeq = ((f[38]! << 24) | (f[39]! << 16) | (f[40]! << 8) | f[41]!) >>> 0;
    };
    const seqs = new Map<string, number>();
    for (const op of ops) {
      const before = replies;
      const t0 = cpuMs();
      let frames = 1;
      if (op.k === "raw") stack.send(op.bytes);
      else if (op.k === "flood") {
        frames = op.n;
        for (let i = 0; i < op.n; i++) {
          const v = op.base + i;
          stack.send(tcpFrame(Uint8Array.of(10, 1 + ((v >> 16) & 0x7f), (v >> 8) & 0xff, v & 0xff), 1024 + (v % 60000), TCP_SYN, v, 0, new Uint8Array(0)));
        }
      } else {
        const src = Uint8Array.of(10, 0, 2, 15 + op.src);
        const key = `${op.src}:${op.port}`;
        const seq = op.seq === -1 ? (seqs.get(key) ?? 1000) : op.seq;
        const ack = op.ack === -1 ? lastSeq + 1 : op.ack;
        const f = tcpFrame(src, op.port, op.flags, seq, ack, op.data, op.dstPort);
        if (op.flip) f[op.flip[0] % f.length]! ^= op.flip[1];
        stack.send(f);
        seqs.set(key, (seq + op.data.length + (op.flags & TCP_SYN ? 1 : 0)) >>> 0);
        void TCP_ACK;
      }
      const ms = cpuMs() - t0;
      if (ms > 50 + frames) throw new Error(`${op.k}: ${ms.toFixed(0)} ms for ${frames} frames`);
      if (replies - before > 4 * frames) throw new Error(`${op.k}: ${replies - before} replies to ${frames} frames`);
      const conns = stack.stats().tcpConnections!;
      if (conns > MAX_CONNECTIONS) throw new Error(`${conns} connections`);
    }
    const internal = logs.find((l) => l.includes("internal error"));
    if (internal) throw new Error(internal);
  }), 60);
});
