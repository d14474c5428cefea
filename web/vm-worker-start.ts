// The VM's Worker. Written as `new Worker(new URL(…), …)` in one place so Vite bundles
// vm-worker.ts as a worker of the page; the browser library's build puts its own bundled worker
// in place of this module (scripts/build-browser.mjs).
export function startVmWorker(): Worker {
  return new Worker(new URL("./vm-worker.ts", import.meta.url), { type: "module", name: "vireo-vm" });
}
