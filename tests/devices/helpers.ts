// Shared test fixtures for device tests.
import { VirtualClock } from "../../devices/clock.ts";
import { PortBus } from "../../devices/bus/ports.ts";
import type { Region } from "../../devices/bus/region.ts";

/** A deterministic clock whose time the test sets directly (1 instruction = 1 ns). */
export function manualClock(): { clock: VirtualClock; set(ns: number): void; add(ns: number): void; readonly ns: number } {
  let instret = 0;
  const clock = new VirtualClock({ mode: "deterministic", instret: () => instret });
  return {
    clock,
    set(ns: number) { instret = ns; },
    add(ns: number) { instret += ns; },
    get ns() { return instret; },
  };
}

/** A port bus with `regions` registered, plus byte-wide helpers like the guest's inb/outb. */
export function busWith(...groups: (readonly Region[])[]): PortBus & {
  inb(p: number): number; outb(p: number, v: number): void; inl(p: number): number; outl(p: number, v: number): void;
  inw(p: number): number; outw(p: number, v: number): void;
} {
  const bus = new PortBus();
  for (const g of groups) bus.registerAll(g);
  return Object.assign(bus, {
    inb: (p: number) => bus.read(p, 1),
    outb: (p: number, v: number) => bus.write(p, 1, v),
    inw: (p: number) => bus.read(p, 2),
    outw: (p: number, v: number) => bus.write(p, 2, v),
    inl: (p: number) => bus.read(p, 4),
    outl: (p: number, v: number) => bus.write(p, 4, v),
  });
}

/** A simulated host running an emulator: instructions cost `nsPerInsn` host ns ± jitter. */
export function simHost(seed = 1) {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const sim = {
    hostNs: 0,
    instret: 0,
    nsPerInsn: 20,
    /** Execute n instructions; with probability `stall`, the host also stalls 3 ms (GC). */
    exec(n: number, stall = 0) {
      sim.instret += n;
      sim.hostNs += n * sim.nsPerInsn * (0.7 + 0.6 * rand());
      if (rand() < stall) sim.hostNs += 3_000_000;
    },
    sleep(ns: number) { sim.hostNs += ns; },
  };
  const clock = new VirtualClock({ mode: "realtime", instret: () => sim.instret, hostNowMs: () => sim.hostNs / 1e6, hostWallMs: () => 0 });
  return { sim, clock };
}
