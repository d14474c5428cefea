// The whole CPU against a real kernel: guest-images/bzImage boots on core.wasm with the
// platform chips (PIC, PIT, UART, CMOS, i8042) until it panics for want of a root device —
// decompressor, paging, the IDT, timer interrupts, CPUID/MSR/TSC all have to work for that.
// Deterministic clock, no initrd; skipped when the image has not been built.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import * as L from "../../core-wasm/build/layout.ts";
import { instantiateCore, type Core } from "../../core-wasm/loader.ts";
import { VirtualClock, earliestDeadline, advanceAll, type Timed } from "../../devices/clock.ts";
import { PortBus } from "../../devices/bus/ports.ts";
import { PicPair } from "../../devices/i8259.ts";
import { Pit } from "../../devices/i8254.ts";
import { Uart16550 } from "../../devices/uart16550.ts";
import { Cmos } from "../../devices/cmos.ts";
import { I8042 } from "../../devices/i8042.ts";
import { loadLinux } from "../../devices/board/linux-boot.ts";

const image = new URL("../../guest-images/bzImage", import.meta.url);
const skip = existsSync(image) ? false : "guest-images/bzImage is not built";

test("Linux boots to the root-mount panic on core.wasm", { skip, timeout: 120_000 }, () => {
  const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
  const RAM = 64 << 20;
  let core!: Core;
  const clock = new VirtualClock({
    mode: "deterministic",
    instret: () => (core.runPage[L.RUN_INSTRET_LO >> 2]! >>> 0) + (core.runPage[L.RUN_INSTRET_HI >> 2]! >>> 0) * 2 ** 32,
  });
  const ports = new PortBus();
  let console = "";
  let resetRequested = false;
  const pic = new PicPair({ onIntr: (level) => { core.runPage[L.RUN_INTR >> 2] = level ? 1 : 0; } });
  const pit = new Pit({ clock, irq0: (level) => pic.setIrq(0, level) });
  const uart = new Uart16550({ base: 0x3f8, irq: 4, clock, setIrq: (l) => pic.setIrq(4, l), onTransmit: (b) => { console += String.fromCharCode(b); } });
  const cmos = new Cmos({ clock, setIrq: (l: boolean) => pic.setIrq(8, l) });
  const kbd = new I8042({ requestReset: () => { resetRequested = true; } });
  for (const chip of [pic, pit, uart, cmos, kbd]) ports.registerAll(chip.ports);
  const timed: Timed[] = [pit, uart, cmos];

  core = instantiateCore(wasm, RAM, {
    trap() {
      const rp = core.runPage;
      const addr = rp[L.TRAP_ADDR >> 2]! >>> 0, size = rp[L.TRAP_SIZE >> 2]! as 1 | 2 | 4;
      if (rp[L.TRAP_KIND >> 2] === L.TRAP_PIO) {
        advanceAll(timed, clock.nowNs());
        if (rp[L.TRAP_WRITE >> 2]) ports.write(addr, size, rp[L.TRAP_DATA >> 2]! >>> 0);
        else rp[L.TRAP_DATA >> 2] = ports.read(addr, size);
      } else if (!rp[L.TRAP_WRITE >> 2]) rp[L.TRAP_DATA >> 2] = -1;
      if (resetRequested) rp[L.RUN_REQUEST >> 2] = L.EXIT_RESET;
    },
    intack: () => pic.intack(),
    rdtsc: () => clock.tsc(),
  });
  const cpu = core.exports as unknown as { setupFlat32(e: number): void; setReg(i: number, v: number): void; run(n: number): number; instret(): number };
  const boot = loadLinux({ kernel: readFileSync(image), cmdline: "console=ttyS0 panic=-1", ramBytes: RAM, ram: core.ram });
  cpu.setupFlat32(boot.entry);
  cpu.setReg(6, boot.esi);

  let exit = L.EXIT_BUDGET;
  while (cpu.instret() < 150e6) {
    exit = cpu.run(200_000);
    advanceAll(timed, clock.nowNs());
    if (exit === L.EXIT_HLT && !core.runPage[L.RUN_INTR >> 2]) {
      clock.idleUntil(earliestDeadline(timed));
      advanceAll(timed, clock.nowNs());
    } else if (exit !== L.EXIT_BUDGET && exit !== L.EXIT_HLT) break;
  }
  const tail = console.slice(-2000);
  assert.match(console, /Linux version 6\./, "the kernel printed its banner");
  assert.match(console, /Kernel panic - not syncing: VFS: Unable to mount root fs/, `console tail:\n${tail}`);
  assert.equal(exit, L.EXIT_RESET, "panic=-1 reboots through the keyboard controller");
});
