// What every virtio transport shares (docs/ARCHITECTURE.md "Virtio": shared parts in one common piece): the device
// status machine, feature negotiation, the queues, the interrupt status bits, the config
// generation, DEVICE_NEEDS_RESET, and the `VirtioContext` a device type is handed. The PCI and
// MMIO register files (pci.ts, mmio.ts) only decode registers onto this.
import {
  VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, VIRTIO_F_VERSION_1, bit, has,
  type TransportKind, type VirtioContext, type VirtioDevice, type VirtQueue,
} from "./device.ts";
import type { Width } from "../bus/region.ts";
import type { GuestMemory } from "./guest-memory.ts";
import { Virtqueue } from "./queue.ts";
import { DEVICE_NEEDS_RESET, DRIVER_OK, FEATURES_OK, judgeStatus, statusName, type StatusVerdict } from "./status.ts";
import type { StatusStep, TransportObserver } from "./observer.ts";
import { transportDef, type TransportDef } from "./transports.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

/** Interrupt status bits (§4.1.4.5 ISR, §4.2.2 InterruptStatus). */
export const ISR_QUEUE = 1, ISR_CONFIG = 2;

/** Per-device counters for --stats and the inspector. */
export interface VirtioStats {
  traps: number;
  notifications: number;
  interrupts: number;
  configInterrupts: number;
  rejected: number;
}

export type { StatusStep } from "./observer.ts";

/**
 * Region slots a transport counts accesses in: a PCI function's BAR index (0–5) or its
 * configuration space (PCI_CONFIG_SLOT), an MMIO window's part (0–1).
 */
export const REGION_SLOTS = 7;
/** The slot of a PCI function's configuration space (accessed through 0xCF8/0xCFC). */
export const PCI_CONFIG_SLOT = 6;

/**
 * Message-signalled notifications (virtio 1.2 §4.1.5.1.2, §4.1.4.3 msix vectors): the transport
 * asks before using ISR + INTx. Each returns true when MSI-X is enabled and took the notification
 * (sent, left pending under a mask, or dropped for VIRTIO_MSI_NO_VECTOR); false to use INTx.
 */
export interface MsiRouting {
  queue(index: number): boolean;
  config(): boolean;
}

export interface TransportOptions {
  /** Instance name for logs ("virtio-blk0"). */
  name: string;
  kind: TransportKind;
  mem: GuestMemory;
  /** Drive the interrupt line (INTx or the MMIO IRQ): true while ISR ≠ 0. */
  setIrq: (level: boolean) => void;
  log: (message: string) => void;
  /** Transport feature bits offered on top of the usual ones (virtio-mmio MSI: bit 40). */
  extraFeatures?: bigint;
}

export class VirtioTransport implements VirtioContext, Stateful {
  readonly name: string;
  readonly kind: TransportKind;
  /** Its row in virtio/transports.ts. */
  readonly def: TransportDef;
  readonly queues: Virtqueue[];
  /** Offered: the device's bits plus the ring/transport bits this transport supports. */
  readonly offered: bigint;
  status = 0;
  /** Written by the driver (32 bits at a time), judged at FEATURES_OK. */
  driverFeatures = 0n;
  /** Accepted at FEATURES_OK (or at DRIVER_OK for a legacy driver). */
  features = 0n;
  isr = 0;
  configGeneration = 0;
  queueSel = 0;
  /** Why DEVICE_NEEDS_RESET was set, for the inspector. */
  resetReason: string | null = null;
  readonly stats: VirtioStats = { traps: 0, notifications: 0, interrupts: 0, configInterrupts: 0, rejected: 0 };
  /** Guest accesses to the register files since power-on (the firmware's are forgotten). */
  accesses = 0;
  /** … per region slot (REGION_SLOTS). */
  readonly regionAccesses = new Uint32Array(REGION_SLOTS);
  /** Who watches (the inspector), or null: then nothing is recorded. */
  observer: TransportObserver | null = null;
  /** Notifications the observer held (step mode), delivered at releaseHeld(). */
  private readonly held: number[] = [];
  /** The last status step, which the FEATURES_OK checks may still mark refused. */
  private lastStep: StatusStep | null = null;
  private readonly setIrq: (level: boolean) => void;
  readonly log: (message: string) => void;
  private line = false;
  /** Set by a transport with MSI-X (virtio/pci.ts). */
  msi: MsiRouting | null = null;
  /** Called at the end of a device reset (the PCI transport forgets its MSI-X vectors). */
  onReset: (() => void) | null = null;

  /**
   * Snapshot fields (devices/state/): status, features, ISR and the interrupt line as it is (the
   * interrupt controllers hold their side), and each queue; the device is a component of its own.
   */
  get stateTable(): StateTable {
    return {
      status: "u8", driverFeatures: "u64", features: "u64", isr: "u8", configGeneration: "u8", queueSel: "u16",
      resetReason: { nullable: { str: 4096 } }, line: "bool", accesses: "f64", queues: { children: this.queues.length },
    };
  }

