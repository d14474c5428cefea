// The PC board: core.wasm plus the platform chips, wired the way an i440FX/PIIX-era PC wires
// them, and the firmware duties a BIOS would have done (PCI resources, CMOS memory size) for a
// direct Linux boot. It handles the core's traps synchronously (docs/ARCHITECTURE.md "The
// core and the trap record") and knows nothing about threads, terminals or scripts — devices/vm/ drives it.
import * as L from "../../core-wasm/build/layout.ts";
import { instantiateCore, type Core } from "../../core-wasm/loader.ts";
import { PortBus } from "../bus/ports.ts";
import { MmioBus } from "../bus/mmio.ts";
import type { Width } from "../bus/region.ts";
import { VirtualClock, advanceAll, earliestDeadline, type ClockMode, type Timed } from "../clock.ts";
import { PicPair } from "../i8259.ts";
import { LocalApic, LAPIC_VERSION, msiMessage } from "../lapic.ts";
import { IoApic } from "../ioapic.ts";
import { apicMpConfig, ISA_TO_IOAPIC_PIN, PIRQ_IOAPIC_PIN } from "./apic-wiring.ts";
import { writeMpTables } from "./mptable.ts";
import { Pit } from "../i8254.ts";
import { Uart16550 } from "../uart16550.ts";
import { Cmos } from "../cmos.ts";
import { PciHost, attachBars } from "../pci-host.ts";
import { PvPanic } from "../pvpanic.ts";
import { I8042 } from "../i8042.ts";
import { SystemControl } from "../system-control.ts";
import { assignPci } from "./pci-firmware.ts";
import { loadLinux, type DecompressedKernel, type LinuxBootResult } from "./linux-boot.ts";
import { placeVirtio, virtioStats, type PlacedVirtio, type VirtioHost } from "./virtio-devices.ts";
import type { VirtioDeviceSpec } from "../vm/config.ts";
import type { BlockBackend } from "../host/block.ts";
import { RamMemory } from "../virtio/guest-memory.ts";
import { hasCapability, type HostCapability, type VirtioDeviceInfo, type WithCapability } from "../virtio/device.ts";
import { LogLimiter } from "../log-limit.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

/** Register indices of the core's getReg/setReg. */
const REG_ESI = 6;

/** IA32_APIC_BASE at power-on: 0xFEE00000 | EN (bit 11) | BSP (bit 8). */
const APIC_BASE_EN = 1 << 11;
const APIC_BASE_POWER_ON = (0xfee0_0000 | APIC_BASE_EN | (1 << 8)) | 0;

/** The I/O APIC's id as firmware leaves it: unique next to the local APIC's 0. */
const IOAPIC_ID = 1;

/** A few harmless ports Linux and busybox touch on a PC: POST codes and the I/O delay port. */
const POST_PORTS = [0x80, 0xed];

export interface PcOptions {
  module: WebAssembly.Module;
  ramBytes: number;
  clock: ClockMode;
  /** Bytes the guest writes to the serial console (COM1). */
  onConsole: (byte: number) => void;
  log?: (message: string) => void;
  /** Virtio devices to plug (docs/ARCHITECTURE.md "Virtio"). */
  virtio?: readonly VirtioDeviceSpec[];
  /** Opens the backend of a virtio-blk spec (the host decides: file, memory, IndexedDB). */
  openBlock?: VirtioHost["openBlock"];
  /**
   * A local APIC, an I/O APIC and an MP table (the APIC path, apic-wiring.ts). Off: the
   * PIC-only board, whose CPU reports no APIC.
   */
  apic?: boolean;
  /** JIT threshold (VmConfig.jit); 0 or absent: interpret only. */
  jit?: number;
  /** Opens the folder of a virtio-9p spec. */
  openFs?: VirtioHost["openFs"];
  /**
   * The pvpanic PCI device (devices/pvpanic.ts), in the first free slot after the virtio
   * devices: the guest kernel reports its panics through it. Default on.
   */
  pvpanic?: boolean;
}

export interface LinuxImage {
  kernel: Uint8Array;
  /** The kernel's payload unpacked on the host (linux-boot.ts DecompressedKernel). */
  decompressed?: DecompressedKernel;
  initrd?: Uint8Array;
  cmdline: string;
}

/** The APIC path's chips: both or neither (PcOptions.apic). */
export interface ApicChips {
  readonly lapic: LocalApic;
  readonly ioapic: IoApic;
}

