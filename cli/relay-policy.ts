// Which addresses the Wisp relay connects to. A relay that connects anywhere is an open proxy into
// the network it runs on — the machine's own services, the LAN, a cloud's metadata service at
// 169.254.169.254 — so those ranges are refused unless the one running it allows their class.
// Reserved ranges (this network, multicast, broadcast, class E) are never reached.
import { ipNumber } from "../devices/net/nat.ts";
import { parseIpv6 } from "../devices/net/dns.ts";

/** A class of address the relay refuses by default; "reserved" is refused always. */
export type AddressClass = "loopback" | "private" | "link-local" | "reserved";
/** The classes a flag may allow. */
export const ALLOWABLE: readonly AddressClass[] = ["loopback", "private", "link-local"];

/** IPv4 ranges (network, prefix length, class). */
const V4: readonly [string, number, AddressClass][] = [
  ["0.0.0.0", 8, "reserved"], // "this network" (RFC 1122 §3.2.1.3)
  ["10.0.0.0", 8, "private"], // RFC 1918
  ["100.64.0.0", 10, "private"], // shared address space, carrier-grade NAT (RFC 6598)
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"], // RFC 3927; cloud metadata services live here
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"], // IETF protocol assignments (RFC 6890)
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "private"], // benchmarking (RFC 2544), used inside networks
  ["224.0.0.0", 4, "reserved"], // multicast
  ["240.0.0.0", 4, "reserved"], // class E and the broadcast address
];
/** IPv6 ranges; ::ffff:0:0/96 (IPv4-mapped) is judged by its IPv4 address. */
const V6: readonly [string, number, AddressClass][] = [
  ["::", 128, "reserved"], // unspecified
  ["::1", 128, "loopback"],
  ["fc00::", 7, "private"], // unique local (RFC 4193)
  ["fe80::", 10, "link-local"],
  ["ff00::", 8, "reserved"], // multicast
];

const V4_NETS = V4.map(([net, bits, cls]) => ({ net: ipNumber(net)!, mask: bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0, cls }));
const V6_NETS = V6.map(([net, bits, cls]) => ({ net: parseIpv6(net)!, bits, cls }));

function inV6(a: Uint8Array, net: Uint8Array, bits: number): boolean {
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & m) !== (net[i]! & m)) return false;
  }
  return true;
}

/** IPv6 text with a dotted IPv4 tail (::ffff:1.2.3.4) or a zone (%eth0) as parseIpv6 takes it. */
function v6Bytes(text: string): Uint8Array | null {
  let t = text.split("%")[0]!;
  const dot = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (dot) {
    const n = ipNumber(dot[2]!);
    if (n === null) return null;
    t = `${dot[1]}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  return parseIpv6(t);
}

/** The class of an address (dotted IPv4 or IPv6 text); null: a public address. Unreadable text is "reserved". */
export function addressClass(ip: string): AddressClass | null {
  const n = ipNumber(ip);
  if (n !== null) return V4_NETS.find((r) => ((n & r.mask) >>> 0) === r.net)?.cls ?? null;
  const b = v6Bytes(ip);
  if (b === null) return "reserved";
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return addressClass(`${b[12]}.${b[13]}.${b[14]}.${b[15]}`);
  return V6_NETS.find((r) => inV6(b, r.net, r.bits))?.cls ?? null;
}

/** Why `ip` is refused under `allow`, or null when the relay may connect to it. */
export function refusal(ip: string, allow: ReadonlySet<AddressClass>): string | null {
  const cls = addressClass(ip);
  if (cls === null || (cls !== "reserved" && allow.has(cls))) return null;
  return cls === "reserved" ? "a reserved address" : `a ${cls} address`;
}

/** `loopback,private` → the set; a string says what is wrong. */
export function parseAllow(text: string): Set<AddressClass> | string {
  const out = new Set<AddressClass>();
  for (const w of text.split(",").map((x) => x.trim()).filter(Boolean)) {
    if (!(ALLOWABLE as readonly string[]).includes(w)) return `--allow: '${w}' is not one of ${ALLOWABLE.join(", ")}`;
    out.add(w as AddressClass);
  }
  return out;
}
