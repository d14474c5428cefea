// The guests Vireo knows, in one table: which kernel, initrd and disk each boots (file names
// under guest-images/), on which board, and how a console script recognizes its shell. The CLI
// (cli/guests.ts: `npm run boot -- --guest NAME`, --help, the bench) and the page's guest menu
// (`?guest=NAME`) both read it. No Node or DOM imports: each side turns the names into paths
// or URLs.
import { DEFAULT_CMDLINE, POWEROFF_CMD, PROMPT_RE, READY_LINE } from "./config.ts";

export interface GuestSpec {
  name: string;
  /** The page's menu entry. */
  label: string;
  summary: string;
  /** Files under guest-images/. */
  kernel: string;
  initrd: string;
  /** The root disk, when the guest has one: virtio-blk, the first disk (/dev/vda). */
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

export const DEFAULT_GUEST = "default";

export const GUEST_SPECS: readonly GuestSpec[] = [
  {
    name: DEFAULT_GUEST,
    label: "Default (busybox)",
    summary: "busybox in an initramfs (guest-images/, committed)",
    kernel: "bzImage",
    initrd: "initramfs.cpio.gz",
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
    label: "Debian 12 (systemd)",
    summary: "Debian 12 i386 with systemd on a virtio-blk ext4 disk (guest-images/debian/, built by guest-images/build.sh --distro debian)",
    kernel: "debian/vmlinuz",
    initrd: "debian/initrd.img",
    disk: "debian/rootfs.img",
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

export const GUEST_NAMES = GUEST_SPECS.map((g) => g.name);

export const guestSpec = (name: string): GuestSpec | undefined => GUEST_SPECS.find((g) => g.name === name);
