// Node worker_threads entry of the VM: the same runVm the page's Worker uses.
import { parentPort, workerData } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { runVm, type VmChannels, type VmEvent } from "../devices/vm/session.ts";
import type { VmConfig } from "../devices/vm/config.ts";
import { NodeFileBlockBackend } from "../devices/host/node-file-block.ts";
import { NodeFsBackend } from "../devices/p9/node-fs.ts";
import type { BlockBackend } from "../devices/host/block.ts";
import { StreamedDisk } from "../devices/host/streamed-disk.ts";
import { MemoryChunkCache } from "../devices/host/chunk-cache.ts";
import { OverlayBlockBackend } from "../devices/host/overlay-block.ts";
import { isBlockSpec } from "../devices/registry.ts";
import { isManifestUrl } from "../devices/host/disk-manifest.ts";

const { config, channels } = workerData as { config: VmConfig; channels: VmChannels };
const shares = new Map<object, NodeFsBackend>();
const module = new WebAssembly.Module(readFileSync(new URL("../core-wasm/build/core.wasm", import.meta.url)));
const post = (e: VmEvent) => parentPort!.postMessage(e);
const log = (message: string) => post({ type: "log", message });
// Streamed disks (image = a manifest's URL) open before the VM runs: the server is asked then,
// and refused with its reason. Their writes stay in memory for this run (an overlay whose store
// keeps nothing more), never sent to the server.
const streamed = new Map<string, BlockBackend>();
const keepNothing = { load: async () => new Map<number, Uint8Array>(), commit: async () => {} };
const opened = (async () => {
  for (const spec of config.devices ?? []) {
    if (!isBlockSpec(spec) || !isManifestUrl(spec.image) || streamed.has(spec.image)) continue;
    const disk = await StreamedDisk.open(spec.image, { cache: new MemoryChunkCache(), log });
    streamed.set(spec.image, new OverlayBlockBackend(disk, keepNothing, new Map(), { readonly: spec.readonly, id: "vireo-stream", log }));
  }
})();
await opened.then(() => runVm(module, config, channels, post, {
  openBlock: (spec) => streamed.get(spec.image) ?? new NodeFileBlockBackend(spec.image, { readonly: spec.readonly }),
  openFs: (spec) => {
    // A reset builds a new board and a new 9p server: close what the old one left open.
    shares.get(spec)?.dispose();
    const fs = new NodeFsBackend(spec.path, { securityModel: spec.securityModel });
    shares.set(spec, fs);
    return fs;
  },
})).catch((e: unknown) => {
  post({ type: "exit", reason: "error", message: e instanceof Error ? e.message : String(e), stats: { instructions: 0, wallSeconds: 0, mips: 0, resets: 0 } });
});
