// How the APIC board wires its interrupt sources, and the MP table that tells the kernel so
// (MP spec 1.4 §5 "Default Configurations" wiring, as PIIX-era boards do it):
//  - ISA IRQn → I/O APIC pin n, except IRQ0 (the PIT) → pin 2: the "IRQ0 override" every PC
//    with an I/O APIC has, since pin 0 carries the 8259's INTR (ExtINT) on such boards; ISA
//    IRQ2 is the 8259 cascade and has no pin. ISA IRQs are edge, active-high, except those the
//    board made level-triggered (virtio-mmio lines), which are declared level, active-high.
//  - PCI PIRQA–D → I/O APIC pins 16–19, level, active-low (PCI 3.0 §2.2.6); slot `d` pin
//    INTA–INTD → PIRQ[(d + pin − 1) mod 4], the same swizzle the PIC routing uses
//    (pci-firmware.ts), so both kernels see one wiring.
//  - The 8259's INTR → LINT0 (ExtINT); NMI → LINT1: virtual-wire mode (MP spec §3.6.2.2).
import {
  EL_CONFORM, EL_LEVEL, INT_TYPE_EXTINT, INT_TYPE_INT, INT_TYPE_NMI, PO_CONFORM, PO_HIGH, PO_LOW,
  type MpConfig, type MpInterrupt,
} from "./mptable.ts";
import { LAPIC_DEFAULT_BASE } from "../lapic.ts";
import { IOAPIC_DEFAULT_BASE, IOAPIC_VERSION } from "../ioapic.ts";

/** ISA IRQ → I/O APIC pin (index = IRQ). IRQ2 (the cascade) maps nowhere (-1). */
export const ISA_TO_IOAPIC_PIN: readonly number[] = [2, 1, -1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
/** PIRQA–D → I/O APIC pins. */
export const PIRQ_IOAPIC_PIN: readonly number[] = [16, 17, 18, 19];

export const MP_BUS_PCI = 0, MP_BUS_ISA = 1;
/** The one processor's CPUID signature and feature flags, as core-wasm/assembly/cpu/system.ts reports them (APIC included). */
const CPU_SIGNATURE = 0x0652;
const CPU_FEATURES = (1 << 0) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 9) | (1 << 11) | (1 << 13) | (1 << 15);

export interface ApicBoardWiring {
  lapicVersion: number;
  ioapicId: number;
  /** ISA IRQs that are level-triggered on this board (ELCR). */
  levelIsaIrqs: readonly number[];
  /** PCI slots 1..pciSlots get INTA–INTD entries. */
  pciSlots: number;
}

export function apicMpConfig(w: ApicBoardWiring): MpConfig {
  const io: MpInterrupt[] = [];
  for (let irq = 0; irq < 16; irq++) {
    const pin = ISA_TO_IOAPIC_PIN[irq]!;
    if (pin < 0) continue;
    const level = w.levelIsaIrqs.includes(irq);
    io.push({
      type: INT_TYPE_INT, flags: level ? PO_HIGH | EL_LEVEL : PO_CONFORM | EL_CONFORM,
      bus: MP_BUS_ISA, busIrq: irq, destApic: w.ioapicId, destPin: pin,
    });
  }
  for (let d = 1; d <= w.pciSlots; d++) {
    for (let pin = 1; pin <= 4; pin++) {
      io.push({
        type: INT_TYPE_INT, flags: PO_LOW | EL_LEVEL, bus: MP_BUS_PCI, busIrq: (d << 2) | (pin - 1),
        destApic: w.ioapicId, destPin: PIRQ_IOAPIC_PIN[(d + pin - 1) & 3]!,
      });
    }
  }
  return {
    oemId: "VIREO", productId: "PC-APIC", localApicAddress: LAPIC_DEFAULT_BASE,
    processors: [{ apicId: 0, apicVersion: w.lapicVersion, signature: CPU_SIGNATURE, features: CPU_FEATURES }],
    buses: [{ id: MP_BUS_PCI, type: "PCI" }, { id: MP_BUS_ISA, type: "ISA" }],
    ioApics: [{ id: w.ioapicId, version: IOAPIC_VERSION & 0xff, address: IOAPIC_DEFAULT_BASE }],
    ioInterrupts: io,
    localInterrupts: [
      { type: INT_TYPE_EXTINT, flags: PO_CONFORM | EL_CONFORM, bus: MP_BUS_ISA, busIrq: 0, destApic: 0xff, destPin: 0 },
      { type: INT_TYPE_NMI, flags: PO_CONFORM | EL_CONFORM, bus: MP_BUS_ISA, busIrq: 0, destApic: 0xff, destPin: 1 },
    ],
  };
}
