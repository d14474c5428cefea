// Ethernet II framing (IEEE 802.3 with an EtherType, as RFC 894 carries IPv4): destination MAC,
// source MAC, 16-bit type, payload. Frames come without preamble and FCS, as virtio-net moves
// them. Every parser in devices/net throws FrameError on a malformed frame; the host stack
// catches it at the top and counts the frame as an error, so guest bytes never crash anything.

export class FrameError extends Error {}

export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

export interface EthernetFrame {
  dst: Uint8Array;
  src: Uint8Array;
  type: number;
  payload: Uint8Array;
}

/** Views into `frame` (no copy). */
export function parseEthernet(frame: Uint8Array): EthernetFrame {
  if (frame.length < ETH_HLEN) throw new FrameError(`ethernet: ${frame.length} bytes, shorter than the 14-byte header`);
  const type = (frame[12]! << 8) | frame[13]!;
  if (type < 0x0600) throw new FrameError(`ethernet: 802.3 length field ${type}, not an EtherType`);
  return { dst: frame.subarray(0, 6), src: frame.subarray(6, 12), type, payload: frame.subarray(ETH_HLEN) };
}

export function buildEthernet(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HLEN + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = type >>> 8;
  f[13] = type & 0xff;
  f.set(payload, ETH_HLEN);
  return f;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function macString(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join(":");
}
