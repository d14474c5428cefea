import { defineConfig } from "vite";

// SharedArrayBuffer (guest RAM shared between the VM worker and the page) needs a
// cross-origin isolated page: COOP same-origin + COEP require-corp, on dev and preview.
const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  root: "web",
  // Relative asset URLs: the built site works from any directory of a static host.
  base: "./",
  // web/public/coi-sw.js: the service worker that isolates the page where the host sends no
  // COOP/COEP headers; copied to dist/ unbundled, beside index.html (its scope).
  publicDir: "public",
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
