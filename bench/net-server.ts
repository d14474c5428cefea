// The bench's HTTP server for the net section: GET /down answers `mib` MiB of fixed
// pseudo-random bytes, POST /up counts what it is sent. A run's figures count only if the
// whole transfer arrived both ways (check()).
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";

export async function netServer(mib: number) {
  const body = randomBytes(mib << 20);
  let downloaded = 0, uploaded = 0;
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/down") {
      res.setHeader("content-length", body.length);
      res.end(body, () => (downloaded = body.length));
      return;
    }
    if (req.method === "POST" && req.url === "/up") {
      let n = 0;
      req.on("data", (d: Buffer) => (n += d.length));
      req.on("end", () => {
        uploaded = n;
        res.end("ok\n");
      });
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    reset: () => void (downloaded = uploaded = 0),
    /** True when both transfers were whole; otherwise says so on stderr. */
    check(who: string): boolean {
      if (downloaded === body.length && uploaded === body.length) return true;
      console.error(`bench: net ${who}: downloaded ${downloaded} and uploaded ${uploaded} of ${body.length} bytes: run dropped`);
      return false;
    },
    close: () => void server.close(),
  };
}
