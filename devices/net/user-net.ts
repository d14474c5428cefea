// One NIC's user-mode network on the host thread: the host stack with a NAT (nat.ts) whose
// outside is given (Node's sockets in the CLI, a Wisp relay in a page), served over a frame-ring
// link (link-host.ts) whose worker end goes into the NIC's spec. The addresses are QEMU's
// user-mode defaults, so guest scripts written for QEMU work unchanged.
import { HostStack } from "./host-stack.ts";
import { LinkHost } from "./link-host.ts";
import { Nat, ipNumber, type NatLimits, type PortForward } from "./nat.ts";
import type { Outside } from "./nat-outside.ts";
import type { NetLinkEnd } from "./ring-backend.ts";

export const GATEWAY = "10.0.2.2", DNS = "10.0.2.3", GUEST = "10.0.2.15", NETMASK = "255.255.255.0";

export class UserNet {
  readonly nat: Nat;
  readonly stack: HostStack;
  readonly link: LinkHost;

  constructor(outside: Outside, wake: () => void, log: (m: string) => void, limits?: Partial<NatLimits>) {
    this.nat = new Nat({
      outside, gateway: ipNumber(GATEWAY)!, dns: ipNumber(DNS)!, guest: ipNumber(GUEST)!, netmask: ipNumber(NETMASK)!, log, limits,
    });
    this.stack = new HostStack({ nat: this.nat, log });
    this.link = new LinkHost(this.stack, wake);
  }

  /** The worker's end: the NIC spec's `link`. */
  get end(): NetLinkEnd {
    return this.link.end;
  }

  forward(forwards: readonly PortForward[]): Promise<void> {
    return this.nat.forward(forwards);
  }

  stats(): Record<string, number> {
    return { ...this.stack.stats(), ...this.link.counters };
  }

  close(): void {
    this.link.close();
    this.nat.close();
  }
}
