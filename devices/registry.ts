// The registry of virtio device types: one line per type, in the order --help and error messages
// list them. Each entry is declared in its device type's own file (devices/virtio/*.ts, the
// `DeviceType` of device-type.ts); the transports are declared in devices/virtio/transports.ts.
// The CLI, the page, the board, the bench and the inspector read both (docs/ARCHITECTURE.md
// "The device registry").
import type { BlockDeviceSpec, DeviceRole, DeviceType, FsDeviceSpec } from "./virtio/device-type.ts";
import type { VirtioDeviceSpec } from "./vm/config.ts";
import { blkType } from "./virtio/blk.ts";
import { consoleType } from "./virtio/console.ts";
import { rngType } from "./virtio/rng.ts";
import { balloonType } from "./virtio/balloon.ts";
import { inputType } from "./virtio/input.ts";
import { netType } from "./virtio/net.ts";
import { p9Type } from "./virtio/p9.ts";

export { TRANSPORTS, TRANSPORT_NAMES, BUS_SLOTS, transportDef, isTransportName, type TransportDef, type TransportName } from "./virtio/transports.ts";
export type { BlockDeviceSpec, DeviceType, DeviceRole, FsDeviceSpec, OptionDef, PageControl } from "./virtio/device-type.ts";

const types: DeviceType[] = [
  blkType,
  consoleType,
  rngType,
  balloonType,
  inputType,
  netType,
  p9Type,
];

/** Every device type, in registry order. */
export const DEVICE_TYPES: readonly DeviceType[] = types;

/**
 * Add a device type (an embedder's, or a test's): afterwards the CLI, the page's settings, the
 * board and the inspector know it, as they know the built-in ones. Names and ids are unique.
 */
export function registerDeviceType(t: DeviceType): void {
  if (types.some((x) => x.name === t.name)) throw new Error(`device type '${t.name}' is registered already`);
  if (types.some((x) => x.deviceId === t.deviceId)) throw new Error(`virtio device id ${t.deviceId} is registered already`);
  types.push(t);
}

/** The device type called `name`, or undefined. */
export function deviceType(name: string): DeviceType | undefined {
  return types.find((t) => t.name === name);
}

/** The device type with virtio device id `id`, or undefined. */
export function deviceTypeById(id: number): DeviceType | undefined {
  return types.find((t) => t.deviceId === id);
}

/** The device type that plays `role` for the host (the page's data disk, its keyboard …). */
export function deviceTypeWithRole(role: DeviceRole): DeviceType | undefined {
  return types.find((t) => t.roles?.includes(role));
}

/** A spec whose device type has a block backend, with the image the host opens. */
export function isBlockSpec(spec: VirtioDeviceSpec): spec is BlockDeviceSpec {
  return deviceType(spec.type)?.backend === "block" && typeof spec.image === "string";
}

/** A spec whose device type has a folder backend, with the folder the host opens. */
export function isFsSpec(spec: VirtioDeviceSpec): spec is FsDeviceSpec {
  return deviceType(spec.type)?.backend === "fs" && typeof spec.path === "string";
}

/** The device types the page offers, in the order it plugs them. */
export function pageDeviceTypes(): (DeviceType & { page: NonNullable<DeviceType["page"]> })[] {
  return types.filter((t): t is DeviceType & { page: NonNullable<DeviceType["page"]> } => t.page !== undefined)
    .sort((a, b) => a.page.order - b.page.order);
}
