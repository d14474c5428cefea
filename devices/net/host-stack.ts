// The built-in host: a NetBackend that plays the rest of the network for one guest, so a lone
// VM can `udhcpc`, `ping` and `wget` with nothing else running. It is one IPv4 host on the
// guest's Ethernet segment that answers ARP for its address (arp.ts), hands the guest an
// address by DHCP (dhcp.ts), echoes ICMP (icmp.ts) and serves one page over HTTP (tcp.ts,
// http.ts). Nothing is routed anywhere else.
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
}

/** Ethernet's minimum frame without FCS: shorter frames are padded, as a NIC would (IEEE 802.3). */
const ETH_MIN = 60;
const LIMITED_BROADCAST = Uint8Array.of(255, 255, 255, 255);
/** Malformed frames logged before the stack goes quiet (they are still counted). */
const LOG_LIMIT = 10;

export class HostStack implements NetBackend, Stateful {
  onReceive: ((frame: Uint8Array) => void) | null = null;
  readonly mac: Uint8Array;
  readonly ip: Uint8Array;
  readonly guestIp: Uint8Array;
  readonly netmask: Uint8Array;
  readonly page: string;
  private readonly log: (message: string) => void;
  private readonly tcp: TcpServer;
  private ipId = 1;
  /** The MAC the last frame to us came from: the only neighbour on this segment. */
  private peerMac: Uint8Array | null = null;
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
  }

  /** A frame from the guest. Never throws. */
  send(frame: Uint8Array): void {
    this.counters.framesIn++;
    try {
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
    return { ...this.counters, tcpConnections: this.tcp.connections, ...prefixed("tcp", this.tcp.counters) };
  }

  private handle(frame: Uint8Array): void {
    const eth = parseEthernet(frame);
    if (!sameBytes(eth.dst, this.mac) && !sameBytes(eth.dst, BROADCAST_MAC)) return void this.counters.ignored++;
    this.peerMac = eth.src.slice();
    if (eth.type === ETHERTYPE_ARP) return this.arp(eth.payload);
    if (eth.type !== ETHERTYPE_IPV4) return void this.counters.ignored++;
    const ip = parseIpv4(eth.payload);
    const toUs = sameBytes(ip.dst, this.ip);
    if (!toUs && !sameBytes(ip.dst, LIMITED_BROADCAST)) return void this.counters.ignored++;
    switch (ip.protocol) {
      case IPPROTO_ICMP: {
        const reply = toUs ? echoReply(parseIcmp(ip.payload)) : null;
        if (!reply) return void this.counters.ignored++;
        this.counters.echoReplies++;
        return this.emitIp(ip.src, IPPROTO_ICMP, reply);
      }
      case IPPROTO_UDP: {
        const udp = parseUdp(ip.payload, ip.src, ip.dst);
        if (udp.dstPort !== DHCP_SERVER_PORT) return void this.counters.ignored++;
        const answer = dhcpAnswer(parseDhcp(udp.payload), {
          serverIp: this.ip, clientIp: this.guestIp, netmask: this.netmask, router: this.ip, leaseTime: 86400,
        });
        if (!answer) return void this.counters.ignored++;
        this.counters.dhcpReplies++;
        const to = answer.broadcast ? LIMITED_BROADCAST : answer.to;
        const mac = answer.broadcast ? BROADCAST_MAC : this.peerMac!;
        return this.emitIp(to, IPPROTO_UDP, buildUdp(this.ip, to, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, answer.message), mac);
      }
      case IPPROTO_TCP:
        if (!toUs) return void this.counters.ignored++;
        return this.tcp.segment(ip.src, parseTcp(ip.payload, ip.src, ip.dst));
      default:
        this.counters.ignored++;
    }
  }

  private arp(payload: Uint8Array): void {
    const a = parseArp(payload);
    if (a.op !== ARP_REQUEST || !sameBytes(a.targetIp, this.ip)) return void this.counters.ignored++;
    this.counters.arpReplies++;
    const reply = buildArp({ op: ARP_REPLY, senderMac: this.mac, senderIp: this.ip, targetMac: a.senderMac, targetIp: a.senderIp });
    this.emit(buildEthernet(a.senderMac, this.mac, ETHERTYPE_ARP, reply));
  }

  private emitIp(to: Uint8Array, protocol: number, payload: Uint8Array, mac = this.peerMac!): void {
    const id = this.ipId;
    this.ipId = (this.ipId + 1) & 0xffff;
    this.emit(buildEthernet(mac, this.mac, ETHERTYPE_IPV4, buildIpv4(this.ip, to, protocol, id, payload)));
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
