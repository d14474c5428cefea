// The virtio transports, declared once: each one's name (the CLI's `transport=`, the page's URL
// value), its bus, whether it speaks the version-1 (modern) interface, the legacy one or both,
// and its message-signalled interrupt mode. Everything that needs to know "is this PCI", "does
// it offer VERSION_1", "may it use MSI-X" reads these rows, never the names.

export type Bus = "pci" | "mmio";
/**
 * VIRTIO_F_VERSION_1 (virtio 1.2 §6): "none" — a legacy interface only (§4.1.4.8 / §4.2.4), the
 * bit is not offered; "required" — modern only, a driver without it is refused at FEATURES_OK;
 * "optional" — transitional, both interfaces (§4.1.2.1).
 */
export type Version1 = "none" | "required" | "optional";
/** How a device on the transport may signal besides its interrupt line. */
export type IrqMode = "intx" | "msix" | "msi";
export const IRQ_MODES: readonly IrqMode[] = ["intx", "msix", "msi"];

export interface TransportDef {
  readonly name: string;
  readonly bus: Bus;
  readonly version1: Version1;
  /** The message-signalled mode `irq=` may choose on it (besides intx), or null. */
  readonly msi: Exclude<IrqMode, "intx"> | null;
  /** One line for --help and the page's tooltip. */
  readonly summary: string;
}

export const TRANSPORTS = [
  { name: "pci-legacy", bus: "pci", version1: "none", msi: "msix", summary: "virtio-pci legacy: the 2007 register block in I/O BAR 0 (§4.1.4.8)" },
  { name: "pci-modern", bus: "pci", version1: "required", msi: "msix", summary: "virtio-pci modern: vendor capabilities into memory BAR 4 (§4.1.4)" },
  { name: "pci-transitional", bus: "pci", version1: "optional", msi: "msix", summary: "virtio-pci transitional: both interfaces, legacy ids (§4.1.2)" },
  { name: "mmio-v1", bus: "mmio", version1: "none", msi: null, summary: "virtio-mmio version 1 (legacy, §4.2.4)" },
  { name: "mmio-v2", bus: "mmio", version1: "required", msi: "msi", summary: "virtio-mmio version 2 (§4.2.2)" },
] as const satisfies readonly TransportDef[];

export type TransportName = (typeof TRANSPORTS)[number]["name"];
export const TRANSPORT_NAMES: readonly TransportName[] = TRANSPORTS.map((t) => t.name);

/**
 * How many devices a bus takes on this board: PCI bus 0 has 31 free slots (0 is the host
 * bridge); virtio-mmio windows need a free ISA IRQ each (devices/board/virtio-devices.ts).
 */
export const BUS_SLOTS: Readonly<Record<Bus, number>> = { pci: 31, mmio: 8 };

export function isTransportName(name: string): name is TransportName {
  return (TRANSPORT_NAMES as readonly string[]).includes(name);
}

/** The row of `name`; throws for a name that is not a transport (callers check user input first). */
export function transportDef(name: string): TransportDef {
  const t = TRANSPORTS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown virtio transport '${name}'`);
  return t;
}

/**
 * The transports on which a device type born in virtio 1.0 works: the modern interface only.
 * Such a type has no legacy interface to offer — a transitional virtio-pci function needs a
 * transitional PCI device id, which exists only for the types virtio 0.9 had (virtio 1.2 §4.1.2.1).
 */
export const modernOnly = (t: TransportDef): boolean => t.version1 === "required";
