// Node worker_threads entry of the VM: the same runVm the page's Worker uses.
import { parentPort, workerData } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { runVm, type VmChannels } from "../devices/vm/session.ts";
import type { VmConfig } from "../devices/vm/config.ts";
import { NodeFileBlockBackend } from "../devices/host/node-file-block.ts";

const { config, channels } = workerData as { config: VmConfig; channels: VmChannels };
const module = new WebAssembly.Module(readFileSync(new URL("../core-wasm/build/core.wasm", import.meta.url)));
runVm(module, config, channels, (e) => parentPort!.postMessage(e), {
  openBlock: (spec) => new NodeFileBlockBackend(spec.image!, { readonly: spec.readonly }),
});
