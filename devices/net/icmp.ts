// ICMP (RFC 792): the host answers Echo (type 8) with Echo Reply (type 0), returning the
// identifier, sequence number and data unchanged.
import { internetChecksum, onesSum } from "./checksum.ts";
import { FrameError } from "./ethernet.ts";

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO = 8;

export interface IcmpMessage {
  type: number;
  code: number;
  /** Everything after the checksum: for echo, identifier, sequence and data. */
  rest: Uint8Array;
}

export function parseIcmp(p: Uint8Array): IcmpMessage {
  if (p.length < 8) throw new FrameError(`icmp: ${p.length} bytes, shorter than 8`);
  if (onesSum(p) !== 0xffff) throw new FrameError("icmp: bad checksum");
  return { type: p[0]!, code: p[1]!, rest: p.subarray(4) };
}

export function buildIcmp(type: number, code: number, rest: Uint8Array): Uint8Array {
  const p = new Uint8Array(4 + rest.length);
  p[0] = type;
  p[1] = code;
  p.set(rest, 4);
  const sum = internetChecksum(p);
  p[2] = sum >>> 8;
  p[3] = sum & 0xff;
  return p;
}

/** The reply to an echo request, or null when `m` is not one. */
export function echoReply(m: IcmpMessage): Uint8Array | null {
  if (m.type !== ICMP_ECHO || m.code !== 0) return null;
  return buildIcmp(ICMP_ECHO_REPLY, 0, m.rest);
}
