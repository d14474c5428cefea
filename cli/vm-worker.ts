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
await runVm(module, config, channels, post, {
  openBlock: (spec) => new NodeFileBlockBackend(spec.image, { readonly: spec.readonly }),
  openFs: (spec) => {
    // A reset builds a new board and a new 9p server: close what the old one left open.
    shares.get(spec)?.dispose();
    const fs = new NodeFsBackend(spec.path, { securityModel: spec.securityModel });
    shares.set(spec, fs);
    return fs;
  },
}).catch((e: unknown) => {
  post({ type: "exit", reason: "error", message: e instanceof Error ? e.message : String(e), stats: { instructions: 0, wallSeconds: 0, mips: 0, resets: 0 } });
});
