// Saving and resuming a machine, as the VM worker does it: a state file is the header (file.ts),
// the board configuration (config.ts) and every component (machine.ts). Disks are not in it: each
// is named by its identity (digest.ts), and a resume refuses a disk that is not the one saved.
import { CORE_BUILD_ID } from "../../core-wasm/build/build-id.ts";
import type { PcBoard } from "../board/pc.ts";
import type { BlockBackend } from "../host/block.ts";
import { isBlockSpec } from "../registry.ts";
import type { VmConfig } from "../vm/config.ts";
import { parseSavedConfig, type SavedConfig, MAX_CONFIG } from "./config.ts";
import { bytesId, diskId, sameContent } from "./digest.ts";
import { readStateFile, writeStateFile, type Section } from "./file.ts";
import { CONFIG_SECTION, loadMachine, saveMachine } from "./machine.ts";
import { StateError, StateReader, StateWriter } from "./wire.ts";

export { StateError };

/** A state file, checked and split: its configuration and its sections. */
export interface StateImage {
  config: SavedConfig;
  sections: Map<string, Section>;
}

/** The disk behind a placed blk device, if it is one. */
function diskOf(board: PcBoard, i: number): BlockBackend | null {
  const p = board.virtio[i]!;
  return isBlockSpec(p.spec) ? (p.device as unknown as { backend: BlockBackend }).backend : null;
}

/** The state file of `board` (quiesced: no device waiting for host I/O) booted from `vm`. */
export async function saveSnapshot(board: PcBoard, vm: VmConfig, atPrompt: boolean): Promise<Uint8Array> {
  const sections = saveMachine(board);
  const disks = [];
  for (let i = 0; i < board.virtio.length; i++) {
    const d = diskOf(board, i);
    if (d) disks.push({ device: i, id: await diskId(d) });
  }
  const config: SavedConfig = {
    memMiB: vm.memMiB, clock: vm.clock, cmdline: vm.cmdline, apic: vm.apic ?? false, acpi: vm.acpi ?? false, jit: vm.jit ?? null,
    pvpanic: vm.pvpanic ?? true, guestDecompress: vm.guestDecompress ?? false, devices: vm.devices ?? [],
    kernel: await bytesId(vm.kernel), initrd: vm.initrd ? await bytesId(vm.initrd) : null, disks, atPrompt,
  };
  const w = new StateWriter();
  w.str(JSON.stringify(config));
  return writeStateFile(CORE_BUILD_ID, [{ name: CONFIG_SECTION, schema: 0, body: w.finish().slice() }, ...sections]);
}

/** Check a state file's header, checksum, build and configuration (nothing is built yet). */
export function readSnapshot(bytes: Uint8Array): StateImage {
  const sections = readStateFile(bytes, CORE_BUILD_ID);
  const c = sections.get(CONFIG_SECTION);
  if (!c) throw new StateError("damaged state file: no board configuration");
  const r = new StateReader(c.body, "board configuration");
  const config = parseSavedConfig(r.str(MAX_CONFIG, "the configuration"));
  r.end();
  return { config, sections };
}

/** Is what the host gave for the kernel and initrd what the state booted? A StateError if not. */
export async function checkImages(image: StateImage, kernel: Uint8Array, initrd: Uint8Array | undefined): Promise<void> {
  if (!sameContent(image.config.kernel, await bytesId(kernel))) throw new StateError("the state was saved with another kernel (give the same --kernel)");
  const saved = image.config.initrd;
  if ((saved === null) !== (initrd === undefined) || (saved && initrd && !sameContent(saved, await bytesId(initrd)))) {
    throw new StateError("the state was saved with another initrd (give the same --initrd)");
  }
}

/**
 * Resume `board` — built from the state's configuration, not booted — from `image`. Each disk
 * must be the one saved (size and content); then every component loads.
 */
export async function restoreSnapshot(board: PcBoard, image: StateImage): Promise<void> {
  for (const { device, id } of image.config.disks) {
    const d = device < board.virtio.length ? diskOf(board, device) : null;
    if (!d) throw new StateError(`damaged state file: device ${device + 1} is not a disk`);
    const now = await diskId(d);
    if (now.size !== id.size) throw new StateError(`disk ${String(board.virtio[device]!.spec.image)}: ${now.size} bytes, the state was saved with a ${id.size}-byte disk`);
    if (now.sha256 !== id.sha256) throw new StateError(`disk ${String(board.virtio[device]!.spec.image)} is not the disk the state was saved with (its contents changed since)`);
  }
  loadMachine(board, image.sections);
}
