/**
 * `vireo` (also `vireo/node`): a virtual PC that boots Linux headless in a Node worker thread —
 * {@link Vm}. Everything a user may import is exported here; nothing else is public.
 *
 * @module vireo
 */
export { Vm, type VmEvents, type WaitOptions, type ExecOptions, type ExecResult, type VmLiveStats } from "./vm.ts";
export type { VmOptions, DeviceSpec, DeviceTypeName, TransportName, IrqMode, ClockMode } from "./options.ts";
export { VmOptionsError, GuestPanic, VmStopped, VmTimeout, type VmExit, type VmStats, type ExitReason } from "./errors.ts";
export { guestImages, type GuestImages } from "./guest-images.ts";
