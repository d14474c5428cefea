// Vireo's isolation service worker, for static hosts that cannot send headers (GitHub Pages, a
// plain file server). SharedArrayBuffer needs a cross-origin isolated page, i.e. responses with
// COOP same-origin and COEP require-corp; this worker re-serves every same-origin response with
// those headers added. web/coi.ts registers it and reloads the page once so the page's own
// document comes through it. Plain JavaScript, copied to dist/ as is: a service worker must be
// served from the directory it controls.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  // Cross-origin requests are left alone: the page loads none, and they would need their own CORP.
  if (new URL(request.url).origin !== self.location.origin) return;
  // Chromium's DevTools issue these; fetch() rejects them outside same-origin mode.
  if (request.cache === "only-if-cached" && request.mode !== "same-origin") return;
  event.respondWith(withIsolation(request));
});

async function withIsolation(request) {
  const response = await fetch(request);
  // A redirect seen by a navigation, or an error: nothing to add headers to.
  if (response.type === "opaqueredirect" || response.status === 0) return response;
  const headers = new Headers(response.headers);
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Embedder-Policy", "require-corp");
  headers.set("Cross-Origin-Resource-Policy", "same-origin");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
