// Builds what the npm package ships besides core.wasm and the guest images (npm run build:lib,
// and `npm pack` through prepack):
//   dist-node/*.mjs     the Node bundle (scripts/build-node.mjs): the CLI, the VM worker and
//                       the library's entries, plain JavaScript
//   dist-node/types/    the entries' .d.ts, emitted by tsc from the sources (lib/tsconfig.json)
//   dist-web/           the Vireo page (vite build), which vireo/playwright opens for a VM
//                       booted { in: "browser" }
//   dist-browser/       vireo/browser (scripts/build-browser.mjs)
// Only the declarations the entries reach are copied, and none may reach a module outside lib/:
// the public types stand on their own, so the package's internals are not part of its API.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { buildNode } from "./build-node.mjs";
import { buildBrowser } from "./build-browser.mjs";
import { BUNDLE_DIR, root } from "./node-bundle.mjs";

/** Public entries: their declaration file under lib/ (as tsc emits it). */
export const TYPE_ENTRIES = ["node/index.d.ts", "playwright/index.d.ts", "browser/index.d.ts"];
const TYPES_DIR = join(BUNDLE_DIR, "types");

export async function buildLib() {
  await buildNode();
  await buildBrowser();
  // vite.config.ts has its root in web/: the out dir is given from there.
  const vite = spawnSync(process.execPath, [join(root, "node_modules/vite/bin/vite.js"), "build", "--outDir", "../dist-web", "--emptyOutDir", "--logLevel", "warn"], { cwd: root, stdio: "inherit" });
  if (vite.status !== 0) throw new Error("vite build of the page failed");
  const emitted = join(root, "dist-types");
  rmSync(emitted, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "lib/tsconfig.json"], { cwd: root, stdio: "inherit" });
  if (tsc.status !== 0) throw new Error("tsc failed to emit the declarations");
  rmSync(TYPES_DIR, { recursive: true, force: true });
  const libDir = join(emitted, "lib");
  const seen = new Set();
  const todo = TYPE_ENTRIES.map((e) => join(libDir, e));
  while (todo.length) {
    const file = todo.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    let text = readFileSync(file, "utf8");
    // Relative imports: followed (they must stay inside lib/), and given the .js a consumer's
    // TypeScript maps to the .d.ts beside it.
    text = text.replace(/(from\s+|import\()(["'])(\.\.?\/[^"']+)\.ts\2/g, (_m, kw, q, spec) => {
      const target = resolve(dirname(file), spec + ".d.ts");
      if (relative(libDir, target).startsWith("..")) throw new Error(`${relative(emitted, file)} imports ${spec}.ts, outside lib/: a public type must not name an internal one`);
      todo.push(target);
      return `${kw}${q}${spec}.js${q}`;
    });
    const out = join(TYPES_DIR, relative(libDir, file));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
  }
  rmSync(emitted, { recursive: true, force: true });
  return [...seen].map((f) => relative(libDir, f)).sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  const types = await buildLib();
  console.log(`dist-node/types: ${types.join(", ")} (${Math.round(performance.now() - t0)} ms)`);
}
