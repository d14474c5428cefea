// One virtqueue (virtio 1.2 §2.6), transport- and device-independent (docs/ARCHITECTURE.md "Virtio"): the transport
// sets its size and the three area addresses through lo/hi setters and starts it; the device
// pops, pushes and flushes through the `VirtQueue` interface of device.ts. The ring format is
// split (§2.7) or packed (§2.8, VIRTIO_F_RING_PACKED), chosen at start from the negotiated
// features. A guest mistake breaks the queue: `onError(reason)` fires once (the transport sets
// DEVICE_NEEDS_RESET) and the queue stays silent until reset. That includes a buffer id made
// available again while the device still holds it: at most `size` chains are ever in flight, so
// an asynchronous backend (the page's disk, its 9p folder) never queues more than the ring holds.
import { GuestChain } from "./chain.ts";
import { VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, has, type Chain, type VirtQueue } from "./device.ts";
import type { GuestMemory } from "./guest-memory.ts";
import { PackedRing } from "./packed-ring.ts";
import { RingError, type Ring } from "./ring.ts";
import { SplitRing } from "./split-ring.ts";
import { loadState, saveState, type StateTable, type Stateful } from "../state/fields.ts";
import { StateError, StateReader, StateWriter } from "../state/wire.ts";
import { chainFromRecord, type ChainRecord } from "../state/chain.ts";

export { RingError };

/**
 * Legacy split-ring placement (virtio 1.2 §2.7.2 "legacy interfaces: a note on virtqueue
 * layout"): the descriptor table at `base`, the available ring right after it, the used ring at
 * the next `align` boundary. Used by legacy virtio-pci (align 4096) and virtio-mmio v1.
 */
export function legacyLayout(base: number, size: number, align: number): { desc: number; driver: number; device: number } {
  const driver = base + 16 * size;
  const end = driver + 6 + 2 * size;
  return { desc: base, driver, device: Math.ceil(end / align) * align };
}

export class Virtqueue implements VirtQueue, Stateful {
  private _size: number;
  private _enabled = false;
  private _desc = 0;
  private _driver = 0;
  private _device = 0;
  /** Why the queue is broken, or null. */
  broken: string | null = null;
  /** Chains popped / pushed since start, for --stats. */
  popped = 0;
  pushed = 0;
  inFlight = 0;
  /** Driver notifications (kicks) of this queue; flushes that interrupted / were suppressed (inspector). */
  kicks = 0;
  notified = 0;
  suppressed = 0;
  private flushedAt = 0;
  onError: (reason: string) => void = () => {};
  private ring: Ring | null = null;
  /** Buffer ids popped and not yet pushed, one byte each (ids are < size, checked by the ring). */
  private held = new Uint8Array(0);

  /** The features the ring walker was built with (start()). */
  private ringFeatures = 0n;

  /**
   * Snapshot fields (devices/state/): placement, counters, the buffer ids in flight and the
   * walker's indices (`walker`, rebuilt by start() on load — before `held`, which start() resets).
   */
  readonly stateTable: StateTable = {
    _size: "u16", _enabled: "bool", _desc: "f64", _driver: "f64", _device: "f64", broken: { nullable: { str: 4096 } },
    popped: "f64", pushed: "f64", inFlight: "u16", kicks: "f64", notified: "f64", suppressed: "f64", flushedAt: "f64",
    walker: { nullable: { record: { features: "u64", indices: { blob: 1 << 20 } } } }, held: { blob: 32768 },
  };

  /** The ring walker as a snapshot holds it: the features it was built with and its indices. */
  get walker(): { features: bigint; indices: Uint8Array } | null {
    if (!this.ring) return null;
    const w = new StateWriter();
    saveState(w, this.ring as unknown as Stateful, `queue ${this.index} ring`);
    return { features: this.ringFeatures, indices: w.finish().slice() };
  }

  set walker(v: { features: bigint; indices: Uint8Array } | null) {
    this.ring = null;
    if (v === null) return;
    const broken = this.broken;
    this.broken = null; // a broken queue keeps its walker: rebuild it, then break it again
    this.start(v.features);
    this.broken = broken;
    if (!this.ring) throw new StateError(`queue ${this.index}: its ring does not fit guest RAM`);
    const r = new StateReader(v.indices, `queue ${this.index} ring`);
    loadState(r, this.ring as unknown as Stateful, `queue ${this.index} ring`);
    r.end();
  }

  constructor(private readonly mem: GuestMemory, readonly index: number, readonly maxSize: number) {
    this._size = maxSize;
  }

  /** Negotiated ring size; the transport may lower it from maxSize (modern, mmio). */
  get size(): number { return this._size; }
  /** Driver-enabled (QueueReady / queue_enable / a non-zero legacy PFN). */
  get enabled(): boolean { return this._enabled; }
  /** Guest-physical addresses of the descriptor, driver and device areas (§2.6). */
  get desc(): number { return this._desc; }
  get driver(): number { return this._driver; }
  get device(): number { return this._device; }

  get ready(): boolean {
    return this.ring !== null && this.broken === null;
  }

  get started(): boolean {
    return this.ring !== null;
  }

