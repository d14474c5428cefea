// The built-in host: a NetBackend that plays the rest of the network for one guest, so a lone
// VM can `udhcpc`, `ping` and `wget` with nothing else running. It is one IPv4 host on the
// guest's Ethernet segment that answers ARP for its address (arp.ts), hands the guest an
// address by DHCP (dhcp.ts), echoes ICMP (icmp.ts) and serves one page over HTTP (tcp.ts,
// http.ts). Nothing is routed anywhere else — unless it is given a NAT (nat.ts): then it is the
// guest's gateway to the real network, its own address standing for the host machine, a
// resolver address (10.0.2.3) answering DNS, and DHCP telling the guest of both.
//
// Frames from the guest are hostile: every parser throws FrameError on a malformed one, caught
// here, counted and logged (the first few); nothing a guest sends can throw out of send().
import { ARP_REPLY, ARP_REQUEST, buildArp, parseArp } from "./arp.ts";
import type { NetBackend } from "./backend.ts";
import { dhcpAnswer, parseDhcp, DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from "./dhcp.ts";
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, FrameError, buildEthernet, parseEthernet, sameBytes } from "./ethernet.ts";
import { DEFAULT_PAGE, HttpConnection } from "./http.ts";
import { echoReply, parseIcmp } from "./icmp.ts";
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, buildIpv4, parseIpv4 } from "./ipv4.ts";
import { TcpServer, parseTcp } from "./tcp.ts";
import { PAYLOAD_OFFSET, type IpOut, type Nat } from "./nat.ts";
import { internetChecksum, onesSumRange } from "./checksum.ts";
import { buildUdp, parseUdp } from "./udp.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

export interface HostStackOptions {
  /** Default 02:76:69:72:65:fe. */
  mac?: Uint8Array;
  /** The host's address; default 10.0.2.2 (also the router and DHCP server the guest is told of). */
  ip?: Uint8Array;
  /** The address DHCP hands out; default 10.0.2.15. */
  guestIp?: Uint8Array;
  /** Default 255.255.255.0. */
  netmask?: Uint8Array;
  /** The HTML served at http://<ip>/. */
  page?: string;
  log?: (message: string) => void;
  /** Host time in ms (TCP half-open expiry); default performance.now. Tests pass a fake clock. */
  now?: () => number;
  /** Be the guest's gateway through this NAT (built with the same addresses); the page is not served then. */
  nat?: Nat;
  /** The resolver address DHCP hands out with a NAT; default 10.0.2.3. */
  dns?: Uint8Array;
}

/** Ethernet's minimum frame without FCS: shorter frames are padded, as a NIC would (IEEE 802.3). */
const ETH_MIN = 60;
const LIMITED_BROADCAST = Uint8Array.of(255, 255, 255, 255);
/** Malformed frames logged before the stack goes quiet (they are still counted). */
const LOG_LIMIT = 10;

/** The largest frame the stack sends: Ethernet header + a 1500-byte MTU. */
const FRAME_MAX = 14 + 1500;
const u32 = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

export class HostStack implements NetBackend, Stateful, IpOut {
  onReceive: ((frame: Uint8Array) => void) | null = null;
  readonly mac: Uint8Array;
  readonly ip: Uint8Array;
  readonly guestIp: Uint8Array;
  readonly netmask: Uint8Array;
  readonly page: string;
  private readonly log: (message: string) => void;
  private readonly tcp: TcpServer;
  private readonly nat: Nat | null;
  /** The resolver address (with a NAT), as bytes and as a number. */
  readonly dnsIp: Uint8Array | null;
  private readonly ipU32: number;
  private readonly dnsU32: number;
  private ipId = 1;
  /** The MAC the last frame to us came from: the only neighbour on this segment. */
  private peerMac: Uint8Array | null = null;
  /** IpOut: the NAT writes packets for the guest here (after the Ethernet and IPv4 headers). */
  readonly buf = new Uint8Array(FRAME_MAX);
  /** `internalErrors`: drops that were not a FrameError, i.e. a bug here (counted past the log limit). */
  readonly counters = { framesIn: 0, framesOut: 0, malformed: 0, internalErrors: 0, ignored: 0, arpReplies: 0, dhcpReplies: 0, echoReplies: 0 };

  /** Snapshot fields (devices/state/): the IP id counter, the neighbour's MAC, the TCP server. */
  readonly stateTable: StateTable = { ipId: "u16", peerMac: { nullable: { blob: 6 } }, tcp: "child" };

