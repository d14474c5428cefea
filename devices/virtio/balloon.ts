// virtio-balloon, the traditional memory balloon (virtio 1.2 §5.5): the host sets a target
// number of 4 KiB pages (config num_pages); the driver inflates by handing that many guest page
// frames to the device on the inflate queue, deflates by taking them back on the deflate
// queue, and reports how many it holds in config `actual`. With VIRTIO_BALLOON_F_STATS_VQ the
// driver also reports memory statistics on a third queue.
//
// What the guest's driver does (Linux 6.1 drivers/virtio/virtio_balloon.c): on probe it primes
// the stats queue with one buffer of current statistics and kicks — before DRIVER_OK, so the
// device looks for it at activation. The device "asks" for fresh statistics by returning that
// buffer (used, length 0); the driver refills it and queues it again (stats_handle_request).
// On a config change (and at the end of probe) it moves towards num_pages in batches of up to
// 256 PFNs per buffer, waits for each to be used, then writes `actual`. Without
// VIRTIO_BALLOON_F_DEFLATE_ON_OOM (not offered here) it removes ballooned pages from the
// managed total, so the guest's MemTotal shrinks by what the balloon holds.
//
// Guest RAM lives in a SharedArrayBuffer that cannot give pages back to the host, so inflating
// only accounts for them; the point here is to show the protocol, and the guest side is real.
import type { Width } from "../bus/region.ts";
import { bit, has, type Chain, type VirtioContext, type VirtioDevice } from "./device.ts";
import { serveQueue, PARKED } from "./notify-loop.ts";
import { ConfigSpace, type ConfigField } from "./config-space.ts";
import type { DeviceType } from "./device-type.ts";
import type { VirtioDeviceSpec } from "../vm/config.ts";
import type { StateTable, Stateful } from "../state/fields.ts";
import { CHAIN_FIELD, chainRecord, type ChainRecord } from "../state/chain.ts";
import { StateError } from "../state/wire.ts";

// Feature bits (§5.5.3).
export const VIRTIO_BALLOON_F_MUST_TELL_HOST = 0n;
export const VIRTIO_BALLOON_F_STATS_VQ = 1n;
export const VIRTIO_BALLOON_F_DEFLATE_ON_OOM = 2n;

/** Page frame numbers are in 4 KiB units whatever the guest's page size (§5.5.6). */
export const BALLOON_PAGE = 4096;

/** Queues (§5.5.2). */
const INFLATE = 0, DEFLATE = 1, STATS = 2;

/** struct virtio_balloon_config (§5.5.4): both fields little-endian, even for a legacy device.
 *  free_page_hint_cmd_id and poison_val are left out: their features are not offered. */
const BALLOON_CONFIG: readonly ConfigField[] = [
  { offset: 0, width: 4, name: "num_pages", ref: "§5.5.4: pages the host wants the driver to hold" },
  { offset: 4, width: 4, name: "actual", ref: "§5.5.4: pages the driver holds (driver-written)" },
];
const ACTUAL = BALLOON_CONFIG[1]!;

/** Statistic tags (§5.5.6.3), as in include/uapi/linux/virtio_balloon.h. */
export const BALLOON_STAT_NAMES: Readonly<Record<number, string>> = {
  0: "swapIn", 1: "swapOut", 2: "majorFaults", 3: "minorFaults", 4: "memFree", 5: "memTotal",
  6: "memAvailable", 7: "diskCaches", 8: "hugetlbAllocations", 9: "hugetlbFailures",
};
const STAT_BYTES = 10; // le16 tag + le64 value, packed
/**
 * Most PFNs taken from one inflate/deflate buffer. Linux sends at most 256
 * (VIRTIO_BALLOON_ARRAY_PFNS_MAX); a chain's byte total is the guest's claim (overlapping
 * descriptors: up to 1,024 × RAM), so more are counted as refused, never read.
 */
export const BALLOON_MAX_PFNS = 4096;
/** PFNs read per step, into a fixed scratch buffer (no allocation per request). */
const PFN_BATCH = 256;

export interface VirtioBalloonOptions {
  /** Guest RAM in bytes: PFNs beyond it are refused. */
  ramBytes: number;
  /** Pages to ask for at power-on (default 0). */
  targetPages?: number;
  queueSize?: number;
}

