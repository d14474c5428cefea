// Browser Worker entry of the VM: the same runVm the CLI's worker_thread runs (cli/vm-worker.ts).
// The page posts {config, channels} once; console bytes then cross through the shared rings and
// the worker posts back only VmEvents (log lines, the final exit with its stats).
import coreUrl from "../core-wasm/build/core.wasm?url";
import { runVm, type VmChannels, type VmEvent } from "../devices/vm/session.ts";
import type { VmConfig } from "../devices/vm/config.ts";

export interface StartMessage {
  config: VmConfig;
  channels: VmChannels;
}

const post = (e: VmEvent) => (self as unknown as Worker).postMessage(e);

self.onmessage = async (ev: MessageEvent<StartMessage>) => {
  const { config, channels } = ev.data;
  try {
    const module = await WebAssembly.compile(await (await fetch(coreUrl)).arrayBuffer());
    // No block backend yet: the page has no IndexedDB disk (issue 5, later slice).
    runVm(module, config, channels, post);
  } catch (e) {
    post({ type: "exit", reason: "error", message: e instanceof Error ? e.message : String(e), stats: { instructions: 0, wallSeconds: 0, mips: 0, resets: 0 } });
  }
};
