// IPv4 (RFC 791): the 20-byte header plus options, the header checksum (RFC 1071), and the
// protocol numbers the host stack answers. Fragments are refused: the stack's peers are guests
// on one Ethernet segment whose MTU every datagram fits.
import { internetChecksum, onesSum } from "./checksum.ts";
import { FrameError } from "./ethernet.ts";

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
const FLAG_MF = 0x2000, FLAG_DF = 0x4000, OFFSET_MASK = 0x1fff;

export interface Ipv4Packet {
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  ttl: number;
  id: number;
  payload: Uint8Array;
}

/** Views into `p`; link-layer padding after total_length is cut off. */
export function parseIpv4(p: Uint8Array): Ipv4Packet {
  if (p.length < 20) throw new FrameError(`ipv4: ${p.length} bytes, shorter than a header`);
  const version = p[0]! >>> 4, ihl = (p[0]! & 0xf) * 4;
  if (version !== 4) throw new FrameError(`ipv4: version ${version}`);
  if (ihl < 20 || ihl > p.length) throw new FrameError(`ipv4: header length ${ihl} of ${p.length} bytes`);
  const total = (p[2]! << 8) | p[3]!;
  if (total < ihl || total > p.length) throw new FrameError(`ipv4: total length ${total} with ${p.length} bytes present`);
  if (onesSum(p.subarray(0, ihl)) !== 0xffff) throw new FrameError("ipv4: bad header checksum");
  const frag = (p[6]! << 8) | p[7]!;
  if ((frag & FLAG_MF) !== 0 || (frag & OFFSET_MASK) !== 0) throw new FrameError("ipv4: fragments are not reassembled");
  return {
    src: p.subarray(12, 16), dst: p.subarray(16, 20), protocol: p[9]!, ttl: p[8]!,
    id: (p[4]! << 8) | p[5]!, payload: p.subarray(ihl, total),
  };
}

/** A datagram with a 20-byte header, DF set, TTL 64. */
export function buildIpv4(src: Uint8Array, dst: Uint8Array, protocol: number, id: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  const total = p.length;
  p.set([0x45, 0, total >>> 8, total & 0xff, (id >>> 8) & 0xff, id & 0xff, FLAG_DF >>> 8, 0, 64, protocol, 0, 0]);
  p.set(src, 12);
  p.set(dst, 16);
  const sum = internetChecksum(p.subarray(0, 20));
  p[10] = sum >>> 8;
  p[11] = sum & 0xff;
  p.set(payload, 20);
  return p;
}

export function ipString(ip: Uint8Array): string {
  return [...ip].join(".");
}

/** "10.0.2.2" → 4 bytes, or null. */
export function parseIp(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const b = parts.map((x) => (/^\d{1,3}$/.test(x) ? Number(x) : 256));
  return b.every((x) => x < 256) ? Uint8Array.from(b) : null;
}
