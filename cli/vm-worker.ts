// Node worker_threads entry of the VM: the same runVm the page's Worker uses. Its VM comes in
// workerData, or, when the worker was started ahead of it (cli/vm-worker-start.ts), as its first
// message: core.wasm is compiled meanwhile.
import { parentPort, workerData } from "node:worker_threads";
import { setFlagsFromString } from "node:v8";
import { availableParallelism } from "node:os";
import { readFileSync } from "node:fs";
import { runVm, type VmEvent } from "../devices/vm/session.ts";
import type { VmInit } from "./vm-worker-start.ts";
import { NodeFileBlockBackend } from "../devices/host/node-file-block.ts";
import { NodeFsBackend } from "../devices/p9/node-fs.ts";
import type { BlockBackend } from "../devices/host/block.ts";
import { StreamedDisk } from "../devices/host/streamed-disk.ts";
import { MemoryChunkCache } from "../devices/host/chunk-cache.ts";
import { OverlayBlockBackend } from "../devices/host/overlay-block.ts";
import { isBlockSpec } from "../devices/registry.ts";
import { isManifestUrl } from "../devices/host/disk-manifest.ts";

// V8 compiles hot core functions again with its optimizing compiler on background threads, as
// many as its pool has (Node's: 4). With fewer cores than that they take the core this thread
// runs the guest on: right after a restore, when every hot function is compiled at once, the
// first command's output came 3-4× later (2 cores, loaded). One thread fewer than the cores (at
// least one) leaves this one its core; a V8 flag, so for the whole process.
setFlagsFromString(`--wasm-num-compilation-tasks=${Math.max(1, availableParallelism() - 1)}`);
const module = new WebAssembly.Module(readFileSync(new URL("../core-wasm/build/core.wasm", import.meta.url)));
const { config, channels } = (workerData as VmInit | null) ?? await new Promise<VmInit>((resolve) => parentPort!.once("message", resolve));
const shares = new Map<object, NodeFsBackend>();
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
