// `npm run boot`: run the prebuilt bundle dist-node/boot.mjs, which needs no TypeScript
// transpiling at start (scripts/build-node.mjs). When a source is newer than the bundle it is
// rebuilt first (esbuild, a fraction of a second), so an edit never runs as old code.
import { staleReason } from "../scripts/node-bundle.mjs";

const why = staleReason();
if (why) {
  const t0 = performance.now();
  const { buildNode } = await import("../scripts/build-node.mjs");
  await buildNode();
  process.stderr.write(`vireo: rebuilt dist-node/ (${why}; ${Math.round(performance.now() - t0)} ms)\n`);
}
await import("../dist-node/boot.mjs");
