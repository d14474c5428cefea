// Host-side helpers of the network tests: a server listening on a free loopback port, and a
// plain HTTP GET of a whole body.
import { request, type Server } from "node:http";
import type { Server as NetServer } from "node:net";

/** Listen on 127.0.0.1 at a port the system picks; returns the port. */
export async function listen(s: Server | NetServer): Promise<number> {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as { port: number }).port;
}

/** GET `url`; resolves with the whole body. */
export function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(body));
    }).on("error", reject).end();
  });
}
