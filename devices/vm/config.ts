// What a VM is made of: the one description shared by the CLI, the page and the tests, and
// passed unchanged to the VM worker.
import type { IrqMode, TransportName } from "../virtio/transports.ts";

/** The line guest-images/initramfs/init prints once userspace is up. */
export const READY_LINE = "vireo-guest: ready";
/** The default guest's shell prompt ends with this (PS1='vireo:\w# '). */
export const PROMPT_RE = /vireo:[^\n]*# $/;
// tsc=reliable: without ACPI (the default guests' kernels have none, and the board gives its
// PM timer only with VmConfig.acpi) the kernel's only clocksource watchdog is the PIT, whose
// counter stops meaning anything once NO_HZ_IDLE switches it to one-shot mode; the watchdog
// would then declare our (exact) TSC unstable a few seconds after boot.
// pty.legacy_count=0: a kernel with CONFIG_LEGACY_PTYS registers 256 BSD pty pairs, 512 devices
// that cost 17 M boot instructions and that nothing in the guest uses (Unix98 ptys, /dev/pts,
// stay). The default kernels are now built without them; the parameter stays for kernels that
// have them, and is ignored by those that do not.
export const DEFAULT_CMDLINE = "console=ttyS0 tsc=reliable pty.legacy_count=0";

/** Default JIT threshold: executions of a block before it is translated. Lower compiles code
 *  that will not run much more: a boot's lukewarm code costs more to compile than it saves.
 *  Measured (process CPU, alternated runs, load 12–15): 20000 against 5000 — default boot
 *  1.67–1.79 vs 1.88–1.95 s, the stock kernel's boot 13.8/14.1 vs 13.7/14.1 s with 60 % less
 *  compiled code, the md5sum + gzip window 3.58–3.95 vs 3.64–4.46 s (gzip's regions are made
 *  from more of its hot code once they wait longer). 50000 made the kernel's boot slower. */
export const JIT_THRESHOLD = 20000;

export type ClockMode = "realtime" | "deterministic";

/** How the default guest is powered off at the end of a --cmd script. */
export const POWEROFF_CMD = "poweroff -f";

export interface ConsoleScript {
  /** Stop (successfully) once this text has appeared on the console. */
  expect?: string;
  /** Commands typed at successive shell prompts; after the last, the guest is powered off. */
  cmds: string[];
  /** The line that says userspace is up (commands are typed only after it). */
  ready: string;
  /**
   * The guest's shell prompt: a regular expression (source text, so the config stays plain
   * data) that the console's last bytes match once it waits for a command. Default PROMPT_RE.
   */
  prompt?: string;
  /** Typed after the last command to power the guest off. Default POWEROFF_CMD. */
  poweroff?: string;
}

export interface VmConfig {
  kernel: Uint8Array;
  initrd?: Uint8Array;
  cmdline: string;
  memMiB: number;
  clock: ClockMode;
  script: ConsoleScript;
  /**
   * Leave the kernel's payload and a gzip initrd compressed for the guest to unpack, as a boot
   * loader on real hardware does. By default the host unpacks both first (host/kernel-payload.ts,
   * host/initrd.ts): the guest ends up with the same memory contents ~25 M instructions sooner.
   */
  guestDecompress?: boolean;
  /** The APIC board: local APIC, I/O APIC and an MP table (default: PIC only). */
  apic?: boolean;
  /**
   * ACPI tables (board/acpi-tables.ts) and the ACPI fixed hardware (acpi-pm.ts): the PM timer a
   * kernel's clocksource watchdog checks the TSC against. Off by default: the default guests'
   * kernels would then run ACPI's start-up too.
   */
  acpi?: boolean;
  /**
   * Translate a block of guest code to WebAssembly once it has run this many times
   * (core-wasm/jit/); 0 interprets everything. Default JIT_THRESHOLD.
   */
  jit?: number;
  /**
   * An inspector may look (the page): the virtio transports are observed from power-on, so the
   * status path the driver took at probe is there when the inspector opens. Absent: observed
   * only from the first snapshot; a CLI run records nothing.
   */
  inspect?: boolean;
  /** Virtio devices, in order (PCI slots from 1, MMIO windows from 0xD0000000). */
  devices?: VirtioDeviceSpec[];
  /**
   * The pvpanic PCI device (devices/pvpanic.ts) through which the guest kernel reports a
   * panic; default on. Off, a panic is recognized by its console line only.
   */
  pvpanic?: boolean;
  /** A guest reboot (reset request, triple fault) ends the VM (reason "reboot") instead of resetting it. */
  noReboot?: boolean;
  /**
   * At the end of the --cmd script (the guest at its prompt after the last command) save the
   * machine — a "state" event with the state file (devices/state/) — and end with reason
   * "saved", instead of powering off. "increment": only the RAM pages written since the
   * restored state (`restore` and `increments`), as an increment over it.
   */
  saveState?: boolean | "increment";
  /**
   * Resume this state file instead of booting: the board is built from this config (which the
   * host took from the state's own, devices/state/config.ts) and every component loaded from it.
   */
  restore?: Uint8Array;
  /** Increments over `restore`, oldest first (each saved after the one before): RAM is the
   *  base's with each one's written pages over it; the machine is the newest one's. */
  increments?: Uint8Array[];
}

/**
 * One `--device` (docs/ARCHITECTURE.md "Virtio") as parsed: a device type on a transport, with
 * the options its registry entry declares (devices/registry.ts: names, types, checks) under
 * their fields. Each device type narrows it to its own spec type (BlkSpec in virtio/blk.ts,
 * NetSpec in virtio/net.ts, …), which its factory takes; the host's backends take the spec of
 * the role they serve (BlockDeviceSpec, FsDeviceSpec in virtio/device-type.ts).
 */
export interface VirtioDeviceSpec {
  /** A registered device type's name. */
  type: string;
  transport: TransportName;
  /**
   * virtio-pci: `msix` offers an MSI-X capability (a vector per queue plus one for config
   * changes) that a kernel with PCI MSI on the APIC board uses; `intx` (default) offers INTx only.
   * virtio-mmio version 2: `msi` offers the 2020 MSI proposal (VIRTIO_F_MMIO_MSI, bit 40 —
   * RING_RESET in virtio 1.2); no upstream Linux driver uses it. Off by default.
   */
  irq?: IrqMode;
  /** The device type's own options (its OptionDef table), by field. */
  [option: string]: unknown;
}
