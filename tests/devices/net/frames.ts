// Reference frames for the host-stack tests: the ones a real Linux sent (guest-capture.txt, see
// its header) and a few written by hand from the RFCs. Plus an Internet checksum written here
// from RFC 1071 §4.1's description, independent of devices/net/checksum.ts.
import { readFileSync } from "node:fs";

export const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Frames of guest-capture.txt in order; `from` G (guest, real Linux) or H (our host). */
export const capture: { from: "G" | "H"; frame: Uint8Array }[] = readFileSync(new URL("./guest-capture.txt", import.meta.url), "utf8")
  .split("\n").filter((l) => /^[GH] /.test(l)).map((l) => ({ from: l[0] as "G" | "H", frame: hex(l.slice(2)) }));
export const guestFrames = capture.filter((c) => c.from === "G").map((c) => c.frame);

// Guest frames by role (the capture's order: see its header).
export const G_DISCOVER = guestFrames[0]!;
export const G_REQUEST = guestFrames[1]!;
export const G_ARP_WHO_HAS = guestFrames[2]!;
export const G_ECHO = guestFrames[3]!;
export const G_SYN = guestFrames[4]!;

/** RFC 1071: sum 16-bit big-endian words with end-around carry. 0xffff over a correct packet. */
export function rfc1071Sum(b: Uint8Array, start = 0, end = b.length, extra = 0): number {
  let s = extra;
  for (let i = start; i < end; i += 2) s += (b[i]! << 8) + (i + 1 < end ? b[i + 1]! : 0);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return s;
}

/** The TCP/UDP pseudo-header (RFC 793 §3.1, RFC 768) of an Ethernet+IPv4 frame, summed. */
export function pseudoSum(frame: Uint8Array): number {
  const ihl = (frame[14]! & 0xf) * 4;
  const total = (frame[16]! << 8) | frame[17]!;
  const ph = new Uint8Array(12);
  ph.set(frame.subarray(26, 34)); // source and destination address
  ph[9] = frame[23]!; // protocol
  ph[10] = (total - ihl) >> 8;
  ph[11] = (total - ihl) & 0xff;
  return rfc1071Sum(ph);
}

/**
 * Written by hand from RFC 826: an ARP request from 02:00:00:00:00:01 (10.0.2.15) asking who has
 * 10.0.2.2, broadcast, padded to Ethernet's 60-byte minimum.
 */
export const HAND_ARP_REQUEST = hex(`
  ffffffffffff 020000000001 0806
  0001 0800 06 04 0001
  020000000001 0a00020f
  000000000000 0a000202
  000000000000000000000000000000000000`);

/**
 * Written by hand from RFC 791/792: an ICMP echo request 10.0.2.15 → 10.0.2.2, id 0x1234,
 * seq 1, data "abcd". Checksums worked out by hand (RFC 1071): IPv4 header words 4500+0020+0000
 * +4000+4001+0000+0a00+020f+0a00+0202 = 0xdd32, complemented 0x22cd; ICMP words 0800+0000+1234
 * +0001+6162+6364 = 0xdefb, complemented 0x2104.
 */
export const HAND_ECHO = hex(`
  0276697265fe 020000000001 0800
  4500 0020 0000 4000 4001 22cd 0a00020f 0a000202
  0800 2104 1234 0001 61626364`);