/** The first plugged device with host capability `k` (in --device order), typed as having it. */
function firstWith<K extends HostCapability>(placed: readonly PlacedVirtio[], k: K): WithCapability<K> | null {
  for (const p of placed) if (hasCapability(p.device, k)) return p.device;
  return null;
}

export class PcBoard implements Stateful {
  readonly core: Core;
  /** A byte per guest page, non-zero once written since the last snapshot (the core's
   *  DIRTY_PAGES; the core marks the CPU's writes, the guest memory below the devices'). */
  readonly writtenPages: Uint8Array;
  readonly clock: VirtualClock;
  readonly ports: PortBus;
  readonly mmio: MmioBus;
  readonly pic: PicPair;
  /** The APIC path's chips, or null on the PIC-only board. */
  readonly apic: ApicChips | null = null;
  readonly pit: Pit;
  readonly com1: Uart16550;
  readonly cmos: Cmos;
  readonly pci: PciHost;
  readonly kbc: I8042;
  readonly sysctl: SystemControl;
  readonly ramBytes: number;
  /** Devices with time-driven behaviour, advanced by the run loop. */
  readonly timed: Timed[];
  lastPostCode = 0;
  /** Plugged virtio devices, in --device order. */
  readonly virtio: PlacedVirtio[];
  /** `virtio_mmio.device=…` entries bootLinux appends to the command line. */
  private readonly virtioCmdline: string[];
  /** The first device that takes console input (a virtio-console), which then owns it. */
  private readonly virtioConsole: WithCapability<"consoleInput"> | null;
  /** The first device the host can ask for memory (a virtio-balloon). */
  private readonly balloon: WithCapability<"setTargetMiB"> | null;
  /** The first device that takes key presses (a virtio-input keyboard). */
  private readonly keyboard: WithCapability<"inputKey"> | null;
  private readonly rp: Int32Array; // the run page, as words
  /** Guest RAM as virtio devices (and the inspector's ring decoder) see it. */
  readonly mem: RamMemory;
  private readonly log: (message: string) => void;
  private readonly logLimit: LogLimiter;
  /** The pvpanic device, or null when the board has none. */
  readonly pvpanic: PvPanic | null = null;
  /** PVPANIC_* events the guest has reported (0: none); run() returns at the report. */
  panicEvents = 0;
  private msiDropped = 0;
  private booted = false;

