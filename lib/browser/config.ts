// BrowserVmOptions → the VmConfig a page's VM worker runs, with the CLI's own checks and messages
// where they apply (devices/vm/device-args.ts, devices/state/restored-config.ts). What a page
// cannot have is refused in one line: host files and folders (a disk is bytes given in `disks`),
// and the NAT (its sockets are Node's).
import { DEFAULT_CMDLINE, READY_LINE, type VirtioDeviceSpec, type VmConfig } from "../../devices/vm/config.ts";
import { UsageError, checkPlacement, parseDeviceArg, type PathCheck } from "../../devices/vm/device-args.ts";
import { BootError, parseBzImage } from "../../devices/board/linux-boot.ts";
import { StateError } from "../../devices/state/wire.ts";
import { restoredConfigFrom } from "../../devices/state/restored-config.ts";
import { deviceArg } from "../common/device-arg.ts";
import { VmOptionsError } from "../common/errors.ts";
import type { MachineOptions } from "../common/options.ts";

/** A `file` option names a disk in `disks`; a folder (9p) is not available in a page. */
function diskNamed(disks: Readonly<Record<string, Uint8Array>>): PathCheck {
  return (text, o, v) => {
    if (o.kind === "dir") throw new UsageError(`--device '${text}': a shared folder is not available in the browser (no host folders in a page)`);
    const bytes = Object.hasOwn(disks, v) ? disks[v] : undefined;
    if (!bytes) throw new UsageError(`--device '${text}': no disk '${v}' in the disks option (${Object.keys(disks).map((k) => `'${k}'`).join(", ") || "none given"})`);
    const why = o.checkSize?.(bytes.length);
    if (why) throw new UsageError(`--device '${text}': ${o.key} '${v}' ${why}`);
  };
}

/** The options checked, as the CLI checks its own; a VmOptionsError if one is not right. */
export function checkOptions(o: MachineOptions, disks: Readonly<Record<string, Uint8Array>>): VmConfig & { kernel: Uint8Array } {
  try {
    const memMiB = o.memoryMiB ?? 128;
    if (!Number.isInteger(memMiB) || memMiB < 16 || memMiB > 2000) throw new UsageError(`--mem must be a whole number of MiB from 16 to 2000, not '${o.memoryMiB}'`);
    const clock = o.clock ?? "realtime";
    if (clock !== "realtime" && clock !== "deterministic") throw new UsageError(`--clock must be 'realtime' or 'deterministic', not '${String(clock)}'`);
    const jit = o.jit === undefined ? undefined : o.jit === "off" ? 0 : o.jit;
    if (jit !== undefined && !(Number.isInteger(jit) && jit >= 0 && jit <= 1e9)) throw new UsageError(`--jit must be 'off' or a whole number of executions before a block is translated, not '${String(o.jit)}'`);
    const devices: VirtioDeviceSpec[] = (o.devices ?? []).map((d) => {
      const text = deviceArg(d);
      const spec = parseDeviceArg(text, memMiB, diskNamed(disks));
      if (spec.backend === "nat") throw new UsageError(`--device '${text}': backend=nat is not available in the browser (its NAT uses Node's sockets): use backend=host`);
      return spec;
    });
    checkPlacement(devices);
    const images = devices.map((d) => d.image).filter((x) => typeof x === "string");
    if (new Set(images).size !== images.length) throw new UsageError("--device: one disk is the image of two blk devices (each would cache its file system and corrupt it)");
    return {
      kernel: new Uint8Array(0), // the images are fetched by start()
      cmdline: o.append ?? DEFAULT_CMDLINE,
      memMiB,
      clock,
      script: { cmds: [], ready: READY_LINE },
      devices,
      guestDecompress: o.guestDecompress ?? false,
      noReboot: !o.reboot,
      ...(o.apic ? { apic: true } : {}),
      ...(jit !== undefined ? { jit } : {}),
    };
  } catch (e) {
    if (e instanceof UsageError) throw new VmOptionsError(e.message);
    throw e;
  }
}

/** The config with its images, checked: the kernel parsed, a state's board taken from the state. */
export function withImages(config: VmConfig, kernel: Uint8Array, initrd: Uint8Array | undefined, state: Uint8Array | undefined): VmConfig {
  try {
    if (kernel.length === 0) throw new UsageError("kernel: no bytes");
    parseBzImage(kernel); // a bad kernel is refused here, before the worker starts
    const c: VmConfig = { ...config, kernel, ...(initrd ? { initrd } : {}) };
    return state ? restoredConfigFrom([state], c) : c;
  } catch (e) {
    if (e instanceof UsageError || e instanceof BootError || e instanceof StateError) throw new VmOptionsError(e.message);
    throw e;
  }
}