  // ---- transport side ----
  // Size and addresses are the driver's to choose only while the queue is disabled (§4.1.4.3.2,
  // §4.2.3.2): writes to an enabled queue are ignored.
  setSize(v: number): void { if (!this._enabled) this._size = v; }
  setDescLo(v: number): void { if (!this._enabled) this._desc = hiOf(this._desc) + (v >>> 0); }
  setDescHi(v: number): void { if (!this._enabled) this._desc = (v >>> 0) * 0x1_0000_0000 + loOf(this._desc); }
  setDriverLo(v: number): void { if (!this._enabled) this._driver = hiOf(this._driver) + (v >>> 0); }
  setDriverHi(v: number): void { if (!this._enabled) this._driver = (v >>> 0) * 0x1_0000_0000 + loOf(this._driver); }
  setDeviceLo(v: number): void { if (!this._enabled) this._device = hiOf(this._device) + (v >>> 0); }
  setDeviceHi(v: number): void { if (!this._enabled) this._device = (v >>> 0) * 0x1_0000_0000 + loOf(this._device); }

  /** The driver enables the queue (QueueReady, queue_enable); it starts once the device is live. */
  enable(): void { this._enabled = true; }

  /**
   * A legacy interface places and enables the queue in one write (legacy virtio-pci's
   * QueueAddress, virtio-mmio v1's QueuePFN): a split ring of `size` at `base` (legacyLayout).
   */
  placeLegacy(base: number, size: number, align: number): void {
    const l = legacyLayout(base, size, align);
    this._size = size;
    this._desc = l.desc; this._driver = l.driver; this._device = l.device;
    this._enabled = true;
  }

  /** Build the ring walker from the addresses and `features`; a bad layout breaks the queue. */
  start(features: bigint): void {
    if (!this._enabled || this.ring || this.broken) return;
    const packed = has(features, VIRTIO_F_RING_PACKED);
    const size = this.size;
    if (size === 0 || size > this.maxSize || (!packed && (size & (size - 1)) !== 0)) {
      this.fail(`queue size ${size} invalid (max ${this.maxSize}${packed ? "" : ", power of two"})`);
      return;
    }
    const a = { desc: this._desc, driver: this._driver, device: this._device };
    const indirect = has(features, VIRTIO_F_INDIRECT_DESC), eventIdx = has(features, VIRTIO_F_EVENT_IDX);
    try {
      this.ring = packed ? new PackedRing(this.mem, size, a, indirect, eventIdx) : new SplitRing(this.mem, size, a, indirect, eventIdx);
      this.held = new Uint8Array(size);
      this.ringFeatures = features;
    } catch (e) {
      this.catch(e);
    }
  }

  /** Back to the power-on state (§2.6 / §4.1.4.3.2 queue reset). */
  reset(): void {
    this.ring = null;
    this.held = new Uint8Array(0);
    this._enabled = false;
    this._size = this.maxSize;
    this._desc = this._driver = this._device = 0;
    this.broken = null;
    this.popped = this.pushed = this.inFlight = 0;
    this.kicks = this.notified = this.suppressed = this.flushedAt = 0;
  }

  /** The walker's private indices (next avail, used shadow, wrap counters), for the inspector. */
  ringState(): Record<string, number | boolean> | null {
    return this.ring ? this.ring.state() : null;
  }

  /** The ring format in use, once started. */
  get format(): "split" | "packed" | null {
    return this.ring === null ? null : this.ring instanceof PackedRing ? "packed" : "split";
  }

  // ---- device side (VirtQueue) ----
  pop(): Chain | null {
    if (!this.ready) return null;
    try {
      const c = this.ring!.pop();
      if (!c) return null;
      // A buffer is the driver's again only once the device has used it (§2.7, §2.8): a head or
      // buffer id made available again while in flight is a second request on the same buffers.
      if (this.held[c.id] !== 0 || this.inFlight >= this.size) {
        this.fail(`buffer id ${c.id} made available again while in flight (${this.inFlight} in flight, queue size ${this.size})`);
        return null;
      }
      this.held[c.id] = 1;
      this.popped++;
      this.inFlight++;
      return c;
    } catch (e) {
      this.catch(e);
      return null;
    }
  }

  push(chain: Chain, written: number): void {
    if (!this.ready) return;
    if (!(chain instanceof GuestChain)) throw new TypeError("push: not a chain popped from a queue");
    // A chain from before a reset (an asynchronous completion arriving late) is not ours to push.
    if (this.held[chain.id] !== 1) return;
    this.held[chain.id] = 0;
    this.ring!.push(chain, written);
    this.pushed++;
    this.inFlight--;
  }

  flush(): boolean {
    if (!this.ready) return false;
    const need = this.ring!.flush();
    // Count only flushes that published something: did the driver want the interrupt (§2.7.7)?
    if (this.pushed !== this.flushedAt) {
      this.flushedAt = this.pushed;
      if (need) this.notified++;
      else this.suppressed++;
    }
    return need;
  }

  restoreChain(record: ChainRecord): Chain {
    if (this.held[record.id] !== 1) throw new StateError(`queue ${this.index}: a held chain's buffer id ${record.id} is not in flight`);
    return chainFromRecord(this.mem, record);
  }

  disableNotifications(): void {
    if (this.ready) this.ring!.disable();
  }

  enableNotifications(): boolean {
    if (!this.ready) return false;
    try {
      return this.ring!.enable();
    } catch (e) {
      this.catch(e);
      return false;
    }
  }

  private catch(e: unknown): void {
    if (!(e instanceof RingError)) throw e;
    this.fail(e.message);
  }

  private fail(reason: string): void {
    if (this.broken) return;
    this.broken = `queue ${this.index}: ${reason}`;
    this.onError(this.broken);
  }
}

const loOf = (v: number): number => v % 0x1_0000_0000;
const hiOf = (v: number): number => v - (v % 0x1_0000_0000);
