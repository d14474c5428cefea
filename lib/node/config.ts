// VmOptions → the VmConfig the worker runs. The options are turned into the CLI's own arguments
// and parsed by the CLI's parser (cli/options.ts), so both take the same options, with the same
// defaults, checks and messages.
import { parseOptions, UsageError } from "../../cli/options.ts";
import { readStateFile, restoredConfigFrom } from "../../cli/restore.ts";
import { parseBzImage, BootError } from "../../devices/board/linux-boot.ts";
import { StateError } from "../../devices/state/wire.ts";
import type { VmConfig } from "../../devices/vm/config.ts";
import type { IrqMode as CoreIrqMode, TransportName as CoreTransportName } from "../../devices/virtio/transports.ts";
import { VmOptionsError } from "../common/errors.ts";
import type { IrqMode, TransportName, VmOptions } from "../common/options.ts";
import { deviceArg } from "../common/device-arg.ts";

// The public names are the registry's (a compile-time check, so they cannot drift apart).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const transportsMatch: Same<TransportName, CoreTransportName> = true;
const irqModesMatch: Same<IrqMode, CoreIrqMode> = true;
void transportsMatch, irqModesMatch;

/** The CLI arguments that say what `o` says (bytes given for the kernel or initrd are set after). */
function cliArgs(o: VmOptions): string[] {
  const a: string[] = [];
  if (typeof o.kernel === "string") a.push(`--kernel=${o.kernel}`);
  if (typeof o.initrd === "string") a.push(`--initrd=${o.initrd}`);
  if (o.initrd === null) a.push("--initrd=none");
  if (o.append !== undefined) a.push(`--append=${o.append}`);
  if (o.memoryMiB !== undefined) a.push(`--mem=${o.memoryMiB}`);
  if (o.clock !== undefined) a.push(`--clock=${o.clock}`);
  if (o.jit !== undefined) a.push(`--jit=${o.jit}`);
  if (o.apic) a.push("--apic");
  if (o.guestDecompress) a.push("--guest-decompress");
  a.push(o.reboot ? "--reboot" : "--no-reboot");
  for (const d of o.devices ?? []) a.push(`--device=${deviceArg(d)}`);
  // The state's own settings are refused by the parser when a state is given.
  if (o.state !== undefined) a.push("--restore=-");
  return a;
}

/** The VmConfig for `o`, checked as the CLI checks its options; a VmOptionsError if it is not right. */
export function vmConfig(o: VmOptions): VmConfig {
  try {
    const parsed = parseOptions(cliArgs(o));
    if (parsed === "help") throw new VmOptionsError("unexpected help"); // not reachable: no --help is given
    const config = parsed.vm;
    if (o.kernel instanceof Uint8Array) config.kernel = o.kernel;
    if (o.initrd instanceof Uint8Array) config.initrd = o.initrd;
    if (o.kernel instanceof Uint8Array && o.kernel.length === 0) throw new UsageError("kernel: no bytes");
    parseBzImage(config.kernel); // a bad kernel is refused here, before any thread starts
    config.script = { ...config.script, cmds: [], expect: undefined };
    if (o.state === undefined) return config;
    return restoredConfigFrom([typeof o.state === "string" ? readStateFile(o.state) : o.state], config);
  } catch (e) {
    if (e instanceof UsageError || e instanceof BootError || e instanceof StateError) throw new VmOptionsError(e.message);
    throw e;
  }
}

