/**
 * `vireo` (also `vireo/node`): a virtual PC that boots Linux headless in a Node worker thread —
 * {@link Vm}. Everything a user may import is exported here; nothing else is public.
 *
 * @module vireo
 */
export { Vm } from "./vm.ts";
export { VmBase, type VmEvents, type WaitOptions, type ExecOptions, type ExecResult, type VmLiveStats } from "../common/vm-base.ts";
export type { VmOptions, MachineOptions, DeviceSpec, DeviceTypeName, TransportName, IrqMode, ClockMode } from "../common/options.ts";
export { VmOptionsError, GuestPanic, VmStopped, VmTimeout, type VmExit, type VmStats, type ExitReason } from "../common/errors.ts";
export { guestImages, type GuestImages } from "./guest-images.ts";
