// Builds vireo/browser (npm run build:lib, and `npm pack` through prepack) into dist-browser/:
//   index.js     the library (lib/browser/index.ts), ESM for the browser, xterm.js inside and
//                its stylesheet added to the page by the module itself
//   vm-worker.js the VM's Worker (web/vm-worker.ts), self-contained
//   coi-sw.js    the isolation service worker (web/public/coi-sw.js), for a page to serve
// The page's sources reach core.wasm and the guest images through Vite's `?url` imports and
// start the worker in web/vm-worker-start.ts; here each becomes `new URL(…, import.meta.url)`
// relative to dist-browser/, which sits one level below the package root beside core-wasm/
// and guest-images/. A bundler that handles `new URL(…, import.meta.url)` (Vite, webpack 5)
// takes those files along; served as they are, they resolve too.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { root } from "./node-bundle.mjs";

export const BROWSER_DIR = join(root, "dist-browser");

/** `import x from "./file?url"` → the file's URL, relative to the bundle. */
const assetUrls = {
  name: "asset-urls",
  setup(build) {
    build.onResolve({ filter: /\?url$/ }, (args) => ({ path: resolve(args.resolveDir, args.path.slice(0, -4)), namespace: "asset-url" }));
    build.onLoad({ filter: /.*/, namespace: "asset-url" }, (args) => {
      const rel = relative(BROWSER_DIR, args.path).split(sep).join("/");
      return { contents: `export default new URL(${JSON.stringify(rel)}, import.meta.url).href;`, loader: "js" };
    });
  },
};

/** The page's worker start → the bundled worker beside the bundle. */
const workerStart = {
  name: "worker-start",
  setup(build) {
    build.onResolve({ filter: /\/vm-worker-start\.ts$/ }, () => ({ path: "vm-worker-start", namespace: "worker-start" }));
    build.onLoad({ filter: /.*/, namespace: "worker-start" }, () => ({
      contents: `export function startVmWorker() { return new Worker(new URL("./vm-worker.js", import.meta.url), { type: "module", name: "vireo-vm" }); }`,
      loader: "js",
    }));
  },
};

/** A stylesheet import → a <style> added to the document once, so one import of the library is enough. */
const injectCss = {
  name: "inject-css",
  setup(build) {
    build.onLoad({ filter: /\.css$/ }, (args) => ({
      contents: `const s = document.createElement("style"); s.textContent = ${JSON.stringify(readFileSync(args.path, "utf8"))}; document.head.prepend(s);`,
      loader: "js",
    }));
  },
};

export async function buildBrowser() {
  rmSync(BROWSER_DIR, { recursive: true, force: true });
  mkdirSync(BROWSER_DIR, { recursive: true });
  const common = { absWorkingDir: root, bundle: true, platform: "browser", format: "esm", target: "es2022", outdir: BROWSER_DIR, logLevel: "warning", metafile: true };
  const lib = await esbuild.build({ ...common, entryPoints: { index: "lib/browser/index.ts" }, plugins: [assetUrls, workerStart, injectCss] });
  const worker = await esbuild.build({ ...common, entryPoints: { "vm-worker": "web/vm-worker.ts" }, plugins: [assetUrls] });
  copyFileSync(join(root, "web/public/coi-sw.js"), join(BROWSER_DIR, "coi-sw.js"));
  return [lib, worker].flatMap((r) => Object.entries(r.metafile.outputs).map(([file, o]) => ({ file, bytes: o.bytes })));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t0 = performance.now();
  const files = await buildBrowser();
  console.log(`${files.map((f) => `${f.file} ${Math.round(f.bytes / 1024)} KiB`).join(", ")} (${Math.round(performance.now() - t0)} ms)`);
}
