// PCI MSI-X (PCI Local Bus Specification 3.0 §6.8.2): a capability (id 0x11) in configuration
// space with Message Control (table size, Function Mask, MSI-X Enable), the table's and the
// Pending Bit Array's BAR and offset; the table (16 bytes per vector: Message Address, Upper
// Address, Data, Vector Control with its Mask bit) and the PBA live in a memory BAR.
//
// A device signals vector n: with MSI-X enabled and neither the function nor the vector masked,
// the message (a DWORD write of Data to Address) goes out at once; otherwise the vector's pending
// bit is set, and the message goes out when the mask is cleared (§6.8.2.8–6.8.2.9). Messages to
// 0xFEExxxxx are interrupt messages for the local APIC (SDM Vol. 3A §10.11); the board delivers
// them. What Linux 6.1 does: drivers/pci/msi/msi.c (msix_capability_init: table entries masked,
// Function Mask set while it programs them, then Enable; pci_msix_mask/unmask per vector).
import { W4, type RegisterInfo, type Region, type Width } from "./bus/region.ts";
import type { PciFunction } from "./pci-host.ts";
import type { StateTable, Stateful } from "./state/fields.ts";

export const PCI_CAP_ID_MSIX = 0x11;
/** Capability layout (PCI 3.0 §6.8.2, Figure 6-10). */
export const MSIX_CAP_REGISTERS: readonly RegisterInfo[] = [
  { offset: 0, name: "cap id / next", access: "r", ref: "PCI 3.0 §6.8.2" },
  { offset: 2, name: "Message Control", access: "rw", ref: "PCI 3.0 §6.8.2.3 (bit 15 Enable, bit 14 Function Mask, 10:0 Table Size)" },
  { offset: 4, name: "Table Offset / BIR", access: "r", ref: "PCI 3.0 §6.8.2.4" },
  { offset: 8, name: "PBA Offset / BIR", access: "r", ref: "PCI 3.0 §6.8.2.5" },
];
const MSIX_CAP_LENGTH = 12;
const CTRL_ENABLE = 0x8000, CTRL_FUNCTION_MASK = 0x4000;

/** One table entry (PCI 3.0 §6.8.2.6–6.8.2.9). */
export const MSIX_ENTRY_REGISTERS: readonly RegisterInfo[] = [
  { offset: 0, name: "Message Address", access: "rw", ref: "PCI 3.0 §6.8.2.6 (bits 1:0 read 0)" },
  { offset: 4, name: "Message Upper Address", access: "rw", ref: "PCI 3.0 §6.8.2.7" },
  { offset: 8, name: "Message Data", access: "rw", ref: "PCI 3.0 §6.8.2.8" },
  { offset: 12, name: "Vector Control", access: "rw", ref: "PCI 3.0 §6.8.2.9 (bit 0 Mask)" },
];
export const MSIX_ENTRY_SIZE = 16;
const VECTOR_MASKED = 1;

export interface MsixOptions {
  /** Vectors (1–2048). */
  vectors: number;
  /** The memory BAR holding table and PBA, and where in it. */
  bar: number;
  tableOffset: number;
  pbaOffset: number;
  /** Send one message: a DWORD `data` written to the 64-bit `address`. */
  send: (address: number, data: number) => void;
  log?: (message: string) => void;
  name: string;
}

export class MsixCapability implements Stateful {
  /** Offset of the capability in config space. */
  readonly cap: number;
  readonly vectors: number;
  /** Table and PBA as one MMIO region, to be placed at `bar`'s address (from offset tableOffset). */
  readonly region: Region;
  private readonly table: Uint32Array; // vectors × 4 dwords
  private readonly pending: Uint32Array; // PBA, 32 bits per word (64-bit QWORDs as pairs)
  private readonly o: MsixOptions;
  private readonly log: (message: string) => void;
  private logged = 0;
  readonly stats = { sent: 0, pended: 0 };

  /** Snapshot fields (devices/state/): the table and the PBA; the capability's bits are in config space. */
  get stateTable(): StateTable {
    return { table: { u32s: this.table.length }, pending: { u32s: this.pending.length } };
  }

