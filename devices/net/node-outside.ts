// The NAT's outside in Node (nat-outside.ts): real `net` sockets, `dgram` sockets and the host's
// resolver (`dns.lookup`: getaddrinfo, so /etc/hosts and the system's DNS configuration apply,
// as for any program on the host). Sockets are half-open capable (allowHalfOpen), so a guest's
// FIN becomes a FIN on the host side and not a full close.
import { createSocket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { connect, createServer, type Socket } from "node:net";
import type { Outside, OutsideAccept, OutsideTcp, OutsideTcpEvents, OutsideUdp } from "./nat-outside.ts";

/** An outside connect that has not completed within this long fails (ETIMEDOUT). */
export const CONNECT_TIMEOUT_MS = 15_000;

function wrap(s: Socket, ev: OutsideTcpEvents): OutsideTcp {
  let done = false;
  // The guest's segments of one batch go out in one write: corked until the next tick.
  let corked = false;
  const uncork = () => {
    corked = false;
    s.uncork();
  };
  s.on("data", (b: Buffer) => ev.data(b));
  s.on("end", () => ev.end());
  s.on("drain", () => ev.drain());
  s.on("error", () => {}); // the reason arrives with "close" below
  s.on("close", () => {
    if (done) return;
    done = true;
    const err = (s as Socket & { errored?: NodeJS.ErrnoException | null }).errored;
    ev.closed(err ? err.code ?? err.message : null);
  });
  return {
    write: (bytes) => {
      if (!corked) {
        corked = true;
        s.cork();
        process.nextTick(uncork);
      }
      s.write(bytes);
    },
    get buffered() {
      return s.writableLength;
    },
    end: () => void s.end(),
    destroy: () => {
      done = true;
      s.resetAndDestroy();
    },
    pause: () => void s.pause(),
    resume: () => void s.resume(),
  };
}

export class NodeOutside implements Outside {
  connectTcp(ip: string, port: number, ev: OutsideTcpEvents): OutsideTcp {
    const s = connect({ host: ip, port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => s.destroy(Object.assign(new Error("connect timed out"), { code: "ETIMEDOUT" })), CONNECT_TIMEOUT_MS);
    s.once("connect", () => {
      clearTimeout(timer);
      ev.connected();
    });
    s.once("close", () => clearTimeout(timer));
    return wrap(s, ev);
  }

  openUdp(message: (bytes: Uint8Array, ip: string, port: number) => void): OutsideUdp {
    const s = createSocket("udp4");
    s.on("message", (b, rinfo) => message(b, rinfo.address, rinfo.port));
    s.on("error", () => {}); // a send to an unreachable port (ICMP error) is UDP's normal loss
    s.bind(0);
    let open = true;
    return {
      send: (bytes, ip, port) => {
        if (open) s.send(bytes, port, ip);
      },
      close: () => {
        if (!open) return;
        open = false;
        s.close();
      },
    };
  }

  async resolve(name: string, family: 4 | 6): Promise<string[]> {
    const all = await lookup(name, { family, all: true });
    return all.map((a) => a.address);
  }

  listenTcp(host: string, port: number, accept: OutsideAccept): Promise<{ close(): void }> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
      s.setNoDelay(true);
      accept((ev) => wrap(s, ev), `${s.remoteAddress}:${s.remotePort}`);
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve({ close: () => void server.close() });
      });
    });
  }
}
