// The VM's disks as the run loop sees them: each block backend opened once per VM and reused
// by every board a reboot builds (a disk outlives a reset, as on real hardware), written back
// in the background while the guest idles (realtime only: its timing would make a
// deterministic run vary), and flushed and closed when the VM ends.
import type { BlockBackend } from "../host/block.ts";
import type { BlockDeviceSpec } from "../virtio/device-type.ts";

/** Least time between idle write-backs of a disk's unflushed writes (BlockBackend.writeBack). */
export const WRITE_BACK_MS = 500;

export class VmDisks {
  private readonly disks = new Map<BlockDeviceSpec, BlockBackend>();
  /** The idle write-back in flight, or null. */
  private pending: Promise<unknown> | null = null;
  private nextAt = 0;
  private failed = false;
  /** What the board opens a blk device's backend with: once per spec, then the same backend. */
  readonly openBlock: ((spec: BlockDeviceSpec) => BlockBackend) | undefined;

  constructor(open: ((spec: BlockDeviceSpec) => BlockBackend) | undefined, private readonly log: (message: string) => void) {
    this.openBlock = open && ((spec) => {
      let disk = this.disks.get(spec);
      if (!disk) this.disks.set(spec, (disk = open(spec)));
      return disk;
    });
  }

  /** The idle write-back in flight, if any: host I/O the loop must give the event loop turns for. */
  get writeBack(): Promise<unknown> | null {
    return this.pending;
  }

  /** The guest idles: start a write-back if none is running and the last began WRITE_BACK_MS ago. */
  idle(now: number): void {
    if (this.pending === null && this.disks.size > 0 && now >= this.nextAt) this.start(now);
  }

  private start(now: number): void {
    this.nextAt = now + WRITE_BACK_MS;
    const started: Promise<unknown>[] = [];
    for (const disk of this.disks.values()) {
      const p = disk.writeBack?.();
      if (p) started.push(p);
    }
    if (started.length === 0) return;
    const p: Promise<unknown> = Promise.all(started).then(
      () => void (this.failed = false),
      (e: unknown) => {
        // Blocks stay dirty and are retried; say so once, not every WRITE_BACK_MS.
        if (!this.failed) this.log(`disk write-back failed (retrying): ${(e as Error)?.message ?? e}`);
        this.failed = true;
      },
    ).finally(() => void (this.pending === p && (this.pending = null)));
    this.pending = p;
  }

  /**
   * The VM ends: write back what the guest wrote but never flushed, as a disk does with its
   * write cache on a clean power-off (otherwise a power off would lose it), and close.
   */
  async close(): Promise<void> {
    for (const [spec, disk] of this.disks) {
      try {
        await disk.flush();
      } catch (e) {
        this.log(`disk ${spec.image ?? spec.type}: could not save on power off: ${(e as Error)?.message ?? e}`);
      }
      disk.close?.();
    }
  }
}
