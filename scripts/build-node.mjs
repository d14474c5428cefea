// Bundles the headless CLI, its VM worker and the bench's VM process into plain ESM under
// dist-node/, so starting them transpiles no TypeScript (tsx cost a boot ~0.5 s over both threads).
//   node scripts/build-node.mjs             build
//   node scripts/build-node.mjs --if-stale  build only when a source changed since the last build
// Each entry is self-contained: the worker is a separate V8 isolate, so a shared chunk would be
// parsed twice anyway. The modules find core.wasm, guest-images/ and the worker by URLs relative
// to themselves; dist-node/ sits one level below the root like cli/, so those URLs still resolve.
import * as esbuild from "esbuild";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BUNDLE_DIR, MANIFEST, root, staleReason } from "./node-bundle.mjs";

const ENTRIES = {
  boot: "cli/boot.ts",
  "vm-worker": "cli/vm-worker.ts", // named as the tsx bootstrap it replaces (cli/vm-worker-url.ts)
  "vm-child": "bench/vm-child.ts",
  wisp: "cli/wisp.ts", // vireo wisp: the Wisp relay
  // The npm package's entries (package.json "exports"): vireo, vireo/node; vireo/playwright.
  index: "lib/node/index.ts",
  playwright: "lib/playwright/index.ts",
};

/**
 * vireo/playwright imports the Node API from the package's own entry (./index.mjs) rather than
 * a copy of it, so the two share one Vm class (instanceof, errors); Playwright is the user's.
 */
const libEntryShared = {
  name: "lib-entry-shared",
  setup(build) {
    build.onResolve({ filter: /\/node\/index\.ts$/ }, (args) =>
      args.importer.endsWith("lib/playwright/index.ts") ? { path: "./index.mjs", external: true } : undefined);
  },
};

/** Build every entry; files are replaced by rename, so a process starting meanwhile sees whole ones. */
export async function buildNode() {
  const startedMs = Date.now(); // before esbuild reads: a source saved during the build counts as newer
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ENTRIES,
    outdir: BUNDLE_DIR,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    metafile: true,
    logLevel: "warning",
    // ws is a dependency (CommonJS requiring Node's modules, which an ESM bundle cannot inline).
    external: ["@playwright/test", "ws"],
    plugins: [libEntryShared],
  });
  mkdirSync(BUNDLE_DIR, { recursive: true });
  for (const f of result.outputFiles) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
  // What the freshness check compares (node-bundle.mjs): this script and every bundled source.
  const self = relative(root, fileURLToPath(import.meta.url));
  const manifest = {
    startedMs,
    outputs: result.outputFiles.map((f) => basename(f.path)),
    inputs: [self, "scripts/node-bundle.mjs", ...Object.keys(result.metafile.inputs)],
  };
  const tmp = `${MANIFEST}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest, null, 1) + "\n");
  renameSync(tmp, MANIFEST); // last: a build that failed midway leaves the old manifest, so it stays stale
  return result.outputFiles.map((f) => ({ file: relative(root, f.path), bytes: f.contents.length }));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const why = process.argv.includes("--if-stale") ? staleReason() : "asked";
  if (why) {
    const t0 = performance.now();
    const files = await buildNode();
    const ms = Math.round(performance.now() - t0);
    console.log(`dist-node: ${files.map((f) => `${basename(f.file)} ${Math.round(f.bytes / 1024)} KiB`).join(", ")} (${ms} ms${why === "asked" ? "" : `; ${why}`})`);
  }
}
