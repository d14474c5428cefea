// The CLI's NAT: each `--device net,…,backend=nat` gets a host stack with a user-mode NAT
// (devices/net/nat.ts) whose outside is this machine's sockets (node-outside.ts), served on
// this thread (link-host.ts) — the VM worker's loop is busy with guest code and sleeps in
// Atomics.wait, so sockets live where the event loop runs. The device's spec is given the link.
import type { VirtioDeviceSpec } from "../devices/vm/config.ts";
import { deviceTypeWithRole } from "../devices/registry.ts";
import type { NatLimits } from "../devices/net/nat.ts";
import { NodeOutside } from "../devices/net/node-outside.ts";
import { parseForwards } from "../devices/net/port-forward.ts";
import { GUEST, UserNet } from "../devices/net/user-net.ts";
import { LogLimiter } from "../devices/log-limit.ts";
import { WispRelay, type WispSocket } from "../devices/net/wisp-client.ts";
import { WispOutside } from "../devices/net/wisp-outside.ts";
import { RelayNames } from "../devices/net/relay-names.ts";
import { WebSocket } from "ws";

const NIC = deviceTypeWithRole("network")!.name;

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
  const hosts: { name: string; net: UserNet }[] = [];
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
      if (d.relay !== undefined && d.backend !== "nat") throw new NatError(`--device ${NIC}: relay= needs backend=nat`);
      if (d.relay !== undefined && d.forward !== undefined) throw new NatError(`--device ${NIC}: forward= is not offered through a relay (a Wisp relay only connects out)`);
      if (d.backend !== "nat") {
        out.push(d);
        continue;
      }
      const forwards = d.forward === undefined ? [] : parseForwards(String(d.forward), GUEST);
      if (typeof forwards === "string") throw new NatError(forwards);
      const log = (m: string) => limiter.log(m);
      const relay = d.relay === undefined ? null : String(d.relay);
      // Through a relay, as the page: names are the relay's to resolve (relay-names.ts).
      const outside = relay === null ? new NodeOutside()
        : new WispOutside(new WispRelay(() => new WebSocket(relay) as unknown as WispSocket, log, relay), { names: new RelayNames() });
      const net = new UserNet(outside, wake, log, limits);
      hosts.push({ name, net });
      try {
        await net.forward(forwards);
      } catch (e) {
        throw new NatError((e as Error).message);
      }
      out.push({ ...d, link: net.end });
    }
  } catch (e) {
    for (const h of hosts) h.net.close();
    throw e;
  }
  return {
    devices: out,
    stats: () => Object.fromEntries(hosts.map((h) => [h.name, h.net.stats()])),
    close: () => {
      for (const h of hosts) h.net.close();
      limiter.flush();
    },
  };
}
