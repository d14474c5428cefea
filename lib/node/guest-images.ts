// Where the package's default guest is: the files `VmOptions` uses when it names no kernel or
// initrd, for users who want to pass them on (to a disk-image tool, to another VM's options).
import { guestDir } from "../../cli/guests.ts";

/** Paths of the default guest's files, as installed with the package. */
export interface GuestImages {
  /** Linux 6.1 i386, the PIC-only board's kernel. */
  kernel: string;
  /** The same kernel with the local APIC, I/O APIC and PCI MSI (for `apic: true` and `irq: "msix"`). */
  kernelApic: string;
  /** busybox and an init that prints `vireo-guest: ready` and starts a shell on the console. */
  initrd: string;
}

// guestDir: relative to cli/guests.ts in the sources, to the bundle in the package (both one
// level below the root, beside guest-images/).
const dir = (name: string) => guestDir + name;

/** Paths of the default guest's files. */
export function guestImages(): GuestImages {
  return { kernel: dir("bzImage"), kernelApic: dir("bzImage-apic"), initrd: dir("initramfs.cpio.gz") };
}
