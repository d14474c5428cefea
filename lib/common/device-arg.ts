// A library device spec in the CLI's `--device` form, which the device parser checks
// (devices/vm/device-args.ts): the one form every side parses.
import type { DeviceSpec } from "./options.ts";

/** A device in the CLI's `--device` form. */
export function deviceArg(d: DeviceSpec | string): string {
  if (typeof d === "string") return d;
  const parts: string[] = [d.type, `transport=${d.transport}`];
  for (const [k, v] of Object.entries(d)) {
    if (k === "type" || k === "transport" || v === undefined || v === false) continue;
    parts.push(v === true ? k : `${k}=${v}`);
  }
  return parts.join(",");
}
