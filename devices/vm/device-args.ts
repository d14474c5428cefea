// `--device` text → a VirtioDeviceSpec, checked against the device registry, and the checks of a
// whole device list the board needs. Host-free: where a file or folder option names something
// is the caller's to check (the CLI: a path on this machine; the browser library: a disk it was
// given), so the CLI, the Node library and the browser library take the same device options
// with the same messages.
import type { VirtioDeviceSpec } from "./config.ts";
import { BUS_SLOTS, DEVICE_TYPES, TRANSPORTS, TRANSPORT_NAMES, deviceType, isTransportName, transportDef, type OptionDef } from "../registry.ts";
import { optionField, type OptionValue } from "../virtio/device-type.ts";
import { IRQ_MODES, type Bus, type IrqMode } from "../virtio/transports.ts";

/** A wrong option: one line for a person, never a stack trace. */
export class UsageError extends Error {}

/** Checks a `file` or `dir` option's value where it is opened; throws a UsageError if it is not right. */
export type PathCheck = (text: string, option: OptionDef, value: string) => void;

/** `blk,transport=mmio-v2,image=disk.img,readonly` → a VirtioDeviceSpec (or one UsageError line). */
export function parseDeviceArg(text: string, memMiB: number, checkPath: PathCheck): VirtioDeviceSpec {
  const [typeName = "", ...rest] = text.split(",");
  const type = deviceType(typeName);
  if (!type) throw new UsageError(`--device '${text}': type must be one of ${DEVICE_TYPES.map((t) => t.name).join(", ")}, not '${typeName}'`);
  const kv = new Map<string, string | true>();
  for (const item of rest) {
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    if (kv.has(key)) throw new UsageError(`--device '${text}': '${key}' given twice`);
    kv.set(key, eq < 0 ? true : item.slice(eq + 1));
  }
  const allowed = ["transport", ...type.options.map((o) => o.key), "irq"];
  for (const key of kv.keys()) {
    if (!allowed.includes(key)) throw new UsageError(`--device '${text}': unknown option '${key}' for ${type.name} (allowed: ${allowed.join(", ")})`);
  }
  const transport = kv.get("transport");
  if (typeof transport !== "string" || !isTransportName(transport)) {
    throw new UsageError(`--device '${text}': transport=T is required, T one of ${TRANSPORT_NAMES.join(", ")}`);
  }
  const t = transportDef(transport);
  if (type.transports && !type.transports(t)) {
    const ok = TRANSPORTS.filter(type.transports).map((x) => x.name);
    throw new UsageError(`--device '${text}': ${type.transportsWhy ?? `${type.name} does not work on ${transport}`}: use ${listOr(ok)}`);
  }
  const spec: VirtioDeviceSpec = { type: type.name, transport };
  for (const o of type.options) {
    const v = kv.get(o.key);
    if (v === undefined) {
      if (o.required) throw new UsageError(`--device '${text}': ${type.name} needs ${o.key}=${o.meta ?? o.choices?.join("|") ?? "VALUE"}`);
      continue;
    }
    const value = optionValue(text, type.name, o, v, checkPath);
    const why = o.check?.(value, { memMiB });
    if (why) throw new UsageError(`--device '${text}': ${why}`);
    spec[optionField(o)] = value;
  }
  const irq = kv.get("irq");
  if (irq !== undefined) {
    if (typeof irq !== "string" || !(IRQ_MODES as readonly string[]).includes(irq)) throw new UsageError(`--device '${text}': irq must be ${listOr(IRQ_MODES)}, not '${irq === true ? "" : irq}'`);
    const mode = irq as IrqMode;
    if (mode !== "intx" && t.msi !== mode) {
      const on = TRANSPORTS.filter((x) => x.msi === mode);
      const buses = new Set(on.map((x) => x.bus));
      const where = buses.size === 1 && on.length === TRANSPORTS.filter((x) => buses.has(x.bus)).length ? `virtio-${[...buses][0]} transports` : listOr(on.map((x) => x.name));
      throw new UsageError(`--device '${text}': irq=${mode} is for ${where}`);
    }
    spec.irq = mode;
  }
  return spec;
}

/** One option's value from `key=value` (or a bare `key`), checked against its kind. */
function optionValue(text: string, typeName: string, o: OptionDef, v: string | true, checkPath: PathCheck): OptionValue {
  if (o.kind === "flag") {
    if (v !== true) throw new UsageError(`--device '${text}': ${o.key} takes no value`);
    return true;
  }
  if (v === true || (v === "" && o.kind !== "string")) throw new UsageError(`--device '${text}': ${typeName} needs ${o.key}=${o.meta ?? o.choices?.join("|") ?? "VALUE"}`);
  switch (o.kind) {
    case "int":
      if (!/^\d+$/.test(v)) throw new UsageError(`--device '${text}': ${o.key}=${o.meta ?? "N"} takes a whole number${o.unit ? ` of ${o.unit}` : ""}`);
      return Number(v);
    case "choice":
      if (!o.choices?.includes(v)) throw new UsageError(`--device '${text}': ${typeName} needs ${o.key}=${o.choices?.join("|") ?? ""}`);
      return v;
    case "file":
    case "dir":
      checkPath(text, o, v);
      return v;
    default:
      return v;
  }
}

/** "a, b or c". */
export function listOr(xs: readonly string[]): string {
  return xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} or ${xs[xs.length - 1]}`;
}

/** Combinations the board cannot place: one line each. */
export function checkPlacement(specs: readonly VirtioDeviceSpec[]): void {
  for (const t of DEVICE_TYPES) {
    const mine = specs.filter((d) => d.type === t.name);
    if (t.maxInstances !== undefined && mine.length > t.maxInstances) {
      throw new UsageError(`--device: at most ${t.maxInstances === 1 ? "one" : t.maxInstances} ${t.name} device${t.maxInstances === 1 ? "" : "s"}${t.roles?.includes("terminal") ? " (it owns the console)" : ""}`);
    }
    for (const o of t.options) {
      if (o.unique) {
        const values = mine.map((d) => d[optionField(o)] ?? o.default);
        if (new Set(values).size !== values.length) throw new UsageError(`--device: two ${t.name} devices with the same ${o.key}`);
      }
    }
  }
  for (const bus of Object.keys(BUS_SLOTS) as Bus[]) {
    const n = specs.filter((d) => transportDef(d.transport).bus === bus).length;
    if (n > BUS_SLOTS[bus]) throw new UsageError(`--device: at most ${BUS_SLOTS[bus]} virtio-${bus} devices (${bus === "pci" ? "bus 0 slots" : "one free IRQ each"})`);
  }
}

