// Worker side of session.test.ts: runVm with one virtio-blk on a small in-memory disk.
import { parentPort, workerData } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { runVm, type VmChannels, type VmEvent } from "../../../devices/vm/session.ts";
import type { VmConfig } from "../../../devices/vm/config.ts";
import { MemoryBlockBackend } from "../../../devices/host/block.ts";

const { config, channels } = workerData as { config: VmConfig; channels: VmChannels };
const module = new WebAssembly.Module(readFileSync(new URL("../../../core-wasm/build/core.wasm", import.meta.url)));
await runVm(module, config, channels, (e: VmEvent) => parentPort!.postMessage(e), {
  openBlock: () => new MemoryBlockBackend(new Uint8Array(1 << 20), { id: "inspect-test" }),
});
