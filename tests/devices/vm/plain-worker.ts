// Worker side for run-loop tests that need the VmChannels themselves (key events, control
// words): runVm with the config and channels from workerData, events posted back.
import { parentPort, workerData } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { runVm, type VmChannels, type VmEvent } from "../../../devices/vm/session.ts";
import type { VmConfig } from "../../../devices/vm/config.ts";

const { config, channels } = workerData as { config: VmConfig; channels: VmChannels };
const module = new WebAssembly.Module(readFileSync(new URL("../../../core-wasm/build/core.wasm", import.meta.url)));
await runVm(module, config, channels, (e: VmEvent) => parentPort!.postMessage(e));
