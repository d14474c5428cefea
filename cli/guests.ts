// The guests `npm run boot -- --guest NAME` knows (devices/vm/guests.ts, the table the page's
// guest menu reads too), with their files as paths under guest-images/. The options parser,
// --help and the bench read it.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GUEST_NAMES, GUEST_SPECS, type GuestSpec } from "../devices/vm/guests.ts";

export const guestDir = fileURLToPath(new URL("../guest-images/", import.meta.url));

/** A guest with its kernel, initrd and disk as absolute paths. */
export type Guest = GuestSpec;

export const GUESTS: readonly Guest[] = GUEST_SPECS.map((g) => ({
  ...g,
  kernel: guestDir + g.kernel,
  initrd: guestDir + g.initrd,
  ...(g.disk ? { disk: guestDir + g.disk } : {}),
}));

export { GUEST_NAMES };

export const guest = (name: string): Guest | undefined => GUESTS.find((g) => g.name === name);

/** The files of `g` that are not there (a distribution image not built yet). */
export const missingFiles = (g: Guest): string[] => [g.kernel, g.initrd, ...(g.disk ? [g.disk] : [])].filter((f) => !existsSync(f));

/** The guest's root disk as a --device option: virtio-blk on modern virtio-pci, MSI-X on the APIC board. */
export const rootDisk = (g: Guest, apic: boolean): string[] =>
  g.disk ? [`blk,transport=pci-modern,image=${g.disk}${apic ? ",irq=msix" : ""}`] : [];
