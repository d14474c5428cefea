// The VmConfig of a resumed machine, from the state's own board description and what the host
// gives again (kernel, initrd, the devices' disks and folders). Host-free: the CLI, the Node
// library and the browser library resume through it.
import type { VmConfig } from "../vm/config.ts";
import { matchDevices } from "./config.ts";
import { readSnapshot } from "./snapshot.ts";

/** The VmConfig resuming the state `all` (whole, then increments), the host's images and files taken from `given`. */
export function restoredConfigFrom(all: readonly Uint8Array[], given: VmConfig): VmConfig {
  const { config: c } = readSnapshot(all[all.length - 1]!);
  return {
    ...given,
    memMiB: c.memMiB,
    clock: c.clock,
    cmdline: c.cmdline,
    guestDecompress: c.guestDecompress,
    pvpanic: c.pvpanic,
    devices: matchDevices(c.devices, given.devices ?? []),
    ...(c.apic ? { apic: true } : { apic: false }),
    ...(c.acpi ? { acpi: true } : {}),
    ...(c.jit !== null ? { jit: c.jit } : {}),
    restore: all[0]!,
    ...(all.length > 1 ? { increments: all.slice(1) } : {}),
  };
}
