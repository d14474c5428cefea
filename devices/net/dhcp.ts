// A DHCP server for one client address (RFC 2131 on the BOOTP layout, options per RFC 2132):
// DHCPDISCOVER → DHCPOFFER, DHCPREQUEST for the offered address → DHCPACK, for any other →
// DHCPNAK. Every client gets the same address: the built-in host serves one guest.
import { FrameError, sameBytes } from "./ethernet.ts";

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
/** RFC 2131 §3: the fixed part before the options, and the magic cookie 99.130.83.99 (RFC 2132 §2). */
const FIXED = 236;
const COOKIE = [99, 130, 83, 99];
const FLAG_BROADCAST = 0x8000;

// RFC 2132 option codes (§3, §9).
export const OPT_PAD = 0, OPT_SUBNET = 1, OPT_ROUTER = 3, OPT_DNS = 6, OPT_REQUESTED_IP = 50, OPT_LEASE = 51,
  OPT_MSG_TYPE = 53, OPT_SERVER_ID = 54, OPT_END = 255;
// DHCP message types (RFC 2132 §9.6).
export const DHCPDISCOVER = 1, DHCPOFFER = 2, DHCPREQUEST = 3, DHCPDECLINE = 4, DHCPACK = 5, DHCPNAK = 6, DHCPRELEASE = 7, DHCPINFORM = 8;

export interface DhcpMessage {
  op: number;
  xid: number;
  flags: number;
  ciaddr: Uint8Array;
  yiaddr: Uint8Array;
  giaddr: Uint8Array;
  chaddr: Uint8Array; // the first hlen bytes (6 for Ethernet)
  options: Map<number, Uint8Array>;
}

export function parseDhcp(p: Uint8Array): DhcpMessage {
  if (p.length < FIXED + 4) throw new FrameError(`dhcp: ${p.length} bytes, shorter than ${FIXED + 4}`);
  if (p[1] !== 1 || p[2] !== 6) throw new FrameError(`dhcp: hardware type ${p[1]}/${p[2]} is not Ethernet`);
  for (let i = 0; i < 4; i++) if (p[FIXED + i] !== COOKIE[i]) throw new FrameError("dhcp: no magic cookie");
  const options = new Map<number, Uint8Array>();
  let at = FIXED + 4;
  for (;;) {
    if (at >= p.length) throw new FrameError("dhcp: options run past the end without an end option");
    const code = p[at]!;
    if (code === OPT_END) break;
    if (code === OPT_PAD) { at++; continue; }
    if (at + 1 >= p.length) throw new FrameError(`dhcp: option ${code} has no length`);
    const len = p[at + 1]!;
    if (at + 2 + len > p.length) throw new FrameError(`dhcp: option ${code} of ${len} bytes runs past the end`);
    if (!options.has(code)) options.set(code, p.subarray(at + 2, at + 2 + len)); // RFC 2131 §4.1: first wins
    at += 2 + len;
  }
  return {
    op: p[0]!, xid: ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0, flags: (p[10]! << 8) | p[11]!,
    ciaddr: p.subarray(12, 16), yiaddr: p.subarray(16, 20), giaddr: p.subarray(24, 28), chaddr: p.subarray(28, 34), options,
  };
}

export interface DhcpServerConfig {
  serverIp: Uint8Array;
  clientIp: Uint8Array;
  netmask: Uint8Array;
  router: Uint8Array;
  /** Seconds. */
  leaseTime: number;
  /** A DNS server to name (option 6), when there is one. */
  dns?: Uint8Array;
}

export interface DhcpReply {
  message: Uint8Array;
  /** RFC 2131 §4.1: broadcast when the client asked for it or has no address to unicast to. */
  broadcast: boolean;
  /** The IP destination when unicast. */
  to: Uint8Array;
}

const ZERO_IP = new Uint8Array(4);

/** The server's answer to a client message, or null (not a request, or one we ignore). */
export function dhcpAnswer(m: DhcpMessage, c: DhcpServerConfig): DhcpReply | null {
  if (m.op !== 1) return null; // BOOTREPLY from another server
  const type = m.options.get(OPT_MSG_TYPE);
  if (!type || type.length !== 1) return null; // plain BOOTP: not served
  const server = m.options.get(OPT_SERVER_ID);
  let reply: number;
  switch (type[0]) {
    case DHCPDISCOVER:
      reply = DHCPOFFER;
      break;
    case DHCPREQUEST: {
      if (server && !sameBytes(server, c.serverIp)) return null; // the client chose another server
      // SELECTING / INIT-REBOOT name the address in option 50; RENEWING / REBINDING in ciaddr.
      const wanted = m.options.get(OPT_REQUESTED_IP) ?? m.ciaddr;
      reply = wanted.length === 4 && sameBytes(wanted, c.clientIp) ? DHCPACK : DHCPNAK;
      break;
    }
    default:
      return null; // DECLINE, RELEASE, INFORM: nothing to hand out
  }
  const out = new Uint8Array(300); // BOOTP's minimum message size (RFC 951), as most servers send
  out.set([2, 1, 6, 0], 0);
  out.set([(m.xid >>> 24) & 0xff, (m.xid >>> 16) & 0xff, (m.xid >>> 8) & 0xff, m.xid & 0xff], 4);
  out[10] = m.flags >>> 8;
  out[11] = m.flags & 0xff;
  if (reply !== DHCPNAK) out.set(c.clientIp, 16); // yiaddr
  out.set(m.giaddr, 24);
  out.set(m.chaddr, 28);
  out.set(COOKIE, FIXED);
  let at = FIXED + 4;
  const opt = (code: number, bytes: ArrayLike<number>) => {
    out[at] = code;
    out[at + 1] = bytes.length;
    out.set(bytes, at + 2);
    at += 2 + bytes.length;
  };
  opt(OPT_MSG_TYPE, [reply]);
  opt(OPT_SERVER_ID, c.serverIp);
  if (reply !== DHCPNAK) {
    const t = c.leaseTime;
    opt(OPT_LEASE, [(t >>> 24) & 0xff, (t >>> 16) & 0xff, (t >>> 8) & 0xff, t & 0xff]);
    opt(OPT_SUBNET, c.netmask);
    opt(OPT_ROUTER, c.router);
    if (c.dns) opt(OPT_DNS, c.dns);
  }
  out[at] = OPT_END;
  // RFC 2131 §4.1: a NAK is broadcast; otherwise unicast to ciaddr when the client has one, else
  // to yiaddr at chaddr unless the client set the BROADCAST flag.
  const hasCi = !sameBytes(m.ciaddr, ZERO_IP);
  const broadcast = reply === DHCPNAK || (!hasCi && (m.flags & FLAG_BROADCAST) !== 0);
  return { message: out, broadcast, to: hasCi ? m.ciaddr.slice() : c.clientIp };
}
