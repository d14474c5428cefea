// The paravirtual panic device, PCI variant (QEMU's pvpanic-pci, docs/specs/pvpanic.rst): one
// byte in BAR0 memory. A read returns the event bits the device recognizes; the guest writes an
// event when it happens. Linux's pvpanic-pci driver (drivers/misc/pvpanic/) reads the byte at
// probe to learn the events it may send, and writes PANICKED from its panic notifier — after the
// kernel has printed its "Kernel panic - not syncing" line — so the host learns of the panic at
// once instead of watching the guest spin in its panic loop.
import { PciFunction, W1, type BarSpec } from "./pci-host.ts";
import type { Region } from "./bus/region.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

/** Event bits (include/uapi/misc/pvpanic.h). */
export const PVPANIC_PANICKED = 1 << 0; // a panic the host should act on
export const PVPANIC_CRASH_LOADED = 1 << 1; // a panic a loaded crash kernel (kdump) will handle
/** What this device recognizes (the byte a read returns). */
export const PVPANIC_EVENTS = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;

export const PVPANIC_VENDOR_ID = 0x1b36; // Red Hat, QEMU's paravirtual devices
export const PVPANIC_DEVICE_ID = 0x0011;
/** Base class 08 (system peripheral), subclass 80 (other). */
const CLASS_SYSTEM_OTHER = 0x088000;
/** One byte is used; 16 is the smallest memory BAR (PCI 3.0 §6.2.5.1). */
const BAR0: BarSpec = { index: 0, kind: "mem32", size: 16 };

export interface PvPanicOptions {
  /** The guest reported `events` (PVPANIC_* bits it wrote that the device recognizes). */
  onEvent: (events: number) => void;
}

export class PvPanic implements Stateful {
  readonly fn: PciFunction;
  /** BAR0's register window, for attachBars. */
  readonly regions: readonly (Region | undefined)[];
  /**
   * The guest's driver read the event byte (its probe does): a panic will be reported here, so
   * the host need not watch the console for it.
   */
  armed = false;

  /** Snapshot fields (devices/state/): the PCI function is a component of its own. */
  readonly stateTable: StateTable = { armed: "bool" };

  constructor(opts: PvPanicOptions) {
    this.fn = new PciFunction({
      name: "pvpanic", vendorId: PVPANIC_VENDOR_ID, deviceId: PVPANIC_DEVICE_ID, classCode: CLASS_SYSTEM_OTHER,
      revision: 1, subsystemVendorId: PVPANIC_VENDOR_ID, subsystemId: PVPANIC_DEVICE_ID, bars: [BAR0],
    });
    this.regions = [{
      name: "pvpanic", base: 0, size: BAR0.size, widths: W1,
      registers: [{ offset: 0, name: "EVENTS", access: "rw", ref: "QEMU docs/specs/pvpanic.rst" }],
      read: (off) => {
        if (off !== 0) return 0;
        this.armed = true;
        return PVPANIC_EVENTS;
      },
      write: (off, _w, v) => {
        // Bits the device does not recognize are ignored (the spec); a write of none is no event.
        const events = v & PVPANIC_EVENTS;
        if (off === 0 && events !== 0) opts.onEvent(events);
      },
    }];
  }
}
