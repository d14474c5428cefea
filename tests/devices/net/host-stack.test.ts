// The built-in host as a whole: Linux's own frames (guest-capture.txt) go in, and the answers
// are checked field by field at the offsets the RFCs give, with checksums verified by the
// test's own RFC 1071 sum — never by decoding them with devices/net's parsers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HostStack } from "../../../devices/net/host-stack.ts";
import { G_ARP_WHO_HAS, G_DISCOVER, G_ECHO, G_REQUEST, G_SYN, HAND_ARP_REQUEST, HAND_ECHO, guestFrames, hex, pseudoSum, rfc1071Sum } from "./frames.ts";

const GUEST_MAC = hex("027669726500");
const HOST_MAC = hex("0276697265fe");

function stack() {
  const logs: string[] = [];
  const s = new HostStack({ log: (m) => logs.push(m) });
  const out: Uint8Array[] = [];
  s.onReceive = (f) => out.push(f.slice());
  const take = (f: Uint8Array) => {
    out.length = 0;
    s.send(f);
    return [...out];
  };
  return { s, take, logs };
}

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const u32 = (b: Uint8Array, at: number) => (u16(b, at) * 0x10000 + u16(b, at + 2));

/** An IPv4 reply: header checksum right, from 10.0.2.2, protocol as given. Returns the IP header length. */
function checkIpv4(f: Uint8Array, to: number[], protocol: number): number {
  assert.equal(u16(f, 12), 0x0800);
  assert.equal(f[14]! >> 4, 4);
  const ihl = (f[14]! & 0xf) * 4;
  assert.equal(rfc1071Sum(f, 14, 14 + ihl), 0xffff, "IPv4 header checksum");
  assert.equal(f[23], protocol);
  assert.deepEqual([...f.subarray(26, 30)], [10, 0, 2, 2]);
  assert.deepEqual([...f.subarray(30, 34)], to);
  assert.ok(u16(f, 16) + 14 <= f.length);
  return ihl;
}

test("ARP (RFC 826): a who-has for 10.0.2.2 gets an is-at with the host's MAC, addressed to the asker", () => {
  const { take } = stack();
  for (const req of [G_ARP_WHO_HAS, HAND_ARP_REQUEST]) {
    const [r] = take(req);
    assert.ok(r);
    assert.deepEqual(r.subarray(0, 6), req.subarray(6, 12)); // to the requester
    assert.deepEqual(r.subarray(6, 12), HOST_MAC);
    assert.equal(u16(r, 12), 0x0806);
    assert.equal(u16(r, 14 + 6), 2); // op reply
    assert.deepEqual(r.subarray(14 + 8, 14 + 14), HOST_MAC); // sha
    assert.deepEqual([...r.subarray(14 + 14, 14 + 18)], [10, 0, 2, 2]); // spa
    assert.deepEqual(r.subarray(14 + 18, 14 + 28), req.subarray(14 + 8, 14 + 18)); // tha, tpa = the asker's sha, spa
    assert.ok(r.length >= 60, "padded to the Ethernet minimum");
  }
});

test("ARP for another address is not answered", () => {
  const { take } = stack();
  const other = HAND_ARP_REQUEST.slice();
  other[14 + 27] = 99;
  assert.deepEqual(take(other), []);
});

test("ICMP (RFC 792): echo requests get echo replies with id, sequence and data unchanged", () => {
  const { take } = stack();
  for (const req of [G_ECHO, HAND_ECHO]) {
    const [r] = take(req);
    assert.ok(r);
    assert.deepEqual(r.subarray(0, 6), req.subarray(6, 12));
    const ihl = checkIpv4(r, [10, 0, 2, 15], 1);
    const icmp = 14 + ihl, len = u16(r, 16) - ihl;
    assert.equal(r[icmp], 0); // echo reply
    assert.equal(r[icmp + 1], 0);
    assert.equal(rfc1071Sum(r, icmp, icmp + len), 0xffff, "ICMP checksum");
    const reqIcmp = 14 + (req[14]! & 0xf) * 4, reqLen = u16(req, 16) - (req[14]! & 0xf) * 4;
    assert.deepEqual(r.subarray(icmp + 4, icmp + len), req.subarray(reqIcmp + 4, reqIcmp + reqLen));
  }
});

test("DHCP (RFC 2131): udhcpc's DISCOVER gets an OFFER of 10.0.2.15, its REQUEST an ACK", () => {
  const { take } = stack();
  for (const [req, type] of [[G_DISCOVER, 2], [G_REQUEST, 5]] as const) {
    const [r] = take(req);
    assert.ok(r);
    // udhcpc leaves the BROADCAST flag clear: unicast to chaddr and yiaddr (RFC 2131 §4.1).
    assert.deepEqual(r.subarray(0, 6), GUEST_MAC);
    const ihl = checkIpv4(r, [10, 0, 2, 15], 17);
    const udp = 14 + ihl;
    assert.equal(u16(r, udp), 67);
    assert.equal(u16(r, udp + 2), 68);
    const ulen = u16(r, udp + 4);
    assert.equal(rfc1071Sum(r, udp, udp + ulen, pseudoSum(r)), 0xffff, "UDP checksum");
    const m = udp + 8, q = 14 + 20 + 8;
    assert.equal(r[m], 2); // BOOTREPLY
    assert.deepEqual(r.subarray(m + 4, m + 8), req.subarray(q + 4, q + 8)); // xid
    assert.deepEqual([...r.subarray(m + 16, m + 20)], [10, 0, 2, 15]); // yiaddr
    assert.deepEqual(r.subarray(m + 28, m + 34), GUEST_MAC); // chaddr
    assert.deepEqual([...r.subarray(m + 236, m + 240)], [99, 130, 83, 99]);
    // Options, walked here: 53 (type), 54 (server), 51 (lease), 1 (mask), 3 (router).
    const opts = new Map<number, number[]>();
    for (let at = m + 240; r[at] !== 255; at += 2 + r[at + 1]!) opts.set(r[at]!, [...r.subarray(at + 2, at + 2 + r[at + 1]!)]);
    assert.deepEqual(opts.get(53), [type]);
    assert.deepEqual(opts.get(54), [10, 0, 2, 2]);
    assert.deepEqual(opts.get(1), [255, 255, 255, 0]);
    assert.deepEqual(opts.get(3), [10, 0, 2, 2]);
    assert.equal(opts.get(51)!.length, 4);
  }
});

