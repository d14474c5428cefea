// Starting the VM's worker thread. A worker takes about as long to start (a Node environment of
// its own, the worker bundle, core.wasm) as the CLI's own start-up after it (its bundle, the
// options, reading the kernel, initrd and state), so the CLI starts one first
// (prestartVmWorker) and hands it its VM once it has one: the two start-ups overlap. And the
// files the CLI read are moved to the worker, not copied: a structured clone of a kernel, an
// initrd and a state costs more than the rest of a restore (serialized here, rebuilt there).
import { Worker } from "node:worker_threads";
import type { VmConfig } from "../devices/vm/config.ts";
import type { VmChannels } from "../devices/vm/session.ts";
import { VM_WORKER_URL } from "./vm-worker-url.ts";

/** What a VM worker runs: in its workerData, or the first message to a prestarted one. */
export interface VmInit {
  config: VmConfig;
  channels: VmChannels;
}

interface Early {
  worker: Worker;
  dead: boolean;
}

let early: Early | null = null;

/** Start a VM worker now, for the next startVmWorker of this thread. */
export function prestartVmWorker(): void {
  if (early) return;
  const e: Early = { worker: new Worker(VM_WORKER_URL), dead: false };
  // Until it is taken no one else listens: a worker that failed to start is only noted, and
  // startVmWorker then starts another, whose failure its owner sees.
  e.worker.on("error", () => (e.dead = true)).on("exit", () => (e.dead = true));
  e.worker.unref(); // never taken (--help, a usage error): it must not keep the process alive
  early = e;
}

/**
 * A worker running `init`: the prestarted one if there is one, else a new one. The buffers in
 * `transfer` (of `init.config`'s files) move to the worker: the caller's views become empty.
 */
export function startVmWorker(init: VmInit, transfer: readonly ArrayBuffer[] = []): Worker {
  const e = early;
  early = null;
  if (e && !e.dead) {
    e.worker.ref();
    e.worker.postMessage(init, [...transfer]);
    return e.worker;
  }
  if (e) void e.worker.terminate();
  return new Worker(VM_WORKER_URL, { workerData: init, transferList: [...transfer] });
}

/**
 * The buffers behind a config's kernel, initrd and states, for startVmWorker's `transfer`: only
 * when the caller read them itself, each into a buffer of its own (readFileBytes).
 */
export function fileBuffers(config: VmConfig): ArrayBuffer[] {
  const views = [config.kernel, config.initrd, config.restore, ...(config.increments ?? [])];
  const buffers = new Set<ArrayBuffer>();
  for (const v of views) if (v && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer) buffers.add(v.buffer);
  return [...buffers];
}
