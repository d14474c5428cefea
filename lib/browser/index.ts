/**
 * `vireo/browser`: a virtual PC that boots Linux in a Web Worker of any page, its console in an
 * xterm.js terminal on the page — {@link BrowserVm}. The page must be cross-origin isolated
 * ({@link crossOriginIsolation}). Everything a user may import is exported here; nothing else is public.
 *
 * @module vireo/browser
 */
export { BrowserVm, type BrowserVmOptions } from "./browser-vm.ts";
export { crossOriginIsolation, IsolationError, type IsolationOptions } from "./isolation.ts";
export { VmBase, type VmEvents, type WaitOptions, type ExecOptions, type ExecResult, type VmLiveStats } from "../common/vm-base.ts";
export type { MachineOptions, DeviceSpec, DeviceTypeName, TransportName, IrqMode, ClockMode } from "../common/options.ts";
export { VmOptionsError, GuestPanic, VmStopped, VmTimeout, type VmExit, type VmStats, type ExitReason } from "../common/errors.ts";
