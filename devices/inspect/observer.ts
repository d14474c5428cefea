// The inspector's observer of one transport: the last guest register accesses (AccessLog, filled
// only while someone looks), the device-status path the driver took, and step mode's hook on
// virtqueue events. Attached from power-on on a page VM (VmConfig.inspect), or on the first
// snapshot asked for; a transport without one records nothing (docs/ARCHITECTURE.md "The
// inspector").
import type { StatusStep, TransportObserver } from "../virtio/observer.ts";
import type { VirtioTransport } from "../virtio/transport.ts";
import { AccessLog } from "./access-log.ts";

/** Status steps kept (a driver makes about five per probe; resets start a new path). */
const STATUS_PATH_MAX = 32;

export class InspectorObserver implements TransportObserver {
  readonly log = new AccessLog();
  /** Device-status changes since the observer was attached, oldest first. */
  readonly statusPath: StatusStep[] = [];
  /**
   * Step mode: called on every queue notification (`notify` true) and queue interrupt, to stop
   * the vCPU right there. Returning true for a notification holds it (the transport delivers it
   * at releaseHeld()), so a paused VM shows the request in the available ring before the device
   * has taken it.
   */
  onEvent: ((notify: boolean) => boolean) | null = null;

  access(region: number, offset: number, width: number, write: boolean, value: number): void {
    if (write) this.log.write(region, offset, width, value);
    else this.log.read(region, offset, width, value);
  }

  status(step: StatusStep): void {
    if (this.statusPath.length === STATUS_PATH_MAX) this.statusPath.shift();
    this.statusPath.push(step);
  }

  event(notify: boolean): boolean {
    return this.onEvent !== null && this.onEvent(notify);
  }
}

/** The inspector's observer of `t`, attached now if it has none. */
export function observeTransport(t: VirtioTransport): InspectorObserver {
  if (t.observer instanceof InspectorObserver) return t.observer;
  const o = new InspectorObserver();
  t.observer = o;
  return o;
}
