// The page's NAT (netbackend=wisp): the built-in host as the guest's gateway to the real network,
// as `backend=nat` is in Node, with the outside reached through a Wisp relay over one WebSocket
// (devices/net/wisp-client.ts) — a page has no sockets. Names the guest looks up are the
// relay's to resolve (devices/net/relay-names.ts). It runs on the page's thread beside the
// event loop the WebSocket needs; the VM worker reaches it through frame rings (link-host.ts)
// and is woken through its control word when frames arrive for it.
import { LogLimiter } from "../devices/log-limit.ts";
import { UserNet } from "../devices/net/user-net.ts";
import { WispRelay, type WispSocket } from "../devices/net/wisp-client.ts";
import { WispOutside } from "../devices/net/wisp-outside.ts";
import { RelayNames } from "../devices/net/relay-names.ts";
import type { NetLinkEnd } from "../devices/net/ring-backend.ts";

export class PageNat {
  /** Set once the VM runs: kick its control word. */
  wake: () => void = () => {};
  readonly relay: WispRelay;
  private readonly net: UserNet;
  private readonly limiter: LogLimiter;
  private readonly names = new RelayNames();

  constructor(readonly url: string, log: (m: string) => void) {
    this.limiter = new LogLimiter(log);
    const say = (m: string) => this.limiter.log(m);
    this.relay = new WispRelay(() => new WebSocket(url) as unknown as WispSocket, say, url);
    this.net = new UserNet(new WispOutside(this.relay, { names: this.names }), () => this.wake(), say);
  }

  /** The worker's end: the NIC spec's `link`. */
  get end(): NetLinkEnd {
    return this.net.end;
  }

  /** The NAT table (the inspector's view): one row per TCP connection and UDP flow; a stand-in address shows its name. */
  table(): ReturnType<UserNet["nat"]["table"]> {
    return this.net.nat.table().map((r) => {
      const [ip, port] = r.remote.split(":");
      const name = this.names.name(ip!);
      return name === null ? r : { ...r, remote: `${name}:${port} (${ip})` };
    });
  }

  /** The NAT's and the relay connection's counters. */
  stats(): Record<string, number> {
    const c = this.relay.connection;
    return { ...this.net.stats(), ...(c ? { relayStreams: c.open, relayBytesUp: c.counters.bytesUp, relayBytesDown: c.counters.bytesDown } : {}) };
  }

  close(): void {
    this.net.close();
    this.limiter.flush();
  }
}