  constructor(readonly device: VirtioDevice, o: TransportOptions) {
    this.name = o.name;
    this.kind = o.kind;
    this.setIrq = o.setIrq;
    this.log = o.log;
    this.def = transportDef(o.kind);
    const modern = this.def.version1 !== "none";
    let f = device.features | bit(VIRTIO_F_INDIRECT_DESC) | bit(VIRTIO_F_EVENT_IDX);
    if (modern) f |= bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_F_RING_PACKED) | (o.extraFeatures ?? 0n);
    else f &= 0xffff_ffffn; // the legacy feature register is 32 bits wide
    this.offered = f;
    this.queues = device.queueSizes.map((max, i) => {
      const q = new Virtqueue(o.mem, i, max);
      q.onError = (reason) => this.needsReset(reason);
      return q;
    });
  }

  /** The queue QueueSel / queue_select names, or null when out of range. */
  selected(): Virtqueue | null {
    return this.queues[this.queueSel] ?? null;
  }

  /** The driver enables queue `q`; it starts now if the device is live, else at DRIVER_OK. */
  enableQueue(q: Virtqueue): void {
    q.enable();
    if (this.driverOk) q.start(this.features);
  }

  /** A legacy interface's one-write placement of `q` (Virtqueue.placeLegacy), enabling it. */
  placeLegacyQueue(q: Virtqueue, base: number, size: number, align: number): void {
    q.placeLegacy(base, size, align);
    if (this.driverOk) q.start(this.features);
  }

  /**
   * The device-specific configuration (§4.1.4.6, §4.2.2 Config, §4.1.4.8 after the legacy
   * header) at `off` from its start, whichever transport window it is reached through: bytes
   * past its end read 0 and ignore writes.
   */
  readConfig(off: number, w: Width): number {
    if (off + w > this.device.configSize) return 0;
    return this.device.readConfig(off, w);
  }

  writeConfig(off: number, w: Width, v: number): void {
    if (off + w > this.device.configSize) { this.log(`${this.name}: config write past the end (+0x${off.toString(16)})`); return; }
    this.device.writeConfig(off, w, v);
  }

  /** 32 bits of the offered features, `sel` 0 = bits 0–31. */
  offeredWord(sel: number): number {
    return sel > 3 ? 0 : Number((this.offered >> BigInt(32 * sel)) & 0xffff_ffffn);
  }

  /** The driver writes 32 bits of its feature set (only before FEATURES_OK). */
  setDriverWord(sel: number, v: number): void {
    if (this.status & FEATURES_OK || this.status & DRIVER_OK) { this.log(`${this.name}: driver features written after FEATURES_OK; ignored`); return; }
    if (sel > 3) return;
    const shift = BigInt(32 * sel);
    this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(v >>> 0) << shift);
  }

  driverWord(sel: number): number {
    return sel > 3 ? 0 : Number((this.driverFeatures >> BigInt(32 * sel)) & 0xffff_ffffn);
  }

  /** Device status write (§2.1, §3.1), judged by the table in status.ts. */
  writeStatus(v: number): void {
    v &= 0xff;
    const legacy = !has(this.driverFeatures, VIRTIO_F_VERSION_1);
    const verdict = judgeStatus(this.status, v, legacy);
    const from = this.status;
    if (verdict === "reset") { this.reset(); this.noteStatus(from, v, verdict); return; }
    if (verdict !== "same") this.noteStatus(from, v, verdict);
    if (verdict === "invalid") {
      this.log(`${this.name}: invalid status transition ${statusName(this.status)} → ${statusName(v)}; ignored`);
      return;
    }
    if (verdict === "same") return;
    const keep = this.status & DEVICE_NEEDS_RESET;
    const added = v & ~this.status;
    if (added & FEATURES_OK) {
      // §3.1.1 step 5–6: refuse features not offered, and a modern driver without VERSION_1.
      const extra = this.driverFeatures & ~this.offered;
      if (extra !== 0n) { this.refused(); this.log(`${this.name}: driver accepted unoffered features 0x${extra.toString(16)}; FEATURES_OK refused`); return; }
      if (this.isModernOnly() && !has(this.driverFeatures, VIRTIO_F_VERSION_1)) {
        this.refused(); this.log(`${this.name}: VERSION_1 not accepted on a modern transport; FEATURES_OK refused`); return;
      }
      this.features = this.driverFeatures;
    }
    this.status = (v & ~DEVICE_NEEDS_RESET) | keep;
    if (added & DRIVER_OK) {
      if (!(v & FEATURES_OK)) this.features = this.driverFeatures & this.offered; // legacy driver
      for (const q of this.queues) q.start(this.features);
      if (!(this.status & DEVICE_NEEDS_RESET)) this.device.activate(this);
    }
  }

  private noteStatus(from: number, written: number, verdict: StatusStep["verdict"]): void {
    const o = this.observer;
    if (o === null) { this.lastStep = null; return; }
    const to = verdict === "ok" ? (written & ~DEVICE_NEEDS_RESET) | (from & DEVICE_NEEDS_RESET)
      : verdict === "reset" ? 0 : verdict === "device" ? from | DEVICE_NEEDS_RESET : from;
    this.lastStep = { from, to, written, verdict };
    o.status(this.lastStep);
  }

  /** The step just noted was refused by the FEATURES_OK checks (§3.1.1 step 6). */
  private refused(): void {
    const last = this.lastStep;
    if (last) { last.verdict = "refused"; last.to = last.from; }
  }

  /** A guest access through region slot `region`: counted, and shown to the observer. */
  accessed(region: number, offset: number, width: number, write: boolean, value: number): void {
    this.accesses++;
    this.regionAccesses[region]!++;
    const o = this.observer;
    if (o !== null) o.access(region, offset, width, write, value);
  }

  /** Forget the access counts (the board's firmware writes are not the guest's accesses). */
  forgetAccesses(): void {
    this.accesses = 0;
    this.regionAccesses.fill(0);
  }

  /** Modern-only transports need VERSION_1; transitional/legacy accept its absence. */
  private isModernOnly(): boolean {
    return this.def.version1 === "required";
  }

  get driverOk(): boolean {
    return (this.status & DRIVER_OK) !== 0 && (this.status & DEVICE_NEEDS_RESET) === 0;
  }

  /** A queue notification (kick) from the driver. */
  kick(index: number): void {
    this.stats.notifications++;
    const q = this.queues[index];
    if (q) q.kicks++;
    const o = this.observer;
    if (o !== null && o.event(true)) { this.held.push(index); return; }
    this.deliver(index);
  }

  /** Deliver the notifications step mode held (the guest has run no instruction since). */
  releaseHeld(): void {
    for (const index of this.held.splice(0)) this.deliver(index);
  }

  private deliver(index: number): void {
    const q = this.queues[index];
    if (!q) { this.log(`${this.name}: notify of queue ${index}, which does not exist; ignored`); return; }
    if (!this.driverOk) return;
    if (!q.started) q.start(this.features); // a queue enabled after DRIVER_OK
    if (!q.ready) return;
    try {
      this.device.notify(index);
    } catch (e) {
      // A device bug must not take the VM down: the device stops until the driver resets it.
      this.needsReset(`${this.device.name}: notify of queue ${index} failed: ${(e as Error)?.message ?? e}`);
    }
  }

  /** Device reset (status 0 written, or board reset). */
  reset(): void {
    this.held.length = 0;
    this.device.reset();
    for (const q of this.queues) q.reset();
    this.status = 0;
    this.driverFeatures = this.features = 0n;
    this.queueSel = 0;
    this.resetReason = null;
    this.isr = 0;
    this.updateIrq();
    this.onReset?.();
  }

  /** Read-to-clear ISR (§4.1.4.5): returns the bits and drops the line. */
  readIsrAndClear(): number {
    const v = this.isr;
    this.isr = 0;
    this.updateIrq();
    return v;
  }

  /** InterruptACK (§4.2.2): clear the bits written. */
  ack(bits: number): void {
    this.isr &= ~bits;
    this.updateIrq();
  }

  raise(bits: number): void {
    if (bits & ISR_QUEUE) {
      this.stats.interrupts++;
      const o = this.observer;
      if (o !== null) o.event(false);
    }
    if (bits & ISR_CONFIG) this.stats.configInterrupts++;
    this.isr |= bits;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.isr !== 0;
    if (level !== this.line) {
      this.line = level;
      this.setIrq(level);
    }
  }

  // ---- VirtioContext (what the device sees) ----
  queue(index: number): VirtQueue {
    return this.queues[index]!;
  }

  publish(index: number): boolean {
    const q = this.queues[index];
    if (!q || !q.flush() || !this.driverOk) return false;
    if (this.msi?.queue(index)) { this.stats.interrupts++; return true; }
    this.raise(ISR_QUEUE);
    return true;
  }

  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) & 0xff;
    if (this.status & DRIVER_OK) this.configInterrupt();
  }

  /** A configuration change notification: by its MSI-X vector if enabled, else ISR + INTx. */
  private configInterrupt(): void {
    if (this.msi?.config()) {
      // PCI §4.1.4.5: the ISR config bit is set either way; only INTx stays quiet. MMIO MSI
      // (mmio-msi.ts): InterruptStatus stays clear.
      this.stats.configInterrupts++;
      if (this.def.bus === "pci") this.isr |= ISR_CONFIG;
      return;
    }
    this.raise(ISR_CONFIG);
  }

  needsReset(reason: string): void {
    if (this.status & DEVICE_NEEDS_RESET) return;
    this.resetReason = reason;
    this.noteStatus(this.status, -1, "device");
    this.status |= DEVICE_NEEDS_RESET;
    this.log(`${this.name}: DEVICE_NEEDS_RESET: ${reason}`);
    // §2.1.2: with DRIVER_OK set, the device sends a configuration change notification.
    if (this.status & DRIVER_OK) this.configInterrupt();
  }
}
