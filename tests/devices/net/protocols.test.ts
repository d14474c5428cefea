// The host stack's parsers against frames a real Linux sent (guest-capture.txt) and frames
// written by hand from the RFCs; malformed input must raise FrameError, never anything else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameError, parseEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from "../../../devices/net/ethernet.ts";
import { parseArp, ARP_REQUEST } from "../../../devices/net/arp.ts";
import { parseIpv4, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from "../../../devices/net/ipv4.ts";
import { parseIcmp, ICMP_ECHO } from "../../../devices/net/icmp.ts";
import { parseUdp } from "../../../devices/net/udp.ts";
import { parseDhcp, DHCPDISCOVER, DHCPREQUEST, OPT_MSG_TYPE, OPT_REQUESTED_IP, OPT_SERVER_ID } from "../../../devices/net/dhcp.ts";
import { parseTcp, TCP_SYN } from "../../../devices/net/tcp.ts";
import { internetChecksum } from "../../../devices/net/checksum.ts";
import { answerRequest, HttpConnection } from "../../../devices/net/http.ts";
import { G_ARP_WHO_HAS, G_DISCOVER, G_ECHO, G_REQUEST, G_SYN, HAND_ARP_REQUEST, HAND_ECHO, guestFrames, rfc1071Sum } from "./frames.ts";

const ip = (...b: number[]) => Uint8Array.from(b);

test("checksum.ts agrees with RFC 1071 on every IPv4 header Linux sent", () => {
  for (const f of guestFrames) {
    if (((f[12]! << 8) | f[13]!) !== ETHERTYPE_IPV4) continue;
    const h = f.slice(14, 34);
    const sent = (h[10]! << 8) | h[11]!;
    h[10] = h[11] = 0;
    assert.equal(internetChecksum(h), sent);
  }
});

test("ethernet + ARP: Linux's who-has and the hand-written RFC 826 request", () => {
  for (const f of [G_ARP_WHO_HAS, HAND_ARP_REQUEST]) {
    const e = parseEthernet(f);
    assert.equal(e.type, ETHERTYPE_ARP);
    const a = parseArp(e.payload);
    assert.equal(a.op, ARP_REQUEST);
    assert.deepEqual(a.targetIp, ip(10, 0, 2, 2));
    assert.deepEqual(a.senderMac, e.src);
  }
});

test("IPv4 + ICMP: Linux's echo request and the hand-written one", () => {
  for (const f of [G_ECHO, HAND_ECHO]) {
    const p = parseIpv4(parseEthernet(f).payload);
    assert.equal(p.protocol, IPPROTO_ICMP);
    assert.deepEqual(p.src, ip(10, 0, 2, 15));
    assert.deepEqual(p.dst, ip(10, 0, 2, 2));
    const m = parseIcmp(p.payload);
    assert.equal(m.type, ICMP_ECHO);
  }
  const hand = parseIcmp(parseIpv4(parseEthernet(HAND_ECHO).payload).payload);
  assert.deepEqual([...hand.rest], [0x12, 0x34, 0, 1, 0x61, 0x62, 0x63, 0x64]);
});

test("UDP + DHCP: udhcpc's DISCOVER and REQUEST (RFC 2131 fields, RFC 2132 options)", () => {
  const d = parseIpv4(parseEthernet(G_DISCOVER).payload);
  assert.equal(d.protocol, IPPROTO_UDP);
  const u = parseUdp(d.payload, d.src, d.dst);
  assert.equal(u.srcPort, 68);
  assert.equal(u.dstPort, 67);
  const m = parseDhcp(u.payload);
  assert.equal(m.op, 1);
  assert.deepEqual(m.chaddr, parseEthernet(G_DISCOVER).src);
  assert.deepEqual([...m.options.get(OPT_MSG_TYPE)!], [DHCPDISCOVER]);

  const r = parseIpv4(parseEthernet(G_REQUEST).payload);
  const rm = parseDhcp(parseUdp(r.payload, r.src, r.dst).payload);
  assert.deepEqual([...rm.options.get(OPT_MSG_TYPE)!], [DHCPREQUEST]);
  assert.deepEqual(rm.options.get(OPT_REQUESTED_IP), ip(10, 0, 2, 15));
  assert.deepEqual(rm.options.get(OPT_SERVER_ID), ip(10, 0, 2, 2));
  assert.equal(rm.xid, m.xid);
});

test("TCP: wget's SYN, checksum over the pseudo-header, MSS option", () => {
  const p = parseIpv4(parseEthernet(G_SYN).payload);
  assert.equal(p.protocol, IPPROTO_TCP);
  const s = parseTcp(p.payload, p.src, p.dst);
  assert.equal(s.dstPort, 80);
  assert.equal(s.flags, TCP_SYN);
  assert.equal(s.mss, 1460);
});

test("HTTP: GET / answers 200 with the page, other paths 404, garbage 400, POST 405", () => {
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.match(text(answerRequest("GET / HTTP/1.1\r\nHost: 10.0.2.2", "<p>hi</p>")), /^HTTP\/1\.1 200 OK\r\n[^]*Content-Length: 9\r\n[^]*\r\n\r\n<p>hi<\/p>$/);
  assert.match(text(answerRequest("GET /x HTTP/1.1", "p")), /^HTTP\/1\.1 404 /);
  assert.match(text(answerRequest("\x00\x01 garbage", "p")), /^HTTP\/1\.1 400 /);
  assert.match(text(answerRequest("POST / HTTP/1.0", "p")), /^HTTP\/1\.1 405 /);
  const c = new HttpConnection("p");
  assert.deepEqual(c.receive(new TextEncoder().encode("GET / HTTP/1.0\r\n")), {}); // incomplete head: wait
  assert.equal(c.receive(new TextEncoder().encode("\r\n")).close, true);
  const big = new HttpConnection("p");
  assert.match(text(big.receive(new Uint8Array(9000).fill(0x41)).send!), /^HTTP\/1\.1 431 /);
});

/** Every way to cut, corrupt or lie about a frame: FrameError, never another exception. */
test("malformed frames: every truncation and single-byte corruption is FrameError or parses", () => {
  const layers = (f: Uint8Array) => {
    const e = parseEthernet(f);
    if (e.type === ETHERTYPE_ARP) return void parseArp(e.payload);
    const p = parseIpv4(e.payload);
    if (p.protocol === IPPROTO_ICMP) parseIcmp(p.payload);
    else if (p.protocol === IPPROTO_UDP) parseDhcp(parseUdp(p.payload, p.src, p.dst).payload);
    else if (p.protocol === IPPROTO_TCP) parseTcp(p.payload, p.src, p.dst);
  };
  let errors = 0;
  for (const f of [G_DISCOVER, G_ARP_WHO_HAS, G_ECHO, G_SYN, HAND_ECHO, ...guestFrames.slice(5)]) {
    for (let n = 0; n < f.length; n++) {
      try { layers(f.subarray(0, n)); } catch (e) { assert.ok(e instanceof FrameError, String(e)); errors++; }
    }
    for (let i = 0; i < Math.min(f.length, 80); i++) {
      const g = f.slice();
      g[i]! ^= 0xff;
      try { layers(g); } catch (e) { assert.ok(e instanceof FrameError, String(e)); errors++; }
    }
  }
  assert.ok(errors > 500);
});

test("malformed by hand: short Ethernet, 802.3 length field, IPv4 fragments, lying lengths, bad DHCP options", () => {
  assert.throws(() => parseEthernet(new Uint8Array(13)), FrameError);
  const llc = G_ECHO.slice();
  llc[12] = 0x00; llc[13] = 0x40;
  assert.throws(() => parseEthernet(llc), /802\.3/);
  const frag = G_ECHO.slice(14);
  frag[6]! |= 0x20; // MF
  assert.throws(() => parseIpv4(frag), FrameError);
  const long = G_ECHO.slice(14);
  long[2] = 0xff; // total length beyond the frame
  assert.throws(() => parseIpv4(long), /total length/);
  const ihl = G_ECHO.slice(14);
  ihl[0] = 0x4f; // 60-byte header in a 48-byte packet
  assert.throws(() => parseIpv4(ihl), /header length/);
  // DHCP: an option whose length runs past the end, and no end option.
  const d = parseIpv4(parseEthernet(G_DISCOVER).payload);
  const dhcp = parseUdp(d.payload, d.src, d.dst).payload.slice(0, 240 + 3);
  dhcp[240] = 53; dhcp[241] = 40;
  assert.throws(() => parseDhcp(dhcp), /runs past the end/);
  const noEnd = parseUdp(d.payload, d.src, d.dst).payload.slice(0, 243);
  assert.throws(() => parseDhcp(noEnd), /without an end option/);
  // TCP: an option with length 0 would loop forever in a naive parser.
  const p = parseIpv4(parseEthernet(G_SYN).payload);
  const seg = p.payload.slice();
  seg[20] = 3; seg[21] = 0;
  assert.throws(() => parseTcp(seg, p.src, p.dst), FrameError);
  // Independent check of the captured checksums, as the receiver computes them.
  assert.equal(rfc1071Sum(G_ECHO, 14, 34), 0xffff);
});

test("DHCP server rules (RFC 2131 §4.1, §4.3.2) on udhcpc's messages, edited field by field", async () => {
  const { dhcpAnswer } = await import("../../../devices/net/dhcp.ts");
  const cfg = { serverIp: ip(10, 0, 2, 2), clientIp: ip(10, 0, 2, 15), netmask: ip(255, 255, 255, 0), router: ip(10, 0, 2, 2), leaseTime: 60 };
  const msg = (f: Uint8Array) => {
    const p = parseIpv4(parseEthernet(f).payload);
    return parseUdp(p.payload, p.src, p.dst).payload.slice();
  };
  // DISCOVER with the BROADCAST flag: the OFFER is broadcast.
  const d = msg(G_DISCOVER);
  d[10] = 0x80;
  assert.equal(dhcpAnswer(parseDhcp(d), cfg)!.broadcast, true);
  // RENEWING: REQUEST without option 50 or 54, ciaddr set → ACK unicast to ciaddr.
  const renew = msg(G_REQUEST);
  renew.set([10, 0, 2, 15], 12);
  for (let at = 240; renew[at] !== 255; at += 2 + renew[at + 1]!) if (renew[at] === 50 || renew[at] === 54) renew[at] = 0xfe; // unknown option codes: ignored
  const a = dhcpAnswer(parseDhcp(renew), cfg)!;
  assert.equal(a.broadcast, false);
  assert.deepEqual(a.to, ip(10, 0, 2, 15));
  assert.equal(a.message[240 + 2], 5); // DHCPACK
  // SELECTING another server's offer: not ours to answer.
  const other = msg(G_REQUEST);
  for (let at = 240; other[at] !== 255; at += 2 + other[at + 1]!) if (other[at] === 54) other[at + 5] = 99;
  assert.equal(dhcpAnswer(parseDhcp(other), cfg), null);
  // A BOOTREPLY (another server's answer) and a message without a type: ignored.
  const reply = msg(G_DISCOVER);
  reply[0] = 2;
  assert.equal(dhcpAnswer(parseDhcp(reply), cfg), null);
});
