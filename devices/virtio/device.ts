// The virtio device-type interface (docs/ARCHITECTURE.md "Virtio"): what virtio-blk, -console,
// -rng … implement, and the queue/chain API they consume. A device type never sees its
// transport (virtio-pci legacy/modern/transitional, virtio-mmio v1/v2) and never walks
// descriptors itself: it pops validated chains, copies bytes in and out through the chain, and
// pushes them back used. The transport side (devices/virtio/transport.ts) owns status, feature
// negotiation, queue addresses and interrupts, and hands the device a `VirtioContext`.
//
// Devices serve their queues with the canonical notify loop, serveQueue() in notify-loop.ts
// (docs/ARCHITECTURE.md "Virtio"): disable kicks, pop, handle, push, re-enable and re-check, publish once.
//
// Asynchronous completion (a block backend that answers later) pushes the chain when the data
// is there and calls `ctx.publish(q)` then; the chain object stays valid until pushed or until
// the device is reset.
import type { Width } from "../bus/region.ts";
import { TRANSPORT_NAMES, type TransportName } from "./transports.ts";
import type { ChainRecord } from "../state/chain.ts";

// ---- feature bits (virtio 1.2 §6 "Reserved Feature Bits") --------------------------------------
// Bigints because the feature space is 64 bits (and more in principle). Device-specific bits
// are 0–23 (and 50–127); the transport offers the ring/transport bits below itself.
export const VIRTIO_F_NOTIFY_ON_EMPTY = 24n; // legacy only (§6, legacy interface)
export const VIRTIO_F_ANY_LAYOUT = 27n; // legacy only: the device accepts any framing
export const VIRTIO_F_INDIRECT_DESC = 28n; // §2.7.5.3 / §2.8.7 indirect descriptors
export const VIRTIO_F_EVENT_IDX = 29n; // §2.7.7 used_event / avail_event suppression
export const VIRTIO_F_VERSION_1 = 32n; // §6: modern (non-legacy) interface
export const VIRTIO_F_ACCESS_PLATFORM = 33n;
export const VIRTIO_F_RING_PACKED = 34n; // §2.8 packed virtqueues
export const VIRTIO_F_IN_ORDER = 35n;
export const VIRTIO_F_NOTIFICATION_DATA = 38n;

/** 1n << bit, for building feature masks: `bit(VIRTIO_BLK_F_RO) | bit(...)`. */
export const bit = (n: bigint): bigint => 1n << n;
/** True when feature `n` is set in `features`. */
export const has = (features: bigint, n: bigint): boolean => ((features >> n) & 1n) === 1n;

// ---- chains ----------------------------------------------------------------------------------

/** One guest buffer of a chain: a physical address range already checked to lie in RAM. */
export interface Segment {
  readonly addr: number;
  readonly len: number;
}

/**
 * A descriptor chain popped from a queue, validated as a whole before the device sees it
 * (every address inside RAM, no loop, no more hops than the queue size, indirect tables
 * well-formed, readable buffers before writable ones). `readable` are the driver→device
 * buffers in chain order, `writable` the device→driver ones; offsets in `read`/`write` run
 * across the segments as one contiguous byte stream.
 */
export interface Chain {
  /** The buffer id the used entry reports (split: head descriptor index; packed: buffer id). */
  readonly id: number;
  readonly readable: readonly Segment[];
  readonly writable: readonly Segment[];
  /** Sum of readable segment lengths. */
  readonly readableBytes: number;
  /** Sum of writable segment lengths. */
  readonly writableBytes: number;
  /** Copy readable bytes [offset, offset + dst.length) into `dst`; returns bytes copied. */
  read(offset: number, dst: Uint8Array): number;
  /** Copy `src` into the writable bytes at `offset`; returns bytes copied (short at the end). */
  write(offset: number, src: Uint8Array): number;
  /** Live views of writable bytes [offset, offset + len) split at segment boundaries (zero-copy fill). */
  writableViews(offset: number, len: number): Uint8Array[];
  /** Live views of readable bytes [offset, offset + len) split at segment boundaries. */
  readableViews(offset: number, len: number): Uint8Array[];
}

// ---- the queue, as a device sees it ----------------------------------------------------------

export interface VirtQueue {
  readonly index: number;
  /** The negotiated ring size (≤ the device's max for this queue). */
  readonly size: number;
  /** Enabled by the driver and not broken. */
  readonly ready: boolean;
  /**
   * The next available chain, validated, or null when the ring is empty (or the queue is not
   * ready, or the guest broke it — then the transport has already been told DEVICE_NEEDS_RESET
   * with the reason, and every later pop returns null until reset).
   */
  pop(): Chain | null;
  /**
   * Return `chain` to the driver with `written` bytes written into its writable buffers.
   * Written to the used ring at once, but the used index (split) / the head's flags (packed)
   * become visible only at `flush` (the batch).
   */
  push(chain: Chain, written: number): void;
  /**
   * Publish pushed entries. True when the driver must be interrupted: something was published
   * and the driver has not suppressed it (VIRTQ_AVAIL_F_NO_INTERRUPT, EVENT_IDX used_event, or
   * the packed driver event suppression structure). Normally called through ctx.publish.
   */
  flush(): boolean;
  /** Ask the driver not to notify (kick) us — VIRTQ_USED_F_NO_NOTIFY / avail_event / packed flags. */
  disableNotifications(): void;
  /**
   * Ask for kicks again and re-check: true when buffers became available meanwhile (so the
   * device must loop again instead of waiting for a kick that will not come).
   */
  enableNotifications(): boolean;
  /**
   * A chain this queue handed out before a snapshot, rebuilt from its record (devices/state/
   * chain.ts) with every range checked against guest RAM: the device held it across the save.
   */
  restoreChain(record: ChainRecord): Chain;
  /** Chains popped and not yet pushed (for --stats and the inspector). */
  readonly inFlight: number;
}

