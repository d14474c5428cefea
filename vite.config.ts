import { copyFileSync, createReadStream, existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";
import { fileSize } from "./devices/host/file-size.ts";
import { ISOLATION_HEADERS } from "./web/isolation-headers.ts";
import { GUEST_SPECS } from "./devices/vm/guests.ts";
import { MANIFEST_SUFFIX } from "./devices/host/disk-manifest.ts";
import { attachWisp } from "./cli/wisp-relay.ts";
import { addressClass } from "./cli/relay-policy.ts";

// Cross-origin isolation (SharedArrayBuffer), on dev and preview.
const isolation = { ...ISOLATION_HEADERS };

/** Where the dev server serves the guest images, as the build serves its assets. */
const GUEST_IMAGES_URL = "/guest-images/";

/**
 * The guest images (kernels, initramfs, data disk) are bytes the page fetches at the URL its
 * `?url` import gives; the build emits them as hashed assets. The dev server would hand the same
 * files to its module pipeline: the extensionless bzImage is taken for a script (import analysis
 * fails on it, HTTP 500) and a .gz goes out with Content-Encoding: gzip. So in dev the import's
 * URL is /guest-images/NAME, served here as the file's bytes, untouched.
 */
function guestImages(): Plugin {
  const dir = fileURLToPath(new URL("./guest-images/", import.meta.url));
  return {
    name: "vireo:guest-images",
    apply: "serve",
    enforce: "pre",
    load(id) {
      const [file, query] = id.split("?");
      if (query !== "url" || !file!.startsWith(dir) || file!.slice(dir.length).includes("/")) return null;
      return `export default ${JSON.stringify(GUEST_IMAGES_URL + file!.slice(dir.length))};`;
    },
    configureServer(server) {
      // Before Vite's own middlewares (this hook's return value would run after them).
      server.middlewares.use(GUEST_IMAGES_URL, (req, res, next) => {
        if (req.method !== "GET" && req.method !== "HEAD") return next();
        // A file in guest-images/ or one folder below it (a distribution's, debian/): no name
        // starts with a dot, so there is no way out of it.
        const name = new URL(req.url!, "http://x").pathname.slice(1);
        const size = /^(?:[\w-][\w.-]*\/)?[\w-][\w.-]*$/.test(name) ? fileSize(dir + name) : undefined;
        if (size === undefined) return void res.writeHead(404, isolation).end();
        const head = { ...isolation, "Cross-Origin-Resource-Policy": "same-origin", "Content-Type": "application/octet-stream", "Cache-Control": "no-cache", "Accept-Ranges": "bytes" };
        // One byte range (RFC 9110 §14.2): a streamed disk reads its image so (web/stream-disk.ts).
        const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
        let start = 0;
        let end = size - 1;
        if (range) {
          start = Number(range[1]);
          end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
          if (start > end) return void res.writeHead(416, { ...head, "Content-Range": `bytes */${size}` }).end();
          res.writeHead(206, { ...head, "Content-Range": `bytes ${start}-${end}/${size}`, "Content-Length": String(end - start + 1) });
        } else {
          res.writeHead(200, { ...head, "Content-Length": String(size) });
        }
        if (req.method === "HEAD") return res.end();
        createReadStream(dir + name, { start, end }).on("error", () => res.destroy()).pipe(res);
      });
    },
  };
}

/**
 * `VIREO_WITH_DISTRO=1 npm run build`: the built distribution guests' files (the guest table's
 * kernel, initrd, root disk and its manifest, in guest-images/debian/) go to dist/guest-images/,
 * where the page's guest menu fetches them, so the site with Debian deploys to a static host
 * (one that serves byte ranges: the root disk is streamed).
 */
function distroImages(): Plugin {
  const dir = fileURLToPath(new URL("./guest-images/", import.meta.url));
  return {
    name: "vireo:distro-images",
    apply: "build",
    closeBundle() {
      if (process.env.VIREO_WITH_DISTRO !== "1") return;
      const out = fileURLToPath(new URL("./dist/guest-images/", import.meta.url));
      for (const g of GUEST_SPECS.filter((x) => x.disk)) {
        const files = [g.kernel, g.initrd, g.disk!, g.disk! + MANIFEST_SUFFIX];
        const missing = files.filter((f) => !existsSync(dir + f));
        if (missing.length > 0) throw new Error(`VIREO_WITH_DISTRO: ${g.name} is not built (${missing.join(", ")} missing): ${g.build ?? ""}`);
        for (const f of files) {
          mkdirSync(out + f.slice(0, f.lastIndexOf("/") + 1), { recursive: true });
          copyFileSync(dir + f, out + f);
        }
      }
    },
  };
}

/** `npm start` prints, after Vite's own URLs, the one that opens the page and boots the default guest. */
function printBootUrl(): Plugin {
  return {
    name: "vireo:boot-url",
    apply: "serve",
    configureServer(server) {
      const printUrls = server.printUrls.bind(server);
      server.printUrls = () => {
        printUrls();
        const local = server.resolvedUrls?.local[0];
        if (local) server.config.logger.info(`  ➜  Boot:    ${local}?autoboot=1`);
      };
    },
  };
}

/**
 * The page's Wisp relay (?netbackend=wisp) at wisp/ on the dev and preview servers, so `npm start`
 * gives the guest the network with nothing else running. Destinations are judged as by `vireo
 * wisp`, with one addition: a page opened from this machine may reach this machine's loopback
 * (the guest's 10.0.2.2 is the host's 127.0.0.1, as with the CLI's NAT); from elsewhere not.
 */
function wispRelay(): Plugin {
  const attach = (server: { httpServer: import("node:http").Server | null | unknown; config: { logger: { warn(m: string): void } } }) => {
    const http = server.httpServer as import("node:http").Server | null;
    if (!http) return;
    attachWisp(http, "/wisp/", { log: (m) => server.config.logger.warn(m) },
      (remote) => new Set(remote !== undefined && addressClass(remote) === "loopback" ? ["loopback"] : []));
  };
  return { name: "vireo:wisp-relay", configureServer: attach, configurePreviewServer: attach };
}

export default defineConfig({
  root: "web",
  // Relative asset URLs: the built site works from any directory of a static host.
  base: "./",
  // web/public/coi-sw.js: the service worker that isolates the page where the host sends no
  // COOP/COEP headers; copied to dist/ unbundled, beside index.html (its scope).
  publicDir: "public",
  plugins: [guestImages(), distroImages(), printBootUrl(), wispRelay()],
  server: { headers: isolation, fs: { allow: [".."] } },
  preview: { headers: isolation },
  worker: { format: "es" },
  build: {
    outDir: "../dist",
    emptyOutDir: true,
    target: "es2022",
    // Static servers (vite preview among them) send a .gz file with Content-Encoding: gzip, so
    // the browser would hand the page the inflated initramfs and a byte count that no longer
    // matches Content-Length. Ship compressed guest images under a neutral extension.
    rollupOptions: {
      output: { assetFileNames: (a) => (a.names[0]?.endsWith(".gz") ? "assets/[name]-[hash].bin" : "assets/[name]-[hash][extname]") },
    },
  },
});
