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
import { BASE_SECTION, CONFIG_SECTION, RAM_SECTION, RAM_WRITTEN_SECTION, loadMachine, saveMachine } from "./machine.ts";
import { StateError, StateReader, StateWriter } from "./wire.ts";

export { StateError };

/**
 * A state, checked and split: its configuration and its sections. An increment (a state that
 * holds only the RAM pages written since another) names its base by that state's identity
 * (stateId); a chain read by readSnapshotChain is a whole state again, whose RAM is the base's
 * with each increment's pages over it (`written`, oldest first).
 */
export interface StateImage {
  config: SavedConfig;
  sections: Map<string, Section>;
  /** The identity of the state this one is an increment over; null for a whole state. */
  base: string | null;
  written: Uint8Array[];
}

/** A state file's identity: the SHA-256 of its bytes (what an increment names as its base). */
export async function stateId(bytes: Uint8Array): Promise<string> {
  return (await bytesId(bytes)).sha256;
}

/** The disk behind a placed blk device, if it is one. */
function diskOf(board: PcBoard, i: number): BlockBackend | null {
  const p = board.virtio[i]!;
  return isBlockSpec(p.spec) ? (p.device as unknown as { backend: BlockBackend }).backend : null;
}

/**
 * The state file of `board` (quiesced: no device waiting for host I/O) booted from `vm`. With
 * `base` (the identity of the last state saved or loaded on this board) it is an increment over
 * that state: only the RAM pages written since. Either way it is the new base.
 */
export async function saveSnapshot(board: PcBoard, vm: VmConfig, atPrompt: boolean, base?: string): Promise<Uint8Array> {
  const disks = [];
  for (let i = 0; i < board.virtio.length; i++) {
    const d = diskOf(board, i);
    if (d) disks.push({ device: i, id: await diskId(d) });
  }
  // The machine is cut after every await: nothing runs between the cut and the file.
  const sections = saveMachine(board, base !== undefined);
  if (base !== undefined) sections.unshift({ name: BASE_SECTION, schema: 0, body: new TextEncoder().encode(base) });
  const config: SavedConfig = {
    memMiB: vm.memMiB, clock: vm.clock, cmdline: vm.cmdline, apic: vm.apic ?? false, jit: vm.jit ?? null,
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
  const b = sections.get(BASE_SECTION);
  const base = b ? new TextDecoder().decode(b.body) : null;
  if (base !== null && !/^[0-9a-f]{64}$/.test(base)) throw new StateError("damaged state file: its base is not a state identity");
  if (!sections.has(base === null ? RAM_SECTION : RAM_WRITTEN_SECTION)) throw new StateError("damaged state file: no RAM");
  return { config, sections, base, written: [] };
}

/**
 * A whole state from a base state and its increments, oldest first: each must name the one
 * before it as its base (by identity), or the chain is refused. The newest file's components
 * and configuration are the machine; RAM is the base's with every increment's pages over it.
 */
export async function readSnapshotChain(files: readonly Uint8Array[]): Promise<StateImage> {
  const ids: string[] = [];
  for (const f of files.slice(0, -1)) ids.push(await stateId(f));
  return snapshotChain(files, ids);
}

/** readSnapshotChain with the identities of every file but the last already known (`ids`). */
export function snapshotChain(files: readonly Uint8Array[], ids: readonly string[]): StateImage {
  if (files.length === 0) throw new StateError("no state");
  const first = readSnapshot(files[0]!);
  if (first.base !== null) throw new StateError("the state is an increment: it needs the state it was saved after (its base)");
  let image = first;
  for (let i = 1; i < files.length; i++) {
    const next = readSnapshot(files[i]!);
    const prev = ids[i - 1]!;
    if (next.base !== prev) throw new StateError(`increment ${i} was not saved after the state before it (its base is ${next.base === null ? "none: it is a whole state" : next.base.slice(0, 12)}, that state is ${prev.slice(0, 12)})`);
    if (next.config.memMiB !== first.config.memMiB) throw new StateError(`increment ${i} has ${next.config.memMiB} MiB of RAM, its base ${first.config.memMiB} MiB`);
    image = { ...next, sections: new Map([...next.sections, [RAM_SECTION, first.sections.get(RAM_SECTION)!]]), base: null, written: [...image.written, next.sections.get(RAM_WRITTEN_SECTION)!.body] };
  }
  return image;
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
  if (image.base !== null) throw new StateError("the state is an increment: it needs the state it was saved after (its base)");
  for (const { device, id } of image.config.disks) {
    const d = device < board.virtio.length ? diskOf(board, device) : null;
    if (!d) throw new StateError(`damaged state file: device ${device + 1} is not a disk`);
    const now = await diskId(d);
    if (now.size !== id.size) throw new StateError(`disk ${String(board.virtio[device]!.spec.image)}: ${now.size} bytes, the state was saved with a ${id.size}-byte disk`);
    if (now.sha256 !== id.sha256) throw new StateError(`disk ${String(board.virtio[device]!.spec.image)} is not the disk the state was saved with (its contents changed since)`);
  }
  loadMachine(board, image.sections, image.written);
}