// ---- what the transport gives a device -------------------------------------------------------

export interface VirtioContext {
  /** The features the driver accepted (FEATURES_OK). */
  readonly features: bigint;
  /** Queue `index` (0 ≤ index < device.queueSizes.length). */
  queue(index: number): VirtQueue;
  /** Flush queue `index` and raise the queue interrupt if the driver wants one. Returns whether it did. */
  publish(index: number): boolean;
  /** The device's config space changed: bump the config generation, raise a config interrupt. */
  configChanged(): void;
  /** Guest mistake or device failure: set DEVICE_NEEDS_RESET (0x40), log `reason`, stop the queues. */
  needsReset(reason: string): void;
  /** Board log (worker "log" events; the CLI prints them on stderr). */
  log(message: string): void;
}

// ---- the device type -------------------------------------------------------------------------

export interface VirtioDevice {
  /** Short type name for logs, --stats and the inspector: "blk", "console", "rng". */
  readonly name: string;
  /** Virtio device id (virtio 1.2 §5): blk 2, console 3, rng 4. */
  readonly deviceId: number;
  /**
   * Device feature bits offered (device-specific bits, e.g. VIRTIO_BLK_F_RO). The transport
   * adds VERSION_1 (modern transports), INDIRECT_DESC, EVENT_IDX and RING_PACKED (modern only).
   */
  readonly features: bigint;
  /** Maximum size of each queue (powers of two ≤ 32768); the length is the queue count. */
  readonly queueSizes: readonly number[];
  /** Bytes of device-specific configuration space (§4.1.4.6 / §4.2.2 Config). */
  readonly configSize: number;
  /** Read config bytes [offset, offset + width) little-endian; offset + width ≤ configSize (checked by the transport). */
  readConfig(offset: number, width: Width): number;
  /** A driver write to config space (most fields are read-only: ignore those). */
  writeConfig(offset: number, width: Width, value: number): void;
  /** DRIVER_OK: the queues are set up and `ctx` is live until `reset`. */
  activate(ctx: VirtioContext): void;
  /** The driver kicked queue `index` (only after activate). */
  notify(index: number): void;
  /** Driver wrote status 0, or the board reset: drop in-flight chains and return to power-on state. */
  reset(): void;
  /** Called by the board between run slices: drain host-side input / async completions. */
  poll?(): void;
  /**
   * Host I/O the device is waiting for (an asynchronous flush): a Promise that settles when
   * poll() has something to complete, or null. The run loop then yields to the event loop.
   */
  hostIo?(): Promise<unknown> | null;
  /** Host-side input waits for poll() (a network frame from another thread): the run loop must not sleep. */
  hasInput?(): boolean;
  /** Device-specific counters for --stats. */
  stats?(): Record<string, number>;

  // What the host may do to a device, by capability (the board never asks for a type by name):
  /** Host keyboard bytes (a console device). */
  consoleInput?(bytes: Uint8Array): void;
  /** The host terminal's size (a console device). */
  consoleResize?(cols: number, rows: number): void;
  /** The memory the host asks the guest to give up, in MiB (a balloon). */
  setTargetMiB?(mib: number): void;
  /** A key press or release, Linux KEY_* code (a keyboard). */
  inputKey?(code: number, down: boolean): void;
  /**
   * Someone looks (an inspector snapshot, at most once a second): a device whose figures only
   * arrive when asked for (a balloon's statistics, virtio 1.2 §5.5.6.3) asks now.
   */
  inspected?(): void;
}

/** The host's optional ways in (VirtioDevice's capability methods). */
export type HostCapability = "consoleInput" | "consoleResize" | "setTargetMiB" | "inputKey";

/** A device that has capability `K`: what `hasCapability` proves, so a call needs no assertion. */
export type WithCapability<K extends HostCapability> = VirtioDevice & Required<Pick<VirtioDevice, K>>;

export function hasCapability<K extends HostCapability>(d: VirtioDevice, k: K): d is WithCapability<K> {
  return typeof d[k] === "function";
}

// ---- host-side self-description (like a VFIO device fd) ---------------------------

/** A transport's name (devices/virtio/transports.ts declares them). */
export type TransportKind = TransportName;
export const TRANSPORT_KINDS: readonly TransportKind[] = TRANSPORT_NAMES;

/** One region of a device, VFIO_DEVICE_GET_REGION_INFO style. */
export interface VirtioRegionInfo {
  index: number;
  name: string;
  kind: "pio" | "mmio" | "config";
  /** Where it decodes now (null: not mapped, e.g. a BAR before firmware). */
  base: number | null;
  size: number;
  flags: { read: boolean; write: boolean };
}

/** One interrupt source, VFIO_DEVICE_GET_IRQ_INFO style. */
export interface VirtioIrqInfo {
  index: number;
  name: string;
  count: number;
  flags: "level" | "edge" | "msi" | "msix";
  /** The PIC line it is routed to, when known. */
  line?: number;
}

export interface VirtioDeviceInfo {
  /** Instance name, e.g. "virtio-blk0". */
  name: string;
  deviceId: number;
  transport: TransportKind;
  regions: VirtioRegionInfo[];
  irqs: VirtioIrqInfo[];
}