  constructor(opts: PcOptions) {
    // Every chip, bus, transport and device logs through one rate limiter (log-limit.ts): a
    // guest repeating a bad access gets a few lines and a count, not one line per access.
    this.logLimit = new LogLimiter(opts.log ?? (() => {}));
    const log = (message: string) => this.logLimit.log(message);
    this.log = log;
    this.ramBytes = opts.ramBytes;
    this.ports = new PortBus(log);
    this.mmio = new MmioBus(log);
    // The core's imports close over the buses; they are only called from run().
    this.core = instantiateCore(opts.module, opts.ramBytes, {
      trap: () => this.trap(),
      intack: () => (this.apic ? this.apic.lapic.intack() : this.pic.intack()),
      rdtsc: () => this.clock.tsc(),
    });
    this.rp = this.core.runPage;
    this.core.setJit(opts.jit ?? 0);
    this.core.jit.background = true; // the run loop (devices/vm/session.ts) lets compiles finish
    // VIREO_JIT_NAMES=1 (Node): regions named after their guest EIP in CPU profiles (README, The JIT).
    this.core.jit.names = typeof process !== "undefined" && process.env?.VIREO_JIT_NAMES === "1";
    const exports = this.core.exports;
    this.clock = new VirtualClock({ mode: opts.clock, instret: () => exports.instret() });
    // Deterministic time may skip ahead in a spin-wait (devices/vm/session.ts, EXIT_PAUSE).
    this.rp[L.RUN_PAUSE_EXIT >> 2] = opts.clock === "deterministic" ? 1 : 0;

    const setIntr = (level: boolean) => void (this.rp[L.RUN_INTR >> 2] = level ? 1 : 0);
    let apic: ApicChips | null = null;
    if (opts.apic) {
      // The 8259's INTR goes to LINT0; the LAPIC drives the CPU's INTR (apic-wiring.ts). Each
      // chip calls the other only once the board runs, never while being built.
      const lapic: LocalApic = new LocalApic({
        clock: this.clock, setIntr, log,
        nmi: () => void (this.rp[L.RUN_NMI >> 2] = 1),
        extIntAck: () => this.pic.intack(),
        eoiBroadcast: (v) => ioapic.eoi(v),
      });
      const ioapic = new IoApic({
        send: (m) => lapic.accept(m), extInt: (on) => lapic.setExtIntViaIoapic(on), log,
        activeLowPins: PIRQ_IOAPIC_PIN,
      });
      ioapic.id = IOAPIC_ID;
      this.rp[L.RUN_APIC_BASE >> 2] = APIC_BASE_POWER_ON;
      this.mmio.map(lapic.region);
      this.mmio.map(ioapic.region);
      lapic.virtualWire();
      apic = { lapic, ioapic };
      this.apic = apic;
    }
    const lapic = apic?.lapic, ioapic = apic?.ioapic;
    this.pic = new PicPair({ onIntr: lapic ? (level) => lapic.setLint0(level) : setIntr });
    const setIsaIrq = ioapic
      ? (n: number, level: boolean) => { this.pic.setIrq(n, level); ioapic.setPin(ISA_TO_IOAPIC_PIN[n]!, level); }
      : (n: number, level: boolean) => this.pic.setIrq(n, level);
    const irq = (n: number) => (level: boolean) => setIsaIrq(n, level);
    this.pit = new Pit({ clock: this.clock, irq0: irq(0) });
    this.com1 = new Uart16550({ base: 0x3f8, irq: 4, clock: this.clock, setIrq: irq(4), onTransmit: opts.onConsole, name: "com1" });
    this.cmos = new Cmos({ clock: this.clock, setIrq: irq(8) });
    this.cmos.setMemorySize(opts.ramBytes);
    this.pci = new PciHost();
    const requestReset = () => void (this.rp[L.RUN_REQUEST >> 2] = L.EXIT_RESET);
    const kbc = this.kbc = new I8042({ requestReset, setIrq: irq(1) });
    const sysctl = this.sysctl = new SystemControl({ requestReset });

    for (const chip of [this.pic, this.pit, this.com1, this.cmos, this.pci, kbc, sysctl]) this.ports.registerAll(chip.ports);
    for (const port of POST_PORTS) {
      this.ports.register({
        name: "post", base: port, size: 1, widths: 1,
        read: () => this.lastPostCode,
        write: (_o, _w, v) => void (port === 0x80 && (this.lastPostCode = v)),
      });
    }
    this.timed = [this.pit, this.com1, this.cmos];
    if (lapic) this.timed.push(lapic);

    this.writtenPages = new Uint8Array(this.core.memory.buffer, L.DIRTY_PAGES_BASE, opts.ramBytes / 4096);
    this.mem = new RamMemory(this.core.ram, (addr, len) => exports.jitInvalidate(addr, len), this.writtenPages);
    const placed = placeVirtio(opts.virtio ?? [], {
      mem: this.mem, pci: this.pci, ports: this.ports, mmio: this.mmio,
      setIrq: setIsaIrq,
      setLevelTriggered: (n) => this.pic.setLevelTriggered(n),
      ...(lapic ? { msi: (a: number, d: number) => this.msi(lapic, a, d) } : {}),
      log,
    }, { openBlock: opts.openBlock, openFs: opts.openFs, onConsole: opts.onConsole });
    this.virtio = placed.devices;
    this.virtioCmdline = placed.cmdline;
    this.virtioConsole = firstWith(this.virtio, "consoleInput");
    this.balloon = firstWith(this.virtio, "setTargetMiB");
    this.keyboard = firstWith(this.virtio, "inputKey");

    if (opts.pvpanic ?? true) {
      const taken = new Set(this.pci.list().map((s) => s.device));
      const slot = [...Array(31).keys()].map((i) => i + 1).find((d) => !taken.has(d));
      if (slot === undefined) {
        log("pvpanic: no free PCI slot after the virtio devices; the board has none");
      } else {
        const pvpanic = new PvPanic({
          onEvent: (events) => {
            this.panicEvents |= events;
            this.requestStop(); // the run loop ends the VM now, not after the slice
          },
        });
        attachBars(pvpanic.fn, pvpanic.regions, this.ports, this.mmio, log);
        this.pci.add(slot, 0, pvpanic.fn);
        this.pvpanic = pvpanic;
      }
    }
  }

  /** Snapshot fields (devices/state/): the board's own latch; each chip is a component of its own. */
  readonly stateTable: StateTable = { lastPostCode: "u8" };

