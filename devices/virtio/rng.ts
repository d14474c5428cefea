// virtio-rng, the entropy device (virtio 1.2 §5.4): one request queue whose device-writable
// buffers the device fills with random bytes. No feature bits and no configuration space
// (§5.4.3, §5.4.4). What the guest's driver expects: Linux 6.1
// drivers/char/hw_random/virtio-rng.c keeps one small buffer posted (request_entropy()) and
// takes the used length as the number of random bytes it got (random_recv_done()).
//
// The bytes come from the host's CSPRNG, globalThis.crypto.getRandomValues (Node ≥ 20 workers
// and browsers), which fills at most 65536 bytes per call and, in browsers, refuses views of a
// SharedArrayBuffer — which guest RAM is. So it fills a private scratch buffer, copied out.
import { serveQueue } from "./notify-loop.ts";
import type { Width } from "../bus/region.ts";
import type { VirtioContext, VirtioDevice } from "./device.ts";
import type { DeviceType } from "./device-type.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

/** The getRandomValues limit per call (Web Crypto: QuotaExceededError above it). */
export const RNG_CHUNK = 65536;
/**
 * Most bytes one request gets. A chain's writable total is the guest's claim, not a buffer:
 * overlapping descriptors make it up to 1,024 × RAM. Linux posts one small buffer at a time and
 * reads the used length as what it got, so a short fill is a correct answer (the spec's device
 * requirements for the entropy device: it MAY use less than the entire buffer).
 */
export const RNG_MAX_REQUEST = 65536;

export interface VirtioRngOptions {
  /** Ring size offered. Default 64. */
  queueSize?: number;
  /** Fill `dst` with random bytes (tests may inject one). Default: crypto.getRandomValues. */
  fill?: (dst: Uint8Array) => void;
}

export class VirtioRng implements VirtioDevice, Stateful {
  readonly name = rngType.name;
  readonly deviceId = rngType.deviceId;
  readonly features = 0n;
  readonly queueSizes: readonly number[];
  readonly configSize = 0;
  private readonly fill: (dst: Uint8Array) => void;
  private ctx: VirtioContext | null = null;
  private bytes = 0;
  private readonly scratch = new Uint8Array(RNG_CHUNK);

  constructor(opts: VirtioRngOptions = {}) {
    this.queueSizes = [opts.queueSize ?? 64];
    this.fill = opts.fill ?? ((dst) => void globalThis.crypto.getRandomValues(dst));
  }

  readConfig(): number {
    return 0; // no configuration space (§5.4.4); the transport never calls this for size 0
  }

  writeConfig(_offset: number, _width: Width, _value: number): void {}

  /** Snapshot fields (devices/state/): only the byte count; the entropy itself is not state. */
  readonly stateTable: StateTable = { bytes: "f64" };

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
  }

  reset(): void {
    this.ctx = null;
  }

  /** Each chain's writable bytes, up to RNG_MAX_REQUEST, get entropy (the loop: notify-loop.ts). */
  notify(index: number): void {
    if (!this.ctx || index !== 0) return;
    serveQueue(this.ctx, 0, (c) => {
      // Readable buffers carry nothing for us (§5.4.6.1: the driver MUST NOT place them first)
      // and are ignored; the used length is the number of bytes filled.
      const n = Math.min(c.writableBytes, RNG_MAX_REQUEST);
      for (const v of c.writableViews(0, n)) {
        for (let at = 0; at < v.length; at += RNG_CHUNK) {
          const piece = this.scratch.subarray(0, Math.min(RNG_CHUNK, v.length - at));
          this.fill(piece);
          v.set(piece, at);
        }
      }
      this.bytes += n;
      return n;
    });
  }

  stats(): Record<string, number> {
    return { bytes: this.bytes };
  }
}

/** The registry entry (devices/registry.ts). */
export const rngType: DeviceType = {
  name: "rng",
  deviceId: 4,
  summary: "an entropy source (/dev/hwrng)",
  options: [],
  features: {}, // include/uapi/linux/virtio_rng.h defines none
  pciClass: 0x00ff00,
  page: { param: "rng", label: "RNG", off: "off", default: "off", order: 2 },
  create: () => new VirtioRng(),
};