export class VirtioBalloon implements VirtioDevice, Stateful {
  readonly name = balloonType.name;
  readonly deviceId = balloonType.deviceId;
  readonly features = bit(VIRTIO_BALLOON_F_STATS_VQ);
  readonly queueSizes: readonly number[];
  readonly config = new ConfigSpace(BALLOON_CONFIG);

  private ctx: VirtioContext | null = null;
  private readonly ramPages: number;
  /** The frames the guest has given us (a set: a frame given twice counts once). */
  private readonly held = new Set<number>();
  /** The stats buffer the driver left with us; returning it asks for an update. */
  private statsChain: Chain | null = null;
  private latest: Record<string, number> = {};
  private statsAt = 0;
  private readonly counters = { inflated: 0, deflated: 0, refused: 0, statsUpdates: 0 };
  private readonly scratch = new Uint8Array(PFN_BATCH * 4);
  private readonly scratchView = new DataView(this.scratch.buffer);

  constructor(opts: VirtioBalloonOptions) {
    this.ramPages = Math.floor(opts.ramBytes / BALLOON_PAGE);
    this.config.set("num_pages", this.clampTarget(opts.targetPages ?? 0));
    this.queueSizes = [opts.queueSize ?? 128, opts.queueSize ?? 128, opts.queueSize ?? 128];
  }

  private clampTarget(pages: number): number {
    return Math.max(0, Math.min(this.ramPages, Math.floor(pages)));
  }

  /** The host's wish: hold `pages` 4 KiB pages. A config interrupt tells the driver. */
  inspected(): void {
    this.requestStats();
  }

  setTargetMiB(mib: number): void {
    this.setTarget((mib * (1 << 20)) / BALLOON_PAGE);
  }

  setTarget(pages: number): void {
    this.config.set("num_pages", this.clampTarget(pages));
    this.ctx?.configChanged();
  }

  get configSize(): number {
    return this.config.size;
  }

  /** Return the stats buffer so the driver refills it (no-op until it has left one). */
  requestStats(): boolean {
    const c = this.statsChain;
    if (!this.ctx || !c) return false;
    this.statsChain = null;
    this.ctx.queue(STATS).push(c, 0);
    this.ctx.publish(STATS);
    return true;
  }

  /** The last statistics the guest reported, by name, and when (guest-independent counter). */
  guestStats(): { stats: Record<string, number>; updates: number } {
    return { stats: { ...this.latest }, updates: this.statsAt };
  }

  readConfig(offset: number, width: Width): number {
    return this.config.read(offset, width);
  }

