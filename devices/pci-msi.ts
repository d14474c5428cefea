// PCI MSI (PCI Local Bus Specification 3.0 §6.8.1): the capability (id 0x05) with Message
// Control, a 64-bit Message Address, Message Data, and per-vector Mask and Pending bits
// (Figure 6-9, the 64-bit address + per-vector masking layout). Multiple Message Capable is
// fixed by the device; the driver grants up to that with Multiple Message Enable, and vector
// n is sent as Data with its low log2(enabled) bits replaced by n (§6.8.1.6). A masked vector
// sets its Pending bit and is sent when unmasked (§6.8.1.7–6.8.1.8). Virtio uses MSI-X
// (pci-msix.ts); this is for devices that only have MSI.
import type { PciFunction } from "./pci-host.ts";

export const PCI_CAP_ID_MSI = 0x05;
/** Capability layout, 64-bit address with per-vector masking (24 bytes). */
export const MSI_CAP_REGISTERS = [
  { offset: 0x02, name: "Message Control", ref: "PCI 3.0 §6.8.1.3 (0 Enable, 3:1 MMC, 6:4 MME, 7 64-bit, 8 per-vector masking)" },
  { offset: 0x04, name: "Message Address", ref: "PCI 3.0 §6.8.1.4 (bits 1:0 read 0)" },
  { offset: 0x08, name: "Message Upper Address", ref: "PCI 3.0 §6.8.1.5" },
  { offset: 0x0c, name: "Message Data", ref: "PCI 3.0 §6.8.1.6 (16 bits)" },
  { offset: 0x10, name: "Mask Bits", ref: "PCI 3.0 §6.8.1.7" },
  { offset: 0x14, name: "Pending Bits", ref: "PCI 3.0 §6.8.1.8 (read-only)" },
] as const;
const CAP_LENGTH = 0x18;
const CTRL_ENABLE = 0x0001, CTRL_64BIT = 0x0080, CTRL_PER_VECTOR_MASK = 0x0100;

export interface MsiOptions {
  /** Vectors the device can use: 1, 2, 4, 8, 16 or 32 (Multiple Message Capable). */
  vectors: number;
  send: (address: number, data: number) => void;
}

export class MsiCapability {
  readonly cap: number;
  readonly stats = { sent: 0, pended: 0 };

  constructor(private readonly fn: PciFunction, private readonly o: MsiOptions) {
    const mmc = Math.log2(o.vectors);
    if (!Number.isInteger(mmc) || mmc < 0 || mmc > 5) throw new RangeError(`MSI: ${o.vectors} vectors (1, 2, 4, …, 32)`);
    this.cap = fn.addCapability(PCI_CAP_ID_MSI, CAP_LENGTH);
    const c = this.cap;
    fn.put(c + 2, 2, (mmc << 1) | CTRL_64BIT | CTRL_PER_VECTOR_MASK);
    fn.setWriteMask(c + 2, 2, CTRL_ENABLE | (7 << 4)); // Enable, Multiple Message Enable
    fn.setWriteMask(c + 4, 4, 0xffff_fffc);
    fn.setWriteMask(c + 8, 4, 0xffff_ffff);
    fn.setWriteMask(c + 0xc, 2, 0xffff);
    fn.setWriteMask(c + 0x10, 4, o.vectors === 32 ? 0xffff_ffff : (1 << o.vectors) - 1);
  }

  get enabled(): boolean {
    return (this.fn.get(this.cap + 2, 2) & CTRL_ENABLE) !== 0;
  }

  /** Vectors the driver granted (Multiple Message Enable, capped by what the device has). */
  get granted(): number {
    const mme = (this.fn.get(this.cap + 2, 2) >> 4) & 7;
    return Math.min(1 << Math.min(mme, 5), this.o.vectors);
  }

  /** Signal vector `v`: false when MSI is disabled (use INTx); a vector beyond the grant is dropped. */
  signal(v: number): boolean {
    if (!this.enabled) return false;
    if (v < 0 || v >= this.granted) return true;
    const bit = 1 << v;
    if (this.fn.get(this.cap + 0x10, 4) & bit) {
      this.fn.put(this.cap + 0x14, 4, this.fn.get(this.cap + 0x14, 4) | bit);
      this.stats.pended++;
      return true;
    }
    this.send(v);
    return true;
  }

  /** The owner's config-write hook: a cleared Mask bit (or Enable) releases pending vectors. */
  configWritten(offset: number, width: number): void {
    if (offset + width <= this.cap || offset >= this.cap + CAP_LENGTH || !this.enabled) return;
    const mask = this.fn.get(this.cap + 0x10, 4);
    let pending = this.fn.get(this.cap + 0x14, 4);
    for (let v = 0; v < this.granted; v++) {
      const bit = 1 << v;
      if (pending & bit && !(mask & bit)) {
        pending &= ~bit;
        this.fn.put(this.cap + 0x14, 4, pending);
        this.send(v);
      }
    }
  }

  private send(v: number): void {
    const c = this.cap;
    const address = this.fn.get(c + 4, 4) + this.fn.get(c + 8, 4) * 0x1_0000_0000;
    const n = this.granted;
    const data = (this.fn.get(c + 0xc, 2) & ~(n - 1)) | v;
    this.stats.sent++;
    this.o.send(address, data);
  }
}
