// MSI for virtio-mmio: the device side of the 2020 proposal to the virtio TC ("virtio-mmio: Add
// MSI support", Jing Liu et al., virtio-dev, January 2020, v2 patches 3/5 and 5/5), which was
// never merged into the spec. Opt-in and off by default. Feature VIRTIO_F_MMIO_MSI (bit 40) and
// seven registers in the window's 0x0c0–0x0dc gap:
//
//   0x0c0 MsiVecNum  R  vectors the device supports
//   0x0c4 MsiState   R  bit 0 msi_enabled, bit 1 msi_sharing
//   0x0c8 MsiCmd     W  1 ENABLE, 2 DISABLE, 3 CONFIGURE, 4 MASK, 5 UNMASK, 6 MAP_CONFIG, 7 MAP_QUEUE
//   0x0d0 MsiVecSel  W  the vector CONFIGURE / MASK / UNMASK / MAP_* apply to
//   0x0d4 MsiAddrLow, 0x0d8 MsiAddrHigh, 0x0dc MsiData  W  staged; CONFIGURE copies them into the vector
//
// Non-sharing mode (msi_sharing = 0): fixed mapping, vector 0 = configuration change, vector
// 1 + n = virtqueue n. Sharing mode: the driver maps events with MsiVecSel + MAP_CONFIG /
// MAP_QUEUE (the queue being QueueSel); VIRTIO_MMIO_MSI_NO_VECTOR (0xFFFFFFFF) unmaps.
// With MSI enabled the device sets no InterruptStatus bits, raises no line and ignores
// InterruptACK; reset clears msi_enabled. A masked vector keeps its event pending and sends it
// on UNMASK, as MSI-X does (the proposal leaves this open; PCI 3.0 §6.8.2.9 is the model).
//
// Two collisions with virtio 1.2, which postdates the proposal: feature bit 40 is now
// VIRTIO_F_RING_RESET and 0x0c0 is QueueReset. Vireo offers neither RING_RESET nor QueueReset
// on a window with MSI, so the proposal's meaning holds there; a driver that knows only 1.2
// would misread bit 40 — hence off by default.
import { bySlot, registers, type Register } from "./register-table.ts";
import type { MsiRouting } from "./transport.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

export const VIRTIO_F_MMIO_MSI = 40;
export const VIRTIO_MMIO_MSI_NO_VECTOR = 0xffff_ffff;
export const MSI_CMD_ENABLE = 1, MSI_CMD_DISABLE = 2, MSI_CMD_CONFIGURE = 3, MSI_CMD_MASK = 4;
export const MSI_CMD_UNMASK = 5, MSI_CMD_MAP_CONFIG = 6, MSI_CMD_MAP_QUEUE = 7;
export const MSI_STATE_ENABLED = 1 << 0, MSI_STATE_SHARING = 1 << 1;

const PROPOSAL = "virtio-mmio MSI proposal v2 (2020)";

/**
 * The registers, once: each row decodes its register for VirtioMmio, names it for traces and
 * the inspector, and peeks its value (the staged MsiVecSel/Addr/Data too). Offsets are the
 * window's; all are 32 bits wide.
 */
export const MMIO_MSI_REGISTERS: readonly Register<MmioMsi>[] = registers<MmioMsi>([
  { offset: 0x0c0, width: 4, name: "MsiVecNum", ref: PROPOSAL, read: (s) => s.vectors },
  { offset: 0x0c4, width: 4, name: "MsiState", ref: `${PROPOSAL}: bit 0 msi_enabled, bit 1 msi_sharing`, read: (s) => s.state() },
  { offset: 0x0c8, width: 4, name: "MsiCmd", ref: `${PROPOSAL}: ENABLE..MAP_QUEUE`, write: (s, v) => s.command(v >>> 0) },
  { offset: 0x0d0, width: 4, name: "MsiVecSel", ref: PROPOSAL, write: (s, v) => { s.sel = v >>> 0; }, peek: (s) => s.sel },
  { offset: 0x0d4, width: 4, name: "MsiAddrLow", ref: PROPOSAL, write: (s, v) => { s.addrLo = v >>> 0; }, peek: (s) => s.addrLo },
  { offset: 0x0d8, width: 4, name: "MsiAddrHigh", ref: PROPOSAL, write: (s, v) => { s.addrHi = v >>> 0; }, peek: (s) => s.addrHi },
  { offset: 0x0dc, width: 4, name: "MsiData", ref: PROPOSAL, write: (s, v) => { s.data = v >>> 0; }, peek: (s) => s.data },
]);

/** The window offsets [first, end) the MSI block owns on a window that offers it (instead of 1.2's QueueReset). */
export const MMIO_MSI_FIRST = Math.min(...MMIO_MSI_REGISTERS.map((r) => r.offset));
export const MMIO_MSI_END = Math.max(...MMIO_MSI_REGISTERS.map((r) => r.offset + r.width));

/** Register by window offset (up to MMIO_MSI_END), built once. */
export const MMIO_MSI_BY_OFFSET = bySlot(MMIO_MSI_REGISTERS, MMIO_MSI_END);

