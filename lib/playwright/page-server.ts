// Serves the Vireo page the package ships (dist-web/, the page's `vite build`) on a loopback
// port, cross-origin isolated (COOP + COEP: the page's VM shares its RAM with a Worker through a
// SharedArrayBuffer). One server per Playwright worker process, started when a test first boots
// in the browser. Files only from that folder: no path leaves it.
import { createServer, type Server } from "node:http";
import { createReadStream, existsSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { fileSize } from "../../devices/host/file-size.ts";
import { ISOLATION_HEADERS } from "../../web/isolation-headers.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".svg": "image/svg+xml",
};

/**
 * The built page: beside dist-node/ in the package (where the bundle of this module sits), or at
 * the root of a checkout (this module's sources are two levels down; npm run build:lib builds it).
 */
export function pageDir(): string {
  const bundled = fileURLToPath(new URL("../dist-web/", import.meta.url));
  return existsSync(bundled) ? bundled : fileURLToPath(new URL("../../dist-web/", import.meta.url));
}

let serving: Promise<string> | null = null;

/** The origin the shipped page is served at (started once per process). */
export function pageOrigin(dir = pageDir()): Promise<string> {
  serving ??= new Promise<string>((resolve, reject) => {
    const server: Server = createServer((req, res) => {
      const headers = { ...ISOLATION_HEADERS, "Cross-Origin-Resource-Policy": "same-origin" };
      let path: string;
      try {
        path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      } catch {
        return void res.writeHead(400, headers).end();
      }
      const file = normalize(join(dir, path.endsWith("/") ? path + "index.html" : path));
      const size = file.startsWith(dir.endsWith(sep) ? dir : dir + sep) ? fileSize(file) : undefined;
      if (size === undefined || (req.method !== "GET" && req.method !== "HEAD")) return void res.writeHead(404, headers).end();
      res.writeHead(200, { ...headers, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Content-Length": String(size) });
      if (req.method === "HEAD") return void res.end();
      createReadStream(file).on("error", () => res.destroy()).pipe(res);
    });
    server.unref(); // the test runner's process may end with it open
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve(typeof a === "object" && a ? `http://127.0.0.1:${a.port}` : "");
    });
  });
  return serving;
}
