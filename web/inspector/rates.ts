// Exits per second from two snapshots: traps by kind (PIO, MMIO), per device, interrupts, and
// traps per request — the figures the issue asks for, computed on the page from counters the
// worker keeps anyway (no timing in the worker). Pure, for a unit test.
import type { InspectSnapshot } from "../../devices/inspect/snapshot.ts";

export interface DeviceRates {
  name: string;
  trapsPerS: number;
  /** The same traps by kind: port I/O (legacy BAR, PCI config) and MMIO (modern BAR, mmio window). */
  pioPerS: number;
  mmioPerS: number;
  notificationsPerS: number;
  interruptsPerS: number;
  requestsPerS: number;
  /** Traps per request over the interval (null: no request completed). */
  trapsPerRequest: number | null;
}

export interface Rates {
  seconds: number;
  pioPerS: number;
  mmioPerS: number;
  interruptsPerS: number;
  devices: DeviceRates[];
}

export function rates(a: InspectSnapshot, b: InspectSnapshot): Rates | null {
  const seconds = (b.takenMs - a.takenMs) / 1000;
  if (!(seconds > 0)) return null;
  const per = (x: number) => x / seconds;
  return {
    seconds,
    pioPerS: per(delta32(a.traps.pio, b.traps.pio)),
    mmioPerS: per(delta32(a.traps.mmio, b.traps.mmio)),
    interruptsPerS: per(delta32(a.interrupts, b.interrupts)),
    devices: b.devices.map((d) => {
      const o = a.devices.find((x) => x.name === d.name);
      const traps = o ? d.accessCount - o.accessCount : 0;
      const requests = o ? d.stats.requests - o.stats.requests : 0;
      return {
        name: d.name,
        trapsPerS: per(traps),
        pioPerS: per(o ? d.trapsByKind.pio - o.trapsByKind.pio : 0),
        mmioPerS: per(o ? d.trapsByKind.mmio - o.trapsByKind.mmio : 0),
        notificationsPerS: per(o ? d.stats.notifications - o.stats.notifications : 0),
        interruptsPerS: per(o ? d.stats.interrupts - o.stats.interrupts : 0),
        requestsPerS: per(requests),
        trapsPerRequest: requests > 0 ? traps / requests : null,
      };
    }),
  };
}

/** The run page's counters are u32 and wrap. */
function delta32(a: number, b: number): number {
  return (b - a + 0x1_0000_0000) % 0x1_0000_0000;
}
