// The page. For now it checks what the VM worker will need — cross-origin isolation for
// SharedArrayBuffer, and a core.wasm that instantiates on a shared memory — and says so.
import coreUrl from "../core-wasm/build/core.wasm?url";
import { instantiateCore } from "../core-wasm/loader.ts";

const status = document.getElementById("status")!;

async function main(): Promise<void> {
  if (!crossOriginIsolated || typeof SharedArrayBuffer === "undefined") {
    status.textContent =
      "This page is not cross-origin isolated, so SharedArrayBuffer is unavailable and Vireo cannot run. " +
      "Serve it with COOP: same-origin and COEP: require-corp (npm start does).";
    return;
  }
  const bytes = await (await fetch(coreUrl)).arrayBuffer();
  const module = await WebAssembly.compile(bytes);
  const core = instantiateCore(module, 16 << 20, { trap() {}, intack: () => 0, rdtsc: () => 0n });
  status.textContent = `core.wasm loaded (${bytes.byteLength} bytes), ${core.ram.byteLength >> 20} MiB guest RAM on a shared memory.`;
}

main().catch((e: unknown) => {
  status.textContent = `Vireo failed to start: ${e instanceof Error ? e.message : String(e)}`;
});
