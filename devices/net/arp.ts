// ARP for IPv4 over Ethernet (RFC 826): the packet layout below, and the one rule a host needs —
// answer a request for its own protocol address with a reply carrying its hardware address.
import { FrameError } from "./ethernet.ts";

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
/** RFC 826 packet: hrd 1 (Ethernet), pro 0x0800, hln 6, pln 4, op, sha, spa, tha, tpa. */
export const ARP_LEN = 28;

export interface ArpPacket {
  op: number;
  senderMac: Uint8Array;
  senderIp: Uint8Array;
  targetMac: Uint8Array;
  targetIp: Uint8Array;
}

export function parseArp(p: Uint8Array): ArpPacket {
  if (p.length < ARP_LEN) throw new FrameError(`arp: ${p.length} bytes, shorter than ${ARP_LEN}`);
  const hrd = (p[0]! << 8) | p[1]!, pro = (p[2]! << 8) | p[3]!;
  if (hrd !== 1 || pro !== 0x0800 || p[4] !== 6 || p[5] !== 4) {
    throw new FrameError(`arp: hardware ${hrd}/${p[4]} protocol 0x${pro.toString(16)}/${p[5]} is not Ethernet/IPv4`);
  }
  return {
    op: (p[6]! << 8) | p[7]!,
    senderMac: p.subarray(8, 14), senderIp: p.subarray(14, 18),
    targetMac: p.subarray(18, 24), targetIp: p.subarray(24, 28),
  };
}

export function buildArp(a: ArpPacket): Uint8Array {
  const p = new Uint8Array(ARP_LEN);
  p.set([0, 1, 0x08, 0x00, 6, 4, a.op >>> 8, a.op & 0xff]);
  p.set(a.senderMac, 8);
  p.set(a.senderIp, 14);
  p.set(a.targetMac, 18);
  p.set(a.targetIp, 24);
  return p;
}