  constructor(opts: HostStackOptions = {}) {
    this.mac = opts.mac ?? Uint8Array.of(0x02, 0x76, 0x69, 0x72, 0x65, 0xfe);
    this.ip = opts.ip ?? Uint8Array.of(10, 0, 2, 2);
    this.guestIp = opts.guestIp ?? Uint8Array.of(10, 0, 2, 15);
    this.netmask = opts.netmask ?? Uint8Array.of(255, 255, 255, 0);
    this.page = opts.page ?? DEFAULT_PAGE;
    this.log = opts.log ?? (() => {});
    this.tcp = new TcpServer(this.ip, 80, () => new HttpConnection(this.page), (to, seg) => this.emitIp(to, IPPROTO_TCP, seg), opts.now);
    this.nat = opts.nat ?? null;
    this.dnsIp = this.nat ? (opts.dns ?? Uint8Array.of(10, 0, 2, 3)) : null;
    this.ipU32 = u32(this.ip, 0);
    this.dnsU32 = this.dnsIp ? u32(this.dnsIp, 0) : -1;
    this.nat?.attach(this);
  }

  /** The end of a batch of guest frames: the NAT's deferred ACKs go out. */
  flush(): void {
    this.nat?.flush();
  }

  /** Timers of the NAT (retransmission, idle expiry); the link's host side calls this every ~100 ms. */
  tick(): void {
    this.nat?.tick();
  }

  /** IpOut: frame `len` bytes at buf[PAYLOAD_OFFSET] for the guest, in place. */
  sendIp(src: number, dst: number, protocol: number, len: number): boolean {
    const mac = this.peerMac;
    if (!mac) return false;
    const b = this.buf, total = 20 + len;
    b.set(mac, 0);
    b.set(this.mac, 6);
    b[12] = 0x08;
    b[13] = 0x00;
    const id = this.ipId;
    this.ipId = (this.ipId + 1) & 0xffff;
    b[14] = 0x45; b[15] = 0; b[16] = total >>> 8; b[17] = total & 0xff;
    b[18] = id >>> 8; b[19] = id & 0xff; b[20] = 0x40; b[21] = 0; // DF
    b[22] = 64; b[23] = protocol; b[24] = 0; b[25] = 0;
    b[26] = src >>> 24; b[27] = (src >>> 16) & 0xff; b[28] = (src >>> 8) & 0xff; b[29] = src & 0xff;
    b[30] = dst >>> 24; b[31] = (dst >>> 16) & 0xff; b[32] = (dst >>> 8) & 0xff; b[33] = dst & 0xff;
    const sum = internetChecksum(b.subarray(14, 34));
    b[24] = sum >>> 8;
    b[25] = sum & 0xff;
    let end = 14 + total;
    if (end < ETH_MIN) {
      b.fill(0, end, ETH_MIN);
      end = ETH_MIN;
    }
    this.counters.framesOut++;
    this.onReceive?.(b.subarray(0, end));
    return true;
  }

  ready(): boolean {
    return this.peerMac !== null;
  }

  /** A frame from the guest. Never throws. */
  send(frame: Uint8Array): void {
    this.counters.framesIn++;
    try {
      if (this.nat && this.natFrame(frame)) return;
      this.handle(frame);
    } catch (e) {
      this.counters.malformed++;
      if (!(e instanceof FrameError)) this.counters.internalErrors++;
      if (this.counters.malformed <= LOG_LIMIT) {
        const why = e instanceof FrameError ? e.message : `internal error: ${(e as Error)?.message ?? e}`;
        this.log(`host network: dropped a ${frame.length}-byte frame: ${why}${this.counters.malformed === LOG_LIMIT ? " (further drops not logged)" : ""}`);
      }
    }
  }

  stats(): Record<string, number> {
    if (this.nat) return { ...this.counters, natTcpConnections: this.nat.tcpConnections, natUdpFlows: this.nat.udpFlows, ...prefixed("nat", this.nat.counters) };
    return { ...this.counters, tcpConnections: this.tcp.connections, ...prefixed("tcp", this.tcp.counters) };
  }

