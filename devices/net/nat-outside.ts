// What the user-mode NAT (nat.ts) needs from the world beyond the guest's network: TCP streams,
// UDP sockets, name lookups and, where the host can, listening sockets for port forwarding. The
// NAT terminates the guest's TCP and relays bytes, so the outside carries byte streams, never
// packets. Node implements it with real sockets (node-outside.ts); a page can implement it
// over a Wisp relay (TCP and UDP streams multiplexed on one WebSocket) or fetch.
//
// Addresses are IPv4 dotted strings. Callbacks may run at any time on the owner's event loop;
// none runs synchronously inside the call that caused it.

/** What an outside TCP stream reports. */
export interface OutsideTcpEvents {
  /** The connection is open (after connectTcp). */
  connected(): void;
  /** Bytes from the remote, in order; the receiver keeps them (the outside must not reuse them). */
  data(bytes: Uint8Array): void;
  /** The remote finished sending (half-close); writing may go on. */
  end(): void;
  /** Written bytes have gone on: `buffered` fell (flow control). */
  drain(): void;
  /** The stream is gone: after a clean close `error` is null; otherwise why (ECONNREFUSED, ETIMEDOUT …). */
  closed(error: string | null): void;
}

export interface OutsideTcp {
  /** Queue bytes for the remote; the stream keeps `bytes` (the caller must not reuse them). */
  write(bytes: Uint8Array): void;
  /** Bytes written but not yet taken by the operating system or relay. */
  readonly buffered: number;
  /** Half-close: no more writes; reading goes on. */
  end(): void;
  /** Abort at once (a reset where the transport has one). No events follow. */
  destroy(): void;
  /** Stop and restart `data` events (the guest is slow to take them). */
  pause(): void;
  resume(): void;
}

export interface OutsideUdp {
  send(bytes: Uint8Array, ip: string, port: number): void;
  /** No events follow. */
  close(): void;
}

/** A forwarded listener's accepted connection: attach events to get the stream. */
export type OutsideAccept = (attach: (events: OutsideTcpEvents) => OutsideTcp, remote: string) => void;

export interface Outside {
  connectTcp(ip: string, port: number, events: OutsideTcpEvents): OutsideTcp;
  openUdp(message: (bytes: Uint8Array, ip: string, port: number) => void): OutsideUdp;
  /**
   * Addresses of `name` (family 4: dotted IPv4, 6: IPv6 text); rejects with an Error whose
   * `code` is "ENOTFOUND" / "ENODATA" when the name has none.
   */
  resolve(name: string, family: 4 | 6): Promise<string[]>;
  /** Let go of what the outside holds for the NAT (a relay's WebSocket); no events follow. */
  close?(): void;
  /** Listen on host address:port (port forwarding); resolves once listening. Absent: not offered. */
  listenTcp?(host: string, port: number, accept: OutsideAccept): Promise<{ close(): void }>;
}
