// Where the Node bundle lives (scripts/build-node.mjs) and whether it is older than its sources:
// a stale bundle would silently run old code, so `npm run boot` and the bench rebuild it first.
// The check stats the files the last build listed in its manifest (~100 stats, about a millisecond).
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));
export const BUNDLE_DIR = join(root, "dist-node");
export const MANIFEST = join(BUNDLE_DIR, "manifest.json");

const MARGIN_MS = 1000;

/** Why the bundle must be rebuilt, or null when it is up to date. */
export function staleReason() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, "utf8"));
  } catch {
    return "dist-node/ has not been built";
  }
  for (const out of manifest.outputs) {
    if (!exists(join(BUNDLE_DIR, out))) return `dist-node/${out} is missing`;
  }
  for (const input of manifest.inputs) {
    let mtimeMs;
    try {
      mtimeMs = statSync(join(root, input)).mtimeMs;
    } catch {
      return `${input} is gone`;
    }
    // The margin covers the kernel's coarse file clock, which can lag Date.now() by a tick: at
    // worst a file saved just before a build makes the next start rebuild once more.
    if (mtimeMs > manifest.startedMs - MARGIN_MS) return `${input} changed`;
  }
  return null;
}

function exists(path) {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