  /** After a load: the local APIC where the restored IA32_APIC_BASE puts it (or off). */
  stateLoaded(): void {
    if (this.apic) this.apicBaseWritten(this.rp[L.RUN_APIC_BASE >> 2]! >>> 0);
  }

  /** Every virtio device's self-description (regions and IRQs, VFIO style) for the inspector. */
  virtioInfo(): VirtioDeviceInfo[] {
    return this.virtio.map((d) => d.info());
  }

  /** The core's live counters in the run page: traps by kind, interrupts taken. */
  runCounters(): { traps: { pio: number; mmio: number }; interrupts: number } {
    const rp = this.rp;
    return { traps: { pio: rp[L.RUN_STAT_PIO >> 2]! >>> 0, mmio: rp[L.RUN_STAT_MMIO >> 2]! >>> 0 }, interrupts: rp[L.RUN_STAT_INTS >> 2]! >>> 0 };
  }

  /** Ask the core to return from run() after the current trap (EXIT_STOP). */
  requestStop(): void {
    this.rp[L.RUN_REQUEST >> 2] = L.EXIT_STOP;
  }

  /** Host keyboard input: to the virtio-console if there is one, else to COM1. */
  consoleInput(bytes: Uint8Array): void {
    if (this.virtioConsole) this.virtioConsole.consoleInput(bytes);
    else this.com1.receive(bytes);
  }

  /** Ask the virtio-balloon for `mib` MiB (a config change the driver acts on); false without one. */
  setBalloonMiB(mib: number): boolean {
    this.balloon?.setTargetMiB(mib);
    return this.balloon !== null;
  }

  /** A key press or release on the virtio-input keyboard (Linux KEY_* code); false without one. */
  inputKey(code: number, down: boolean): boolean {
    this.keyboard?.inputKey(code, down);
    return this.keyboard !== null;
  }

  /** The host terminal's size, for a virtio-console (a UART has no way to carry it). */
  consoleResize(cols: number, rows: number): void {
    this.virtioConsole?.consoleResize?.(cols, rows);
  }

  /** What the BIOS would have done: PCI BARs, Interrupt Line and the ELCR for PCI INTx. */
  firmware(): void {
    const ioapic = this.apic?.ioapic;
    assignPci(this.pci, {
      setIrq: (n, level) => this.pic.setIrq(n, level),
      setLevelTriggered: (n) => this.pic.setLevelTriggered(n),
      ...(ioapic ? { setPirq: (p: number, level: boolean) => ioapic.setPin(PIRQ_IOAPIC_PIN[p]!, level) } : {}),
    });
    // Access counts are the guest's; these configuration writes were the firmware's.
    for (const d of this.virtio) d.transport.forgetAccesses();
  }

  /** The MP table (MP spec 1.4) that tells the kernel how this board's interrupts are wired. */
  private writeMpTable(): void {
    if (!this.apic) return;
    writeMpTables(this.core.ram, apicMpConfig({
      lapicVersion: LAPIC_VERSION & 0xff,
      ioapicId: this.apic.ioapic.id,
      levelIsaIrqs: this.levelIsaIrqs(),
      pciSlots: 31,
    }));
  }

  /** ISA IRQs the board made level-triggered (virtio-mmio lines): from the ELCR. */
  private levelIsaIrqs(): number[] {
    const out: number[] = [];
    for (let i = 0; i < 16; i++) {
      const pic = i < 8 ? this.pic.master : this.pic.slave;
      if (pic.elcr & (1 << (i & 7))) out.push(i);
    }
    return out;
  }

  /** Power-on: reset the CPU, load Linux, and enter it at its 32-bit entry point. */
  bootLinux(image: LinuxImage): LinuxBootResult {
    const e = this.core.exports;
    // A reboot starts from zeroed RAM, as power-on does. The first boot's memory is fresh from
    // WebAssembly.Memory, already zero: filling it would only make the OS commit all of it
    // (≈0.1 s and the whole guest RAM in RSS before the guest has touched a page).
    if (this.booted) this.core.ram.fill(0);
    this.booted = true;
    const cmdline = [image.cmdline, ...this.virtioCmdline].join(" ").trim();
    const r = loadLinux({ ...image, cmdline, ramBytes: this.ramBytes, ram: this.core.ram });
    e.reset();
    e.setupFlat32(r.entry);
    e.setReg(REG_ESI, r.esi);
    this.firmware();
    this.writeMpTable();
    return r;
  }

  /** The PIC asserts INTR: the core takes it at the next instruction boundary with IF=1. */
  interruptPending(): boolean {
    return this.rp[L.RUN_INTR >> 2] !== 0;
  }