export interface MmioMsiOptions {
  queues: number;
  /** Sharing mode with this many vectors (dynamic mapping); absent: a vector per event, fixed. */
  sharedVectors?: number;
  send: (address: number, data: number) => void;
  log: (message: string) => void;
  name: string;
  /** The window's queue selection (its transport): MAP_QUEUE maps the queue QueueSel names. */
  selector: { readonly queueSel: number };
}

interface Vector { address: number; data: number; masked: boolean; pending: boolean }

export class MmioMsi implements MsiRouting, Stateful {
  readonly vectors: number;
  readonly sharing: boolean;
  enabled = false;
  /** MsiVecSel and the staged MsiAddrLow/High and MsiData (public for the register table). */
  sel = 0;
  addrLo = 0;
  addrHi = 0;
  data = 0;
  private table: Vector[];
  /** Event → vector: index 0 = configuration change, 1 + n = queue n. */
  private map: number[];
  readonly stats = { sent: 0, pended: 0 };

  /** Snapshot fields (devices/state/): staged values, the vector table and the event map. */
  get stateTable(): StateTable {
    return {
      enabled: "bool", sel: "u32", addrLo: "u32", addrHi: "u32", data: "u32",
      table: { list: { record: { address: "f64", data: "u32", masked: "bool", pending: "bool" } }, max: this.vectors },
      map: { list: "u32", max: this.map.length },
    };
  }

  constructor(private readonly o: MmioMsiOptions) {
    const shared = o.sharedVectors;
    this.sharing = shared !== undefined;
    this.vectors = shared !== undefined ? Math.max(2, shared) : o.queues + 1;
    this.table = Array.from({ length: this.vectors }, () => ({ address: 0, data: 0, masked: false, pending: false }));
    this.map = Array.from({ length: o.queues + 1 }, (_, i) => (this.sharing ? VIRTIO_MMIO_MSI_NO_VECTOR : i));
  }

  /** Device reset: MSI off, staged values and dynamic mappings forgotten. */
  reset(): void {
    this.enabled = false;
    this.sel = this.addrLo = this.addrHi = this.data = 0;
    for (const v of this.table) { v.pending = false; v.masked = false; }
    if (this.sharing) this.map.fill(VIRTIO_MMIO_MSI_NO_VECTOR);
  }

  /** MsiState: bit 0 msi_enabled, bit 1 msi_sharing. */
  state(): number {
    return (this.enabled ? MSI_STATE_ENABLED : 0) | (this.sharing ? MSI_STATE_SHARING : 0);
  }

  /** MsiCmd: act on the vector MsiVecSel names (MAP_QUEUE: for the queue QueueSel names). */
  command(cmd: number): void {
    const vec = this.table[this.sel];
    switch (cmd) {
      case MSI_CMD_ENABLE: this.enabled = true; this.release(); return;
      case MSI_CMD_DISABLE: this.enabled = false; return;
      case MSI_CMD_CONFIGURE:
        if (!vec) { this.bad(`CONFIGURE of vector ${this.sel} (of ${this.vectors})`); return; }
        vec.address = this.addrLo + this.addrHi * 0x1_0000_0000;
        vec.data = this.data;
        return;
      case MSI_CMD_MASK:
        if (!vec) { this.bad(`MASK of vector ${this.sel}`); return; }
        vec.masked = true;
        return;
      case MSI_CMD_UNMASK:
        if (!vec) { this.bad(`UNMASK of vector ${this.sel}`); return; }
        vec.masked = false;
        this.release();
        return;
      case MSI_CMD_MAP_CONFIG:
      case MSI_CMD_MAP_QUEUE: {
        if (!this.sharing) { this.bad("MAP command in non-sharing mode (fixed mapping)"); return; }
        const queueSel = this.o.selector.queueSel;
        const event = cmd === MSI_CMD_MAP_CONFIG ? 0 : 1 + queueSel;
        if (event >= this.map.length) { this.bad(`MAP_QUEUE of queue ${queueSel}, which does not exist`); return; }
        if (this.sel !== VIRTIO_MMIO_MSI_NO_VECTOR && this.sel >= this.vectors) { this.bad(`MAP to vector ${this.sel} (of ${this.vectors})`); return; }
        this.map[event] = this.sel;
        return;
      }
      default: this.bad(`unknown MsiCmd ${cmd}`);
    }
  }

  private bad(what: string): void {
    this.o.log(`${this.o.name}: MSI ${what}; ignored`);
  }

  // ---- MsiRouting ----
  queue(index: number): boolean {
    return this.event(1 + index);
  }

  config(): boolean {
    return this.event(0);
  }

  private event(e: number): boolean {
    if (!this.enabled) return false;
    const v = this.map[e] ?? VIRTIO_MMIO_MSI_NO_VECTOR;
    const vec = this.table[v];
    if (!vec) return true; // NO_VECTOR: no notification for this event
    if (vec.masked) { vec.pending = true; this.stats.pended++; return true; }
    this.send(vec);
    return true;
  }

  private release(): void {
    if (!this.enabled) return;
    for (const vec of this.table) if (vec.pending && !vec.masked) { vec.pending = false; this.send(vec); }
  }

  private send(vec: Vector): void {
    this.stats.sent++;
    this.o.send(vec.address, vec.data);
  }
}
