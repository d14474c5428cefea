// Wisp packets (the Wisp protocol, v1: many TCP and UDP streams over one WebSocket; each packet
// is one binary WebSocket message): type (u8), stream id (u32), payload — integers little-endian,
// stream 0 the connection itself. Both the page's client (wisp-client.ts) and the Node relay
// (cli/wisp-relay.ts) read and write packets here. Parsing is total: any byte string gives a
// packet or a reason it is not one, never an exception.

/** Packet types (Wisp protocol, "Packet Types"). */
export const WISP = { CONNECT: 0x01, DATA: 0x02, CONTINUE: 0x03, CLOSE: 0x04, INFO: 0x05 } as const;
/** CONNECT's stream types. */
export const STREAM_TCP = 0x01, STREAM_UDP = 0x02;
/** Close reasons (protocol §0x04). */
export const CLOSE = {
  UNSPECIFIED: 0x01, VOLUNTARY: 0x02, NETWORK_ERROR: 0x03, INCOMPATIBLE: 0x04,
  INVALID: 0x41, UNREACHABLE: 0x42, CONNECT_TIMEOUT: 0x43, REFUSED: 0x44, TRANSFER_TIMEOUT: 0x47, BLOCKED: 0x48, THROTTLED: 0x49,
  CLIENT_ERROR: 0x81,
} as const;
/** type + stream id. */
export const HEADER = 5;
/** CONNECT's fixed part: stream type + port. */
const CONNECT_FIXED = 3;
/** A hostname longer than a DNS name (253) plus an IPv6 literal's room is refused. */
export const MAX_HOSTNAME = 255;

export type WispPacket =
  | { type: typeof WISP.CONNECT; stream: number; streamType: number; port: number; host: string }
  | { type: typeof WISP.DATA; stream: number; data: Uint8Array }
  | { type: typeof WISP.CONTINUE; stream: number; remaining: number }
  | { type: typeof WISP.CLOSE; stream: number; reason: number }
  /** Any other type (v2's INFO, an extension's packet): kept so the reader may ignore it. */
  | { type: number; stream: number; other: Uint8Array };

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Out = new TextEncoder();

function header(type: number, stream: number, payload: number): { out: Uint8Array; view: DataView } {
  const out = new Uint8Array(HEADER + payload);
  const view = new DataView(out.buffer);
  out[0] = type;
  view.setUint32(1, stream >>> 0, true);
  return { out, view };
}

export function connectPacket(stream: number, streamType: number, port: number, host: string): Uint8Array {
  const name = utf8Out.encode(host);
  const { out, view } = header(WISP.CONNECT, stream, CONNECT_FIXED + name.length);
  out[5] = streamType;
  view.setUint16(6, port, true);
  out.set(name, HEADER + CONNECT_FIXED);
  return out;
}

export function dataPacket(stream: number, data: Uint8Array): Uint8Array {
  const { out } = header(WISP.DATA, stream, data.length);
  out.set(data, HEADER);
  return out;
}

export function continuePacket(stream: number, remaining: number): Uint8Array {
  const { out, view } = header(WISP.CONTINUE, stream, 4);
  view.setUint32(5, remaining >>> 0, true);
  return out;
}

export function closePacket(stream: number, reason: number): Uint8Array {
  const { out } = header(WISP.CLOSE, stream, 1);
  out[5] = reason;
  return out;
}

/**
 * One packet from one WebSocket message. DATA's bytes are a view of `b` (copy them to keep them
 * past the message). A string is why `b` is not a packet.
 */
export function parsePacket(b: Uint8Array): WispPacket | string {
  if (b.length < HEADER) return `a packet of ${b.length} bytes (the header alone is ${HEADER})`;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = b[0]!, stream = view.getUint32(1, true);
  const payload = b.length - HEADER;
  switch (type) {
    case WISP.CONNECT: {
      if (payload < CONNECT_FIXED + 1) return `CONNECT with a ${payload}-byte payload (type, port and a hostname need ${CONNECT_FIXED + 1})`;
      if (payload - CONNECT_FIXED > MAX_HOSTNAME) return `CONNECT with a ${payload - CONNECT_FIXED}-byte hostname (at most ${MAX_HOSTNAME})`;
      let host: string;
      try {
        host = utf8.decode(b.subarray(HEADER + CONNECT_FIXED));
      } catch {
        return "CONNECT with a hostname that is not UTF-8";
      }
      return { type, stream, streamType: b[5]!, port: view.getUint16(6, true), host };
    }
    case WISP.DATA:
      return { type, stream, data: b.subarray(HEADER) };
    case WISP.CONTINUE:
      if (payload !== 4) return `CONTINUE with a ${payload}-byte payload (4)`;
      return { type, stream, remaining: view.getUint32(5, true) };
    case WISP.CLOSE:
      if (payload !== 1) return `CLOSE with a ${payload}-byte payload (1)`;
      return { type, stream, reason: b[5]! };
    default:
      return { type, stream, other: b.subarray(HEADER) };
  }
}
