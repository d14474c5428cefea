// The headers that make the page cross-origin isolated, so it may share guest RAM with the VM
// worker through a SharedArrayBuffer: COOP same-origin + COEP require-corp. Sent by the dev and
// preview servers (vite.config.ts) and the Playwright fixture's page server; a static host
// without them gets them from the service worker (public/coi-sw.js, which cannot import this).
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};
