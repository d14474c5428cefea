// Port forwarding rules as the CLI takes them, after QEMU's hostfwd: `tcp:[HOSTADDR:]HOSTPORT-[GUESTADDR]:GUESTPORT`,
// several joined by `+` (a comma separates --device options). The host address defaults to
// 127.0.0.1 — only this machine can connect — unlike QEMU's any-address default; give
// 0.0.0.0 to accept connections from the network. The guest address, when given, must be the
// one address the NAT serves.
import type { PortForward } from "./nat.ts";

const RULE = /^(tcp|udp):(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5})-(\d{1,3}(?:\.\d{1,3}){3})?:(\d{1,5})$/;

/** The rules of `text`, or the reason it is wrong. */
export function parseForwards(text: string, guestIp = "10.0.2.15"): PortForward[] | string {
  const out: PortForward[] = [];
  for (const rule of text.split("+")) {
    const m = RULE.exec(rule);
    if (!m) return `forward '${rule}' is not tcp:[HOSTADDR:]HOSTPORT-[GUESTADDR]:GUESTPORT (e.g. tcp:8080-:80)`;
    const [, proto, host = "127.0.0.1", hp, guest, gp] = m;
    if (proto !== "tcp") return `forward '${rule}': only tcp is forwarded`;
    if (host!.split(".").some((x) => Number(x) > 255)) return `forward '${rule}': '${host}' is not an IPv4 address`;
    if (guest !== undefined && guest !== guestIp) return `forward '${rule}': the guest is ${guestIp}`;
    const hostPort = Number(hp), guestPort = Number(gp);
    if (hostPort < 1 || hostPort > 65535 || guestPort < 1 || guestPort > 65535) return `forward '${rule}': ports are 1 to 65535`;
    if (out.some((f) => f.hostPort === hostPort && f.host === host)) return `forward '${rule}': host port ${hostPort} is forwarded twice`;
    out.push({ protocol: "tcp", host: host!, hostPort, guestPort });
  }
  return out;
}