  /** Execute up to `budget` instructions; returns the EXIT_* code (layout.ts). */
  run(budget: number): number {
    return this.core.exports.run(budget);
  }

  /** Let every timed device catch up with the clock. */
  advance(): void {
    advanceAll(this.timed, this.clock.nowNs());
    for (const d of this.virtio) d.device.poll?.();
  }

  /**
   * Host I/O a device waits for (an IndexedDB commit behind a guest FLUSH): a Promise that
   * settles when the next advance() can complete it, or null. The run loop must then let the
   * event loop run instead of blocking in Atomics.wait, or the Promise never settles.
   */
  hostIo(): Promise<unknown> | null {
    for (const d of this.virtio) {
      const io = d.device.hostIo?.();
      if (io) return io;
    }
    return null;
  }

  /** A device has host-side input waiting (a network frame from another thread): do not sleep. */
  hostInput(): boolean {
    return this.virtio.some((d) => d.device.hasInput?.() ?? false);
  }

  nextDeadlineNs(): number {
    return earliestDeadline(this.timed);
  }

  instret(): number {
    return this.core.exports.instret();
  }

  /** The core's trap: dispatch the access in the run page's trap record. The hot path. */
  private trap(): void {
    const rp = this.rp;
    const width = rp[L.TRAP_SIZE >> 2] as Width;
    const addr = rp[L.TRAP_ADDR >> 2]! >>> 0;
    const write = rp[L.TRAP_WRITE >> 2] !== 0;
    const kind = rp[L.TRAP_KIND >> 2];
    if (kind === L.TRAP_MSR) {
      this.apicBaseWritten(rp[L.TRAP_DATA >> 2]! >>> 0);
    } else if (kind === L.TRAP_PIO) {
      if (write) this.ports.write(addr, width, rp[L.TRAP_DATA >> 2]! >>> 0);
      else rp[L.TRAP_DATA >> 2] = this.ports.read(addr, width);
    } else {
      if (write) this.mmio.write(addr, width, rp[L.TRAP_DATA >> 2]! >>> 0);
      else rp[L.TRAP_DATA >> 2] = this.mmio.read(addr, width);
    }
  }

  /** A device's MSI/MSI-X write: an interrupt message for the local APIC (SDM Vol. 3 §10.11). */
  private msi(lapic: LocalApic, address: number, data: number): void {
    const m = msiMessage(address, data);
    if (!m) {
      // A guest can program any address into a table entry: say so a few times, then count.
      if (this.msiDropped++ < 8) this.log(`msi: message to 0x${address.toString(16)} outside the APIC window; dropped`);
      return;
    }
    lapic.accept(m);
  }

  /** WRMSR IA32_APIC_BASE: move the LAPIC's page, or switch it off (SDM Vol. 3 §10.4.4). */
  private apicBaseWritten(v: number): void {
    const lapic = this.apic?.lapic;
    if (!lapic) return;
    const base = (v & 0xffff_f000) >>> 0;
    const on = (v & APIC_BASE_EN) !== 0;
    if (!on) this.mmio.unmap(lapic.region);
    else if (this.mmio.baseOf(lapic.region) !== base && !this.mmio.map(lapic.region, base)) {
      this.mmio.map(lapic.region); // the new page overlaps something: stay where we were
    }
    lapic.setHardwareEnabled(on);
  }

  /** Report the log lines the rate limiter held back (the VM is about to exit). */
  flushLog(): void {
    this.logLimit.flush();
  }

  /** Counters for --stats and the inspector. */
  stats(): Record<string, unknown> {
    const rp = this.rp;
    return {
      ...this.runCounters(),
      exceptions: rp[L.RUN_STAT_EXCEPTIONS >> 2]! >>> 0,
      tlbMisses: rp[L.RUN_STAT_TLB_MISS >> 2]! >>> 0,
      jit: { ...this.core.jit.stats, compileMs: Math.round(this.core.jit.stats.compileMs), declinedEntries: rp[L.RUN_STAT_JIT_DECLINED >> 2]! >>> 0 },
      ports: this.ports.stats(),
      mmio: this.mmio.stats(),
      logSuppressed: this.logLimit.suppressed,
      ...(this.virtio.length ? { virtio: virtioStats(this.virtio) } : {}),
      ...(this.apic ? { lapic: { ...this.apic.lapic.stats }, ioapic: { ...this.apic.ioapic.stats } } : {}),
    };
  }
}
