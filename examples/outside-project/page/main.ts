// A page that embeds a VM with vireo/browser: the package's own guest, its console in the
// #console element, one command run from the page's code.
import { BrowserVm, crossOriginIsolation } from "vireo/browser";

const result = document.getElementById("result")!;
try {
  // Served with COOP/COEP (vite.config.ts) this resolves at once; on a static host without
  // them it installs the package's service worker (coi-sw.js, copied beside the page) and reloads.
  if ((await crossOriginIsolation()) === "isolated") {
    const vm = await BrowserVm.start({
      terminal: document.getElementById("console")!,
      devices: [{ type: "rng", transport: "pci-modern" }],
    });
    const { output, exitStatus } = await vm.exec("uname -m");
    const rng = await vm.exec("cat /sys/class/misc/hw_random/rng_available");
    result.textContent = `uname -m: ${output} (exit status ${exitStatus}); rng: ${rng.output}`;
    vm.focus();
  }
} catch (e) {
  result.textContent = `failed: ${(e as Error).message}`;
}