  constructor(private readonly fn: PciFunction, o: MsixOptions) {
    if (!(o.vectors >= 1 && o.vectors <= 2048)) throw new RangeError(`${o.name}: MSI-X vector count ${o.vectors}`);
    const tableBytes = o.vectors * MSIX_ENTRY_SIZE;
    const pbaBytes = Math.ceil(o.vectors / 64) * 8;
    if (o.tableOffset % 8 || o.pbaOffset % 8) throw new RangeError(`${o.name}: MSI-X table/PBA must be QWORD aligned`);
    if (o.pbaOffset < o.tableOffset + tableBytes && o.tableOffset < o.pbaOffset + pbaBytes) throw new RangeError(`${o.name}: MSI-X table and PBA overlap`);
    this.o = o;
    this.vectors = o.vectors;
    this.log = o.log ?? (() => {});
    this.table = new Uint32Array(o.vectors * 4);
    for (let v = 0; v < o.vectors; v++) this.table[v * 4 + 3] = VECTOR_MASKED; // masked after reset (§6.8.2.9)
    this.pending = new Uint32Array(Math.ceil(o.vectors / 64) * 2);

    this.cap = fn.addCapability(PCI_CAP_ID_MSIX, MSIX_CAP_LENGTH);
    fn.put(this.cap + 2, 2, o.vectors - 1);
    fn.setWriteMask(this.cap + 2, 2, CTRL_ENABLE | CTRL_FUNCTION_MASK);
    fn.put(this.cap + 4, 4, o.tableOffset | o.bar);
    fn.put(this.cap + 8, 4, o.pbaOffset | o.bar);

    const end = Math.max(o.tableOffset + tableBytes, o.pbaOffset + pbaBytes);
    this.region = {
      name: `${o.name}.msix`, base: 0, size: end, widths: W4,
      read: (off) => this.read(off),
      write: (off, _w: Width, v) => this.write(off, v),
    };
  }

  /** MSI-X Enable in Message Control. */
  get enabled(): boolean {
    return (this.fn.get(this.cap + 2, 2) & CTRL_ENABLE) !== 0;
  }

  get functionMasked(): boolean {
    return (this.fn.get(this.cap + 2, 2) & CTRL_FUNCTION_MASK) !== 0;
  }

  /** Whether vector `v`'s own Mask bit is set. */
  vectorMasked(v: number): boolean {
    return (this.table[v * 4 + 3]! & VECTOR_MASKED) !== 0;
  }

  isPending(v: number): boolean {
    return (this.pending[v >>> 5]! & (1 << (v & 31))) !== 0;
  }

  /**
   * The device signals vector `v`. Returns false when MSI-X is disabled (the caller falls back to
   * INTx); true when the message was sent or left pending under a mask.
   */
  signal(v: number): boolean {
    if (!this.enabled) return false;
    if (v < 0 || v >= this.vectors) return true; // no such vector: nothing to send
    if (this.functionMasked || this.vectorMasked(v)) {
      this.pending[v >>> 5] = this.pending[v >>> 5]! | (1 << (v & 31));
      this.stats.pended++;
      return true;
    }
    this.send(v);
    return true;
  }

  /** Config space was written: a cleared Function Mask (or a fresh Enable) releases pending vectors. */
  configWritten(offset: number, width: number): void {
    if (offset + width <= this.cap + 2 || offset >= this.cap + 4) return;
    this.releasePending();
  }

  /** Clear everything on a device reset (table masked, nothing pending, capability off). */
  reset(): void {
    this.table.fill(0);
    for (let v = 0; v < this.vectors; v++) this.table[v * 4 + 3] = VECTOR_MASKED;
    this.pending.fill(0);
    this.fn.put(this.cap + 2, 2, this.vectors - 1);
  }

  private live(): boolean {
    return this.enabled && !this.functionMasked;
  }

  private releasePending(): void {
    if (!this.live()) return;
    for (let v = 0; v < this.vectors; v++) {
      if (this.isPending(v) && !this.vectorMasked(v)) {
        this.pending[v >>> 5] = this.pending[v >>> 5]! & ~(1 << (v & 31));
        this.send(v);
      }
    }
  }

  private send(v: number): void {
    const i = v * 4;
    const address = this.table[i]! + this.table[i + 1]! * 0x1_0000_0000;
    this.stats.sent++;
    this.o.send(address, this.table[i + 2]!);
  }

  // ---- table and PBA (memory BAR) ---------------------------------------------------------

  private read(off: number): number {
    const o = this.o;
    if (off >= o.tableOffset && off < o.tableOffset + this.vectors * MSIX_ENTRY_SIZE) return this.table[(off - o.tableOffset) >> 2]!;
    if (off >= o.pbaOffset && off < o.pbaOffset + this.pending.length * 4) return this.pending[(off - o.pbaOffset) >> 2]!;
    return 0; // between the structures: reserved, reads 0
  }

  private write(off: number, v: number): void {
    const o = this.o;
    if (off >= o.tableOffset && off < o.tableOffset + this.vectors * MSIX_ENTRY_SIZE) {
      const i = (off - o.tableOffset) >> 2;
      const field = i & 3;
      if (field === 0) this.table[i] = v & ~3; // DWORD-aligned address
      else if (field === 3) {
        this.table[i] = v & VECTOR_MASKED; // other Vector Control bits are reserved
        if (!(v & VECTOR_MASKED)) this.releasePending();
      } else this.table[i] = v >>> 0;
      return;
    }
    // The PBA is read-only (§6.8.2.10); anything else in the region is reserved.
    if (this.logged++ < 8) this.log(`${o.name}: MSI-X write to read-only/reserved +0x${off.toString(16)}; ignored`);
  }
}