  /**
   * With a NAT: an IPv4 unicast to our MAC that the NAT relays, read in place (no parse objects:
   * this is the path of every relayed segment). False leaves the frame to handle(): ARP, DHCP,
   * echo to our addresses, broadcasts, and anything malformed before the IPv4 header checks.
   */
  private natFrame(f: Uint8Array): boolean {
    if (f.length < 34 || f[12] !== 0x08 || f[13] !== 0x00) return false;
    for (let i = 0; i < 6; i++) if (f[i] !== this.mac[i]) return false;
    const v = f[14]!, ihl = (v & 0xf) * 4, total = (f[16]! << 8) | f[17]!;
    if (v >>> 4 !== 4 || ihl < 20 || total < ihl || 14 + total > f.length) return false;
    const dst = u32(f, 30);
    const protocol = f[23]!;
    if (protocol === IPPROTO_ICMP && (dst === this.ipU32 || dst === this.dnsU32)) return false;
    if (protocol === IPPROTO_UDP && f.length >= 14 + ihl + 4 && ((f[14 + ihl + 2]! << 8) | f[14 + ihl + 3]!) === DHCP_SERVER_PORT) return false;
    if (onesSumRange(f, 14, 14 + ihl) !== 0xffff) throw new FrameError("ipv4: bad header checksum");
    if (((f[20]! << 8) | f[21]!) & 0x3fff) throw new FrameError("ipv4: fragments are not reassembled"); // MF or an offset
    if (this.peerMac === null) this.peerMac = new Uint8Array(6);
    for (let i = 0; i < 6; i++) this.peerMac[i] = f[6 + i]!;
    return this.nat!.ipv4(f, 14 + ihl, 14 + total, protocol, u32(f, 26), dst);
  }

  private handle(frame: Uint8Array): void {
    const eth = parseEthernet(frame);
    if (!sameBytes(eth.dst, this.mac) && !sameBytes(eth.dst, BROADCAST_MAC)) return void this.counters.ignored++;
    this.peerMac = eth.src.slice();
    if (eth.type === ETHERTYPE_ARP) return this.arp(eth.payload);
    if (eth.type !== ETHERTYPE_IPV4) return void this.counters.ignored++;
    const ip = parseIpv4(eth.payload);
    const toUs = sameBytes(ip.dst, this.ip) || (this.dnsIp !== null && sameBytes(ip.dst, this.dnsIp));
    if (!toUs && !sameBytes(ip.dst, LIMITED_BROADCAST)) return void this.counters.ignored++;
    switch (ip.protocol) {
      case IPPROTO_ICMP: {
        const reply = toUs ? echoReply(parseIcmp(ip.payload)) : null;
        if (!reply) return void this.counters.ignored++;
        this.counters.echoReplies++;
        return this.emitIp(ip.src, IPPROTO_ICMP, reply, this.peerMac!, ip.dst);
      }
      case IPPROTO_UDP: {
        const udp = parseUdp(ip.payload, ip.src, ip.dst);
        if (udp.dstPort !== DHCP_SERVER_PORT) return void this.counters.ignored++;
        const answer = dhcpAnswer(parseDhcp(udp.payload), {
          serverIp: this.ip, clientIp: this.guestIp, netmask: this.netmask, router: this.ip, leaseTime: 86400,
          ...(this.dnsIp ? { dns: this.dnsIp } : {}),
        });
        if (!answer) return void this.counters.ignored++;
        this.counters.dhcpReplies++;
        const to = answer.broadcast ? LIMITED_BROADCAST : answer.to;
        const mac = answer.broadcast ? BROADCAST_MAC : this.peerMac!;
        return this.emitIp(to, IPPROTO_UDP, buildUdp(this.ip, to, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, answer.message), mac);
      }
      case IPPROTO_TCP:
        if (!toUs || this.nat) return void this.counters.ignored++;
        return this.tcp.segment(ip.src, parseTcp(ip.payload, ip.src, ip.dst));
      default:
        this.counters.ignored++;
    }
  }

  private arp(payload: Uint8Array): void {
    const a = parseArp(payload);
    const ours = sameBytes(a.targetIp, this.ip) || (this.dnsIp !== null && sameBytes(a.targetIp, this.dnsIp));
    if (a.op !== ARP_REQUEST || !ours) return void this.counters.ignored++;
    this.counters.arpReplies++;
    const reply = buildArp({ op: ARP_REPLY, senderMac: this.mac, senderIp: a.targetIp.slice(), targetMac: a.senderMac, targetIp: a.senderIp });
    this.emit(buildEthernet(a.senderMac, this.mac, ETHERTYPE_ARP, reply));
  }

  private emitIp(to: Uint8Array, protocol: number, payload: Uint8Array, mac = this.peerMac!, from = this.ip): void {
    const id = this.ipId;
    this.ipId = (this.ipId + 1) & 0xffff;
    this.emit(buildEthernet(mac, this.mac, ETHERTYPE_IPV4, buildIpv4(from, to, protocol, id, payload)));
  }

  private emit(frame: Uint8Array): void {
    let f = frame;
    if (f.length < ETH_MIN) {
      f = new Uint8Array(ETH_MIN);
      f.set(frame);
    }
    this.counters.framesOut++;
    this.onReceive?.(f);
  }
}

function prefixed(p: string, o: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) out[p + k[0]!.toUpperCase() + k.slice(1)] = v;
  return out;
}
