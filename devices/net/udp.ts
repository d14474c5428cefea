// UDP (RFC 768): ports, length, and the checksum over the pseudo-header (0 on receipt: none
// computed; 0 computed is sent as 0xffff).
import { internetChecksum, onesSum, pseudoHeaderSum } from "./checksum.ts";
import { FrameError } from "./ethernet.ts";
import { IPPROTO_UDP } from "./ipv4.ts";

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export function parseUdp(p: Uint8Array, src: Uint8Array, dst: Uint8Array): UdpDatagram {
  if (p.length < 8) throw new FrameError(`udp: ${p.length} bytes, shorter than 8`);
  const len = (p[4]! << 8) | p[5]!;
  if (len < 8 || len > p.length) throw new FrameError(`udp: length ${len} with ${p.length} bytes present`);
  const d = p.subarray(0, len);
  const sum = (p[6]! << 8) | p[7]!;
  if (sum !== 0 && onesSum(d, pseudoHeaderSum(src, dst, IPPROTO_UDP, len)) !== 0xffff) throw new FrameError("udp: bad checksum");
  return { srcPort: (p[0]! << 8) | p[1]!, dstPort: (p[2]! << 8) | p[3]!, payload: d.subarray(8) };
}

export function buildUdp(src: Uint8Array, dst: Uint8Array, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const len = 8 + payload.length;
  const p = new Uint8Array(len);
  p.set([srcPort >>> 8, srcPort & 0xff, dstPort >>> 8, dstPort & 0xff, len >>> 8, len & 0xff, 0, 0]);
  p.set(payload, 8);
  const sum = internetChecksum(p, pseudoHeaderSum(src, dst, IPPROTO_UDP, len)) || 0xffff;
  p[6] = sum >>> 8;
  p[7] = sum & 0xff;
  return p;
}
