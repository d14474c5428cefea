// --restore FILE: the VmConfig of a resumed machine. Memory, clock, board, command line and JIT
// are the state's; the kernel and initrd are the ones given (the worker checks they are the ones
// the state booted); devices are the state's, with host files and folders from the command
// line's --device options (devices/state/config.ts matchDevices). Every refusal is one line.
import { readFileSync, statSync } from "node:fs";
import type { VmConfig } from "../devices/vm/config.ts";
import { StateError } from "../devices/state/snapshot.ts";
import { restoredConfigFrom } from "../devices/state/restored-config.ts";

export { restoredConfigFrom };

/** Larger than any state this board makes (2000 MiB of RAM, incompressible): not read at all. */
const MAX_STATE_BYTES = 2100 * 1048576;

/** The VmConfig of the state in `files` (a whole state, then its increments, oldest first):
 *  the newest one's board; the worker checks the chain (devices/state/snapshot.ts). */
export function restoredConfig(files: readonly string[], given: VmConfig): VmConfig {
  return restoredConfigFrom(files.map(readStateFile), given);
}

/** The bytes of a state file, or a StateError line saying why they cannot be read. */
export function readStateFile(file: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new StateError(`state file '${file}' is not a file`);
    if (st.size > MAX_STATE_BYTES) throw new StateError(`state file '${file}' is ${st.size} bytes: larger than any state`);
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    if (e instanceof StateError) throw e;
    throw new StateError(`cannot read state file '${file}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return bytes;
}
