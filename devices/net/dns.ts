// DNS messages (RFC 1035 §4.1) as the NAT's resolver answers them: a standard query with one
// question is read; the answer repeats the question and carries A (RFC 1035 §3.4.1) or AAAA
// (RFC 3596) records, or an error code. Queries are hostile input: labels, lengths and the
// end of the message are checked; compression pointers (never needed in a question) are refused.
import { FrameError } from "./ethernet.ts";

export const DNS_PORT = 53;
export const TYPE_A = 1, TYPE_AAAA = 28, CLASS_IN = 1;
export const RCODE_OK = 0, RCODE_FORMERR = 1, RCODE_SERVFAIL = 2, RCODE_NXDOMAIN = 3, RCODE_NOTIMP = 4, RCODE_REFUSED = 5;
/** RFC 1035 §4.2.1: a UDP answer without EDNS fits 512 bytes; records past that are left out. */
export const DNS_UDP_MAX = 512;
/** The TTL given to answers (seconds): short, since the host's answer may change. */
const TTL = 60;

export interface DnsQuery {
  id: number;
  /** The query's RD bit (copied to the answer). */
  rd: boolean;
  opcode: number;
  /** Lower case, without the trailing dot. */
  name: string;
  qtype: number;
  qclass: number;
  /** Bytes of header + question (copied into the answer). */
  questionEnd: number;
}

export function parseDnsQuery(m: Uint8Array): DnsQuery {
  if (m.length < 12) throw new FrameError(`dns: ${m.length} bytes, shorter than a header`);
  if (m[2]! & 0x80) throw new FrameError("dns: a response, not a query");
  const qd = (m[4]! << 8) | m[5]!;
  if (qd !== 1) throw new FrameError(`dns: ${qd} questions (one is answered)`);
  const labels: string[] = [];
  let at = 12, total = 0;
  for (;;) {
    const n = m[at];
    if (n === undefined) throw new FrameError("dns: the name runs past the end");
    at++;
    if (n === 0) break;
    if (n > 63) throw new FrameError(`dns: label length byte 0x${n.toString(16)} (pointers and extended labels are not read)`);
    if (at + n > m.length) throw new FrameError("dns: a label runs past the end");
    total += n + 1;
    if (total > 254) throw new FrameError("dns: name longer than 255 bytes");
    let label = "";
    for (let i = 0; i < n; i++) label += String.fromCharCode(m[at + i]!);
    labels.push(label.toLowerCase());
    at += n;
  }
  if (at + 4 > m.length) throw new FrameError("dns: the question's type and class run past the end");
  return {
    id: (m[0]! << 8) | m[1]!, rd: (m[2]! & 1) !== 0, opcode: (m[2]! >>> 3) & 0xf,
    name: labels.join("."), qtype: (m[at]! << 8) | m[at + 1]!, qclass: (m[at + 2]! << 8) | m[at + 3]!, questionEnd: at + 4,
  };
}

/** A host name the resolver is asked about: letters, digits, '-' and '_' in dot-separated labels. */
export function plausibleName(name: string): boolean {
  return /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(name);
}

/** The answer to `q` (from message `m`): `rcode`, and `addresses` (4 or 16 bytes each) as records of q.qtype. */
export function dnsAnswer(m: Uint8Array, q: DnsQuery, rcode: number, addresses: readonly Uint8Array[]): Uint8Array {
  const recordLen = (a: Uint8Array) => 2 + 2 + 2 + 4 + 2 + a.length;
  const fit: Uint8Array[] = [];
  let size = q.questionEnd;
  for (const a of addresses) {
    if (size + recordLen(a) > DNS_UDP_MAX) break;
    fit.push(a);
    size += recordLen(a);
  }
  const out = new Uint8Array(size);
  out.set(m.subarray(0, q.questionEnd));
  // QR=1, the query's opcode and RD, RA=1 (we recurse), the code; counts: 1 question, the answers.
  out[2] = 0x80 | (q.opcode << 3) | (q.rd ? 1 : 0);
  out[3] = 0x80 | (rcode & 0xf);
  out[6] = fit.length >>> 8;
  out[7] = fit.length & 0xff;
  out.fill(0, 8, 12); // no authority or additional records
  let at = q.questionEnd;
  for (const a of fit) {
    // The owner name is a pointer to the question's name at offset 12 (RFC 1035 §4.1.4).
    out.set([0xc0, 12, q.qtype >>> 8, q.qtype & 0xff, 0, CLASS_IN, 0, 0, TTL >>> 8, TTL & 0xff, 0, a.length], at);
    out.set(a, at + 12);
    at += 12 + a.length;
  }
  return out;
}

/** "::1" / "2001:db8::1" → 16 bytes, or null. */
export function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!), tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill("0"), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-f]{1,4}$/i.test(all[i]!)) return null;
    const v = parseInt(all[i]!, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  }
  return out;
}
