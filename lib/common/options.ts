// The options a library user gives a VM, in Node or in a page: the public types only (each
// side's config.ts turns them into what the worker runs), so the package's declarations need
// none of the emulator's own.

/** A virtio transport (the `transport=` of a device). */
export type TransportName = "pci-legacy" | "pci-modern" | "pci-transitional" | "mmio-v1" | "mmio-v2";
/**
 * How a device interrupts: `intx` (default); `msix` on the virtio-pci transports (used by a
 * kernel with PCI MSI on the APIC board); `msi` on mmio-v2 (the 2020 virtio-mmio MSI proposal).
 */
export type IrqMode = "intx" | "msix" | "msi";
/** A virtio device type. */
export type DeviceTypeName = "blk" | "console" | "rng" | "balloon" | "input" | "net" | "9p";

/**
 * A virtio device, as the CLI's `--device` takes it: a device type on a transport, with the
 * type's own options (`image`, `readonly`, `mib`, `backend`, `mac`, `path`, …; `npx vireo boot
 * --help` lists them). A flag option is `true`; a string in the CLI's form
 * (`"blk,transport=pci-modern,image=disk.img"`) is accepted too.
 */
export interface DeviceSpec {
  /** The device type. */
  type: DeviceTypeName;
  /** The transport it sits on. */
  transport: TransportName;
  /** How it interrupts (default `intx`). */
  irq?: IrqMode;
  [option: string]: string | number | boolean | undefined;
}

/** How guest time advances: with the host's clock, or with executed instructions (reproducible runs). */
export type ClockMode = "realtime" | "deterministic";

/** What a VM is made of, in Node and in a page alike. Every field is optional. */
export interface MachineOptions {
  /** The kernel command line (default `console=ttyS0 tsc=reliable pty.legacy_count=0`). */
  append?: string;
  /** Guest RAM in MiB, 16 to 2000 (default 128). */
  memoryMiB?: number;
  /** Default `realtime`. */
  clock?: ClockMode;
  /** Virtio devices, in order. */
  devices?: readonly (DeviceSpec | string)[];
  /** Runs of a block of guest code before it is translated to WebAssembly, or `"off"` (default 5000). */
  jit?: number | "off";
  /** The APIC board: local APIC, I/O APIC and an MP table (default: PIC only). */
  apic?: boolean;
  /** Let the guest unpack its kernel and a gzip initrd itself, as on real hardware (default: the host does, faster). */
  guestDecompress?: boolean;
  /** A guest reboot resets the board and boots again; by default it ends the VM (exit reason `"reboot"`). */
  reboot?: boolean;
  /**
   * The guest shell's prompt, matched at the end of the console output (`exec` waits for it).
   * Default: the package's guest, `/vireo:[^\n]*# $/`. For a busybox shell with its default
   * prompt, `/# $/`.
   */
  prompt?: RegExp;
}

/** What a VM in Node is made of. Every field is optional: the default is the package's own guest. */
export interface VmOptions extends MachineOptions {
  /** A bzImage: a file path or its bytes (default: the package's `guest-images/bzImage`). */
  kernel?: string | Uint8Array;
  /** An initramfs: a file path or its bytes; `null` for none (default: the package's `guest-images/initramfs.cpio.gz`). */
  initrd?: string | Uint8Array | null;
  /**
   * Resume this saved machine (a path or the bytes of `Vm.snapshot()` / `--save-state`) instead
   * of booting. Memory, clock, board, command line and JIT are the state's (giving them is an
   * error); `kernel`/`initrd` must be the ones it booted, and its disks and shared folders the
   * same `devices` again.
   */
  state?: string | Uint8Array;
}