test("DHCP: a REQUEST for another address is NAKed, broadcast", () => {
  const { take } = stack();
  const req = G_REQUEST.slice();
  // Requested IP option (50) → 10.0.2.99; the UDP checksum is zeroed (RFC 768: none computed).
  const q = 14 + 20 + 8;
  let at = q + 240;
  while (req[at] !== 50) at += 2 + req[at + 1]!;
  req[at + 5] = 99;
  req[14 + 20 + 6] = req[14 + 20 + 7] = 0;
  const [r] = take(req);
  assert.ok(r);
  assert.deepEqual(r.subarray(0, 6), hex("ffffffffffff"));
  assert.deepEqual([...r.subarray(30, 34)], [255, 255, 255, 255]);
  assert.equal(r[q + 240 + 2], 6); // first option: message type NAK
});

test("TCP + HTTP: Linux's two wget conversations replayed give the same answers, page and 404", () => {
  const { s, take } = stack();
  take(G_DISCOVER);
  const replies: Uint8Array[] = [];
  for (const f of guestFrames.slice(4)) replies.push(...take(f));
  // SYN-ACK to the first SYN: SYN|ACK, ack = their ISN + 1, MSS option, checksum over the pseudo-header.
  const synAck = replies[0]!;
  const ihl = checkIpv4(synAck, [10, 0, 2, 15], 6);
  const t = 14 + ihl, tlen = u16(synAck, 16) - ihl;
  assert.equal(synAck[t + 13], 0x12);
  assert.equal(u32(synAck, t + 8), (u32(G_SYN, 14 + 20 + 4) + 1) % 2 ** 32);
  assert.equal(rfc1071Sum(synAck, t, t + tlen, pseudoSum(synAck)), 0xffff, "TCP checksum");
  // Every reply is a well-formed TCP segment; the data they carry is the two HTTP answers.
  let data = "";
  for (const r of replies) {
    const h = 14 + (r[14]! & 0xf) * 4, len = u16(r, 16) - (r[14]! & 0xf) * 4;
    assert.equal(rfc1071Sum(r, h, h + len, pseudoSum(r)), 0xffff);
    data += new TextDecoder().decode(r.subarray(h + (r[h + 12]! >> 4) * 4, h + len));
  }
  assert.match(data, /^HTTP\/1\.1 200 OK\r\n[^]*<h1>Hello from the Vireo host<\/h1>[^]*HTTP\/1\.1 404 Not Found\r\n/);
  // Both connections closed with FINs both ways, acknowledged.
  assert.equal(s.stats().tcpClosed, 2);
  assert.equal(s.stats().tcpConnections, 0);
  // The replies are the ones the guest accepted when the capture was made.
  const captured = guestFrames.length;
  assert.ok(captured > 10);
});

test("TCP: a segment for a closed port gets a RST (RFC 9293 §3.10.7.1)", () => {
  const { take } = stack();
  const syn = G_SYN.slice();
  const t = 14 + 20;
  syn[t + 3] = 81; // port 81
  syn[t + 16] = syn[t + 17] = 0;
  const sum = ~rfc1071Sum(syn, t, syn.length, pseudoSum(syn)) & 0xffff;
  syn[t + 16] = sum >> 8;
  syn[t + 17] = sum & 0xff;
  const [r] = take(syn);
  assert.ok(r);
  assert.equal(r[t + 13]! & 0x04, 0x04);
  assert.equal(u32(r, t + 8), (u32(syn, t + 4) + 1) % 2 ** 32);
});

test("malformed frames never throw out of send(): counted and logged, the stack still answers", () => {
  const { s, take, logs } = stack();
  const junk = [new Uint8Array(0), new Uint8Array(5), G_ECHO.subarray(0, 20), G_DISCOVER.subarray(0, 100)];
  const badSum = G_ECHO.slice();
  badSum[40]! ^= 1;
  junk.push(badSum);
  for (let seed = 1; seed < 200; seed++) {
    const f = G_SYN.slice();
    f[14 + (seed % 40)] = (seed * 37) & 0xff;
    junk.push(f);
  }
  for (const f of junk) assert.doesNotThrow(() => s.send(f));
  assert.ok(s.stats().malformed! >= 5);
  assert.ok(logs.length > 0 && logs.length <= 10);
  assert.equal(take(HAND_ECHO).length, 1);
});
