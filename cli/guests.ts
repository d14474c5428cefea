// The guests `npm run boot -- --guest NAME` knows: which kernel, initrd and disk each boots,
// on which board, and how the console script recognizes its shell. One table; the options
// parser, --help and the bench read it.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DEFAULT_CMDLINE, POWEROFF_CMD, PROMPT_RE, READY_LINE } from "../devices/vm/config.ts";

export const guestDir = fileURLToPath(new URL("../guest-images/", import.meta.url));

export interface Guest {
  name: string;
  summary: string;
  kernel: string;
  initrd: string;
  /** The root disk, when the guest has one: a virtio-blk device written through to the file. */
  disk?: string;
  cmdline: string;
  memMiB: number;
  apic: boolean;
  /** ACPI tables and PM timer (VmConfig.acpi). */
  acpi: boolean;
  /** Console text after which the shell prompt is looked for. */
  ready: string;
  /** The shell prompt (regular expression source). */
  prompt: string;
  poweroff: string;
  /** How to make the guest's files when they are missing (they are not in the repository). */
  build?: string;
}

export const GUESTS: readonly Guest[] = [
  {
    name: "default",
    summary: "busybox in an initramfs (guest-images/, committed)",
    kernel: guestDir + "bzImage",
    initrd: guestDir + "initramfs.cpio.gz",
    cmdline: DEFAULT_CMDLINE,
    memMiB: 128,
    apic: false,
    acpi: false,
    ready: READY_LINE,
    prompt: PROMPT_RE.source,
    poweroff: POWEROFF_CMD,
  },
  {
    // Debian as Debian ships it: its 686 kernel and initramfs-tools initramfs, root on ext4,
    // systemd, a root autologin getty on ttyS0 (guest-images/distro/debian.sh). The kernel
    // command line is what any PC would be given: no Vireo-only parameter.
    name: "debian",
    summary: "Debian 12 i386 with systemd on a virtio-blk ext4 disk (guest-images/debian/, built by guest-images/build.sh --distro debian)",
    kernel: guestDir + "debian/vmlinuz",
    initrd: guestDir + "debian/initrd.img",
    disk: guestDir + "debian/rootfs.img",
    cmdline: "root=/dev/vda rw console=ttyS0",
    memMiB: 512,
    apic: true,
    // The PM timer: the kernel's clocksource watchdog then keeps the TSC (no tsc=reliable).
    acpi: true,
    ready: "(automatic login)",
    prompt: /root@vireo:[^\n]*# $/.source,
    // A clean shutdown: systemd stops every unit, unmounts the disk and powers off.
    poweroff: "systemctl poweroff",
    build: "guest-images/build.sh --distro debian",
  },
];

export const GUEST_NAMES = GUESTS.map((g) => g.name);

export const guest = (name: string): Guest | undefined => GUESTS.find((g) => g.name === name);

/** The files of `g` that are not there (a distribution image not built yet). */
export const missingFiles = (g: Guest): string[] => [g.kernel, g.initrd, ...(g.disk ? [g.disk] : [])].filter((f) => !existsSync(f));

/** The guest's root disk as a --device option: virtio-blk on modern virtio-pci, MSI-X on the APIC board. */
export const rootDisk = (g: Guest, apic: boolean): string[] =>
  g.disk ? [`blk,transport=pci-modern,image=${g.disk}${apic ? ",irq=msix" : ""}`] : [];
