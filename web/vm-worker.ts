// Browser Worker entry of the VM: the same runVm the CLI's worker_thread runs (cli/vm-worker.ts).
// The page posts {config, channels, disks} once; console bytes then cross through the shared
// rings and the worker posts back only VmEvents (log lines, the final exit with its stats).
//
// Each virtio-blk spec names its image, whose base bytes the page sends in `disks`:
// - `idb:NAME`: an IndexedDB copy-on-write overlay over the base (web/idb-disk.ts), loaded
//   before the VM starts since the device's reads and writes are synchronous;
// - `mem:NAME`: the bytes themselves (a picked image), for this power-on only;
// - `stream:URL`: a disk streamed from the manifest at URL (stream-disk.ts); no bytes sent.
import coreUrl from "../core-wasm/build/core.wasm?url";
import { runVm, type VmChannels, type VmEvent } from "../devices/vm/session.ts";
import type { VmConfig } from "../devices/vm/config.ts";
import { MemoryBlockBackend, type BlockBackend } from "../devices/host/block.ts";
import { openIdbDisk } from "./idb-disk.ts";
import { openStreamedDisk, streamUrl } from "./stream-disk.ts";
import { openIdbShare } from "./idb-share.ts";
import { deviceType, isBlockSpec, type FsDeviceSpec } from "../devices/registry.ts";
import type { PersistentFs } from "../devices/p9/persistent-fs.ts";

export interface StartMessage {
  config: VmConfig;
  channels: VmChannels;
  /** Base image bytes of each blk spec, by its `image` (transferred, not copied). */
  disks?: Record<string, Uint8Array>;
}

// A state's bytes are moved, not copied (a whole state is megabytes).
const post = (e: VmEvent) => (self as unknown as Worker).postMessage(e, e.type === "state" ? [e.bytes.buffer as ArrayBuffer] : []);
const log = (message: string) => post({ type: "log", message });

self.onmessage = async (ev: MessageEvent<StartMessage>) => {
  const { config, channels, disks = {} } = ev.data;
  try {
    const module = await WebAssembly.compile(await (await fetch(coreUrl)).arrayBuffer());
    const opened = new Map<string, BlockBackend>();
    for (const spec of config.devices ?? []) {
      if (deviceType(spec.type)?.backend !== "block") continue;
      if (!isBlockSpec(spec)) throw new Error(`virtio-blk: no image for a ${spec.type} device`);
      const image = spec.image;
      // Two devices on one image would each cache the file system and corrupt it.
      if (opened.has(image)) throw new Error(`virtio-blk: '${image}' is attached twice`);
      if (streamUrl(image) !== null) {
        opened.set(image, await openStreamedDisk(spec, log, (progress) => post({ type: "stream", image, progress })));
        continue;
      }
      const base = disks[image];
      if (!base) throw new Error(`virtio-blk: no image bytes for '${image}'`);
      opened.set(image, image.startsWith("idb:")
        ? await openIdbDisk(spec, base, log)
        : new MemoryBlockBackend(base, { readonly: spec.readonly, id: "vireo-picked" }));
    }
    // The shared folder (virtio-9p): loaded from IndexedDB once; every board a reset builds reuses it.
    const shares = new Map<string, PersistentFs>();
    for (const spec of config.devices ?? []) {
      if (deviceType(spec.type)?.backend !== "fs") continue;
      if (spec.path !== "idb:share") throw new Error(`virtio-9p: unknown folder '${spec.path}'`);
      if (!shares.has(spec.path)) shares.set(spec.path, await openIdbShare());
    }
    const openFs = (spec: FsDeviceSpec) => {
      const fs = shares.get(spec.path)!;
      void fs.closeAll(); // a reset: the old board's server is gone; keep what its open files hold
      return fs;
    };
    await runVm(module, config, channels, post, { openBlock: (spec) => opened.get(spec.image)!, openFs });
  } catch (e) {
    post({ type: "exit", reason: "error", message: e instanceof Error ? e.message : String(e), stats: { instructions: 0, wallSeconds: 0, mips: 0, resets: 0 } });
  }
};
