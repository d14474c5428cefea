// The page's NAT (netbackend=wisp|fetch): the built-in host as the guest's gateway to the real
// network, as `backend=nat` is in Node, with the outside reached through a Wisp relay over one
// WebSocket (devices/net/wisp-client.ts) — a page has no sockets — or, with no relay, through
// fetch() for plain HTTP (devices/net/fetch-outside.ts). Names the guest looks up are the
// relay's (or fetch's) to resolve (devices/net/relay-names.ts). It runs on the page's thread beside the
// event loop the WebSocket needs; the VM worker reaches it through frame rings (link-host.ts)
// and is woken through its control word when frames arrive for it.
import { LogLimiter } from "../devices/log-limit.ts";
import { UserNet } from "../devices/net/user-net.ts";
import { WispRelay, type WispSocket } from "../devices/net/wisp-client.ts";
import { WispOutside } from "../devices/net/wisp-outside.ts";
import { RelayNames } from "../devices/net/relay-names.ts";
import { FetchOutside } from "../devices/net/fetch-outside.ts";
import type { NetLinkEnd } from "../devices/net/ring-backend.ts";

export class PageNat {
  /** Set once the VM runs: kick its control word. */
  wake: () => void = () => {};
  readonly relay: WispRelay | null;
  private readonly net: UserNet;
  private readonly limiter: LogLimiter;
  private readonly names = new RelayNames();

  /** `url`: the relay's; null: fetch() only. */
  constructor(readonly url: string | null, log: (m: string) => void) {
    this.limiter = new LogLimiter(log);
    const say = (m: string) => this.limiter.log(m);
    this.relay = url === null ? null : new WispRelay(() => new WebSocket(url) as unknown as WispSocket, say, url);
    const outside = this.relay ? new WispOutside(this.relay, { names: this.names })
      : new FetchOutside({ names: this.names, log: say, upgrade: location.protocol === "https:" });
    this.net = new UserNet(outside, () => this.wake(), say);
  }

  /** What the guest's outside is, for the page and the inspector. */
  get via(): string {
    return this.url === null ? "fetch() (HTTP to port 80 only, servers that allow this page's origin)" : `the Wisp relay ${this.url}`;
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
    const c = this.relay?.connection;
    return { ...this.net.stats(), ...(c ? { relayStreams: c.open, relayBytesUp: c.counters.bytesUp, relayBytesDown: c.counters.bytesDown } : {}) };
  }

  close(): void {
    this.net.close();
    this.limiter.flush();
  }
}