  writeConfig(offset: number, width: Width, value: number): void {
    // Only `actual` is the driver's to write (§5.5.6.1); a write to num_pages is ignored.
    this.config.write(offset, width, value, (at) => at >= ACTUAL.offset && at < ACTUAL.offset + ACTUAL.width);
  }

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
    // The driver queued its first stats buffer before DRIVER_OK: pick it up now.
    if (has(ctx.features, VIRTIO_BALLOON_F_STATS_VQ) && ctx.queue(STATS)?.ready) this.notify(STATS);
  }

  /** Snapshot fields (devices/state/): config, the pages the guest gave, the held stats buffer, the last stats. */
  get stateTable(): StateTable {
    return {
      config: "child", heldPages: { list: "u32", max: this.ramPages }, statsBuffer: { nullable: CHAIN_FIELD },
      latestStats: { list: { record: { name: { str: 64 }, value: "f64" } }, max: 64 }, statsAt: "f64",
    };
  }

  get heldPages(): number[] { return [...this.held]; }
  set heldPages(v: number[]) { this.held.clear(); for (const p of v) this.held.add(p); }

  get statsBuffer(): ChainRecord | null { return this.statsChain && chainRecord(this.statsChain); }
  set statsBuffer(v: ChainRecord | null) {
    if (v && !this.ctx) throw new StateError("virtio-balloon: a stats buffer held by a device that is not live");
    this.statsChain = v && this.ctx!.queue(STATS).restoreChain(v);
  }

  get latestStats(): { name: string; value: number }[] {
    return Object.entries(this.latest).map(([name, value]) => ({ name, value }));
  }
  set latestStats(v: { name: string; value: number }[]) {
    this.latest = Object.fromEntries(v.map((s) => [s.name, s.value]));
  }

  reset(): void {
    this.ctx = null;
    this.statsChain = null;
    this.held.clear();
    this.config.set("actual", 0);
  }

  notify(index: number): void {
    const ctx = this.ctx;
    if (!ctx) return;
    if (index === INFLATE || index === DEFLATE) {
      serveQueue(ctx, index, (c) => {
        this.pfns(c, index === INFLATE);
        return 0; // nothing written back
      });
    } else if (index === STATS) {
      serveQueue(ctx, STATS, (c) => {
        this.readStats(c);
        if (this.statsChain) return 0; // a second buffer: the spec allows one; hand it back
        this.statsChain = c;
        return PARKED;
      });
    }
  }

  /** An inflate or deflate buffer: an array of le32 page frame numbers (≤ BALLOON_MAX_PFNS read). */
  private pfns(c: Chain, inflate: boolean): void {
    const claimed = Math.floor(c.readableBytes / 4);
    const n = Math.min(claimed, BALLOON_MAX_PFNS);
    if (n < claimed) {
      this.counters.refused += claimed - n;
      this.ctx?.log(`virtio-balloon: buffer of ${claimed} PFNs; the first ${n} taken, the rest refused`);
    }
    const v = this.scratchView;
    for (let at = 0; at < n; at += PFN_BATCH) {
      const k = Math.min(PFN_BATCH, n - at);
      c.read(at * 4, this.scratch.subarray(0, k * 4));
      for (let i = 0; i < k; i++) {
        const pfn = v.getUint32(i * 4, true);
        if (pfn >= this.ramPages) {
          // A frame outside RAM is a driver bug (or a hostile one): count it, keep going.
          if (this.counters.refused++ === 0) this.ctx?.log(`virtio-balloon: PFN 0x${pfn.toString(16)} is outside guest RAM; ignored`);
          continue;
        }
        if (inflate) {
          this.held.add(pfn);
          this.counters.inflated++;
        } else {
          this.held.delete(pfn);
          this.counters.deflated++;
        }
      }
    }
  }

  private readStats(c: Chain): void {
    const n = Math.min(64, Math.floor(c.readableBytes / STAT_BYTES));
    const buf = new Uint8Array(n * STAT_BYTES);
    c.read(0, buf);
    const v = new DataView(buf.buffer);
    const out: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const tag = v.getUint16(i * STAT_BYTES, true);
      const value = Number(v.getBigUint64(i * STAT_BYTES + 2, true));
      out[BALLOON_STAT_NAMES[tag] ?? `tag${tag}`] = value;
    }
    this.latest = out;
    this.statsAt++;
    this.counters.statsUpdates++;
  }

  stats(): Record<string, number> {
    return {
      targetPages: this.config.get("num_pages"),
      actualPages: this.config.get("actual"),
      heldPages: this.held.size,
      ...this.counters,
      ...Object.fromEntries(Object.entries(this.latest).map(([k, val]) => [`guest.${k}`, val])),
    };
  }
}

/** The registry entry (devices/registry.ts). */
/** A balloon `--device`. */
export interface BalloonSpec extends VirtioDeviceSpec {
  /** MiB the host asks the guest to give up from power-on (default 0). */
  balloonMiB?: number;
}

export const balloonType: DeviceType<BalloonSpec> = {
  name: "balloon",
  deviceId: 5,
  summary: "a memory balloon; --stats shows the memory statistics its driver reports",
  options: [
    {
      key: "mib", field: "balloonMiB", kind: "int", meta: "N", unit: "MiB", default: 0, help: "MiB inflated from power-on",
      check: (v, ctx) => (typeof v === "number" && v >= ctx.memMiB ? `mib=${v} must be less than the guest's ${ctx.memMiB} MiB` : null),
    },
  ],
  features: {},
  config: BALLOON_CONFIG,
  roles: ["memory"],
  page: { param: "balloon", label: "Balloon", off: "off", default: "off", order: 3 },
  create: (spec, ctx) => new VirtioBalloon({
    ramBytes: ctx.mem.size, targetPages: ((spec.balloonMiB ?? 0) << 20) / BALLOON_PAGE,
  }),
};
