// The CLI's NAT: each `--device net,…,backend=nat` gets a host stack with a user-mode NAT
// (devices/net/nat.ts) whose outside is this machine's sockets (node-outside.ts), served on
// this thread (link-host.ts) — the VM worker's loop is busy with guest code and sleeps in
// Atomics.wait, so sockets live where the event loop runs. The device's spec is given the link.
import type { VirtioDeviceSpec } from "../devices/vm/config.ts";
import { deviceTypeWithRole } from "../devices/registry.ts";
import { HostStack } from "../devices/net/host-stack.ts";
import { LinkHost } from "../devices/net/link-host.ts";
import { Nat, ipNumber, type NatLimits } from "../devices/net/nat.ts";
import { NodeOutside } from "../devices/net/node-outside.ts";
import { parseForwards } from "../devices/net/port-forward.ts";
import { LogLimiter } from "../devices/log-limit.ts";

const NIC = deviceTypeWithRole("network")!.name;
const GATEWAY = "10.0.2.2", DNS = "10.0.2.3", GUEST = "10.0.2.15", NETMASK = "255.255.255.0";

export interface NatHost {
  /** The VM's devices, each NAT NIC given its link. */
  devices: VirtioDeviceSpec[];
  /** Counters per NAT NIC (by its index among the NICs). */
  stats(): Record<string, Record<string, number>>;
  close(): void;
}

/** Thrown for a NAT that cannot start (a forwarded port in use): the CLI's usage error. */
export class NatError extends Error {}

export async function startNats(devices: readonly VirtioDeviceSpec[], wake: () => void, log: (m: string) => void, limits?: Partial<NatLimits>): Promise<NatHost> {
  const limiter = new LogLimiter(log);
  const hosts: { name: string; stack: HostStack; nat: Nat; link: LinkHost }[] = [];
  const out: VirtioDeviceSpec[] = [];
  let nics = 0;
  try {
    for (const d of devices) {
      if (d.type !== NIC) {
        out.push(d);
        continue;
      }
      const name = `virtio-net${nics++}`; // not-a-device-name (the stats key of a NIC)
      if (d.forward !== undefined && d.backend !== "nat") throw new NatError(`--device ${NIC}: forward= needs backend=nat`);
      if (d.backend !== "nat") {
        out.push(d);
        continue;
      }
      const forwards = d.forward === undefined ? [] : parseForwards(String(d.forward), GUEST);
      if (typeof forwards === "string") throw new NatError(forwards);
      const nat = new Nat({
        outside: new NodeOutside(), gateway: ipNumber(GATEWAY)!, dns: ipNumber(DNS)!, guest: ipNumber(GUEST)!, netmask: ipNumber(NETMASK)!,
        log: (m) => limiter.log(m), limits,
      });
      const stack = new HostStack({ nat, log: (m) => limiter.log(m) });
      const link = new LinkHost(stack, wake);
      hosts.push({ name, stack, nat, link });
      try {
        await nat.forward(forwards);
      } catch (e) {
        throw new NatError((e as Error).message);
      }
      out.push({ ...d, link: link.end });
    }
  } catch (e) {
    for (const h of hosts) close(h);
    throw e;
  }
  return {
    devices: out,
    stats: () => Object.fromEntries(hosts.map((h) => [h.name, { ...h.stack.stats(), ...h.link.counters }])),
    close: () => {
      for (const h of hosts) close(h);
      limiter.flush();
    },
  };
}

function close(h: { nat: Nat; link: LinkHost }): void {
  h.link.close();
  h.nat.close();
}
