// Worker side of session-async-flush.test.ts: runVm with one virtio-blk on a copy-on-write
// overlay whose store settles each commit on a later timer tick, like IndexedDB. It reports
// each commit as it happens and, once the VM has exited, every stored block.
import { parentPort, workerData } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { runVm, type VmChannels, type VmEvent } from "../../../devices/vm/session.ts";
import type { VmConfig } from "../../../devices/vm/config.ts";
import { OverlayBlockBackend, type OverlayStore } from "../../../devices/host/overlay-block.ts";

const { config, channels, base } = workerData as { config: VmConfig; channels: VmChannels; base: Uint8Array };
const saved = new Map<number, Uint8Array>();
const store: OverlayStore = {
  load: async () => new Map(saved),
  commit: async (blocks) => {
    await new Promise((r) => setTimeout(r, 3));
    for (const [i, b] of blocks) saved.set(i, b.slice());
    parentPort!.postMessage({ type: "commit" });
  },
};
const disk = await OverlayBlockBackend.open(base, store, { id: "overlay-test" });
const module = new WebAssembly.Module(readFileSync(new URL("../../../core-wasm/build/core.wasm", import.meta.url)));
await runVm(module, config, channels, (e: VmEvent) => parentPort!.postMessage(e), { openBlock: () => disk });
parentPort!.postMessage({ type: "saved", blocks: [...saved] });
