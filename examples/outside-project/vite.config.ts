import { defineConfig } from "vite";

// The VM shares memory with its worker through SharedArrayBuffers: the page must be
// cross-origin isolated, so the dev and preview servers send these two headers.
const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

export default defineConfig({
  root: "page",
  build: { outDir: "../dist", emptyOutDir: true, target: "es2022" },
  // vireo/browser starts its worker with new URL("./vm-worker.js", import.meta.url): a module worker.
  worker: { format: "es" },
  // Vite's dev server would pre-bundle the package and lose the files beside it (the worker, core.wasm, the guest).
  optimizeDeps: { exclude: ["vireo"] },
  server: { headers: isolation },
  preview: { headers: isolation },
});
