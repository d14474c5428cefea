// Browser Worker entry of the VM: the same runVm the CLI's worker_thread runs (cli/vm-worker.ts).
// The page posts {config, channels, disks} once; console bytes then cross through the shared
// rings and the worker posts back only VmEvents (log lines, the final exit with its stats).
// Each virtio-blk spec names an IndexedDB overlay (`image: "idb:NAME"`, web/idb-disk.ts) over
// base bytes the page sends in `disks`; every overlay is loaded before the VM starts, since
// the device's reads and writes are synchronous.
import coreUrl from "../core-wasm/build/core.wasm?url";
import { runVm, type VmChannels, type VmEvent } from "../devices/vm/session.ts";
import type { VmConfig } from "../devices/vm/config.ts";
import type { BlockBackend } from "../devices/host/block.ts";
import { openIdbDisk } from "./idb-disk.ts";

export interface StartMessage {
  config: VmConfig;
  channels: VmChannels;
  /** Base image bytes of each blk spec, by its `image` (transferred, not copied). */
  disks?: Record<string, Uint8Array>;
}

const post = (e: VmEvent) => (self as unknown as Worker).postMessage(e);
const log = (message: string) => post({ type: "log", message });

self.onmessage = async (ev: MessageEvent<StartMessage>) => {
  const { config, channels, disks = {} } = ev.data;
  try {
    const module = await WebAssembly.compile(await (await fetch(coreUrl)).arrayBuffer());
    const opened = new Map<string, BlockBackend>();
    for (const spec of config.devices ?? []) {
      if (spec.type !== "blk") continue;
      const base = spec.image === undefined ? undefined : disks[spec.image];
      if (!base) throw new Error(`virtio-blk: no image bytes for '${spec.image ?? ""}'`);
      // Two devices on one overlay would each cache the file system and corrupt it.
      if (opened.has(spec.image!)) throw new Error(`virtio-blk: '${spec.image}' is attached twice`);
      opened.set(spec.image!, await openIdbDisk(spec, base, log));
    }
    await runVm(module, config, channels, post, { openBlock: (spec) => opened.get(spec.image!)! });
  } catch (e) {
    post({ type: "exit", reason: "error", message: e instanceof Error ? e.message : String(e), stats: { instructions: 0, wallSeconds: 0, mips: 0, resets: 0 } });
  }
};
