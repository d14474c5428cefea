// `npm run boot`: run the prebuilt bundle dist-node/boot.mjs, which needs no TypeScript
// transpiling at start (scripts/build-node.mjs). When a source is newer than the bundle it is
// rebuilt first (esbuild, about 0.1 s), so an edit never runs as old code.
import { existsSync } from "node:fs";
import { staleReason } from "../scripts/node-bundle.mjs";

const why = staleReason();
if (why) {
  // The bundle includes the generated layout.ts: without the core there is nothing to build.
  if (!existsSync(new URL("../core-wasm/build/layout.ts", import.meta.url))) {
    process.stderr.write("vireo: core-wasm/build/ is missing: run npm install (or npm run build:core)\n");
    process.exit(1);
  }
  const t0 = performance.now();
  const { buildNode } = await import("../scripts/build-node.mjs");
  try {
    await buildNode();
  } catch {
    // esbuild has printed each error with its file and line.
    process.stderr.write(`vireo: rebuilding dist-node/ failed (${why})\n`);
    process.exit(1);
  }
  process.stderr.write(`vireo: rebuilt dist-node/ (${why}; ${Math.round(performance.now() - t0)} ms)\n`);
}
await import("../dist-node/boot.mjs");
