// virtio-9p, a shared folder (virtio 1.2 §5.6? — the 9P transport, device id 9): one request
// queue whose chains carry one 9P2000.L request in their device-readable buffers and get the
// reply in their device-writable ones; the configuration space names the mount tag. What the
// guest's driver expects: Linux 6.1 net/9p/trans_virtio.c — p9_virtio_request() posts the
// request [out] and a reply buffer [in] sized for the reply; p9_virtio_zc_request() (reads and
// writes above 1 KiB) adds the data pages after an 11-byte reply header [in] or after the
// request header [out], so both directions are one byte stream across descriptors, as §2.7.4
// frames them. virtio_9p_probe() reads tag_len and tag only with VIRTIO_9P_MOUNT_TAG.
//
// Requests run one at a time in arrival order. The file server (devices/p9/server.ts) answers
// synchronously when its backend does (a host directory in Node, memory): the chain is then
// completed inside the guest's kick. When the backend must wait (IndexedDB), the reply is
// written into the chain when it is ready and the chain pushed from poll() between run slices,
// as virtio-blk does with an asynchronous flush; hostIo() hands the run loop the request in
// progress so it yields to the event loop for it, and later requests queue behind it.
import { SECURITY_MODELS } from "../p9/security-model.ts";
import type { Width } from "../bus/region.ts";
import { P9Server } from "../p9/server.ts";
import type { FsBackend } from "../p9/backend.ts";
import { EPROTO } from "../p9/errno.ts";
import { HEADER_BYTES, RDATA_HEADER, rlerror, peekHeader, NOTAG } from "../p9/messages.ts";
import { serveQueue, PARKED, STOP } from "./notify-loop.ts";
import { bit, type Chain, type VirtioContext, type VirtioDevice } from "./device.ts";
import type { DeviceType, FsDeviceSpec } from "./device-type.ts";
import type { StateTable, Stateful } from "../state/fields.ts";
import { StateError } from "../state/wire.ts";

/** Feature bit: the config space holds a mount tag (Linux uapi virtio_9p.h). */
export const VIRTIO_9P_MOUNT_TAG = 0n;
/** Longest mount tag offered (QEMU and Linux keep tags short; 9p mounts name them in options). */
export const MAX_TAG_BYTES = 255;
/** The smallest reply any request can get: an Rlerror. A chain with less room cannot be answered. */
const MIN_REPLY = RDATA_HEADER;
/** Linux's virtio 9p ring has 128 entries (trans_virtio.c VIRTQUEUE_NUM). */
export const P9_QUEUE_SIZE = 128;

export interface Virtio9pOptions {
  fs: FsBackend;
  /** The mount tag: `mount -t 9p TAG /mnt`. Default "share". */
  tag?: string;
  readonly?: boolean;
  /** Largest msize agreed. Default 512 KiB (Linux's virtio transport caps at 500 KiB). */
  maxMsize?: number;
  queueSize?: number;
  log?: (message: string) => void;
}

export class Virtio9p implements VirtioDevice, Stateful {
  readonly name = p9Type.name;
  readonly deviceId = p9Type.deviceId;
  readonly features = bit(VIRTIO_9P_MOUNT_TAG);
  readonly queueSizes: readonly number[];
  readonly tag: string;
  readonly server: P9Server;
  /** The configuration space: le16 tag_len, then the tag bytes without a NUL (struct virtio_9p_config). */
  private readonly config: Uint8Array;
  private readonly maxMsize: number;
  private ctx: VirtioContext | null = null;
  /** Requests accepted, oldest first, each with the Promise of its completion. */
  private inflight: { chain: Chain; done: Promise<void> }[] = [];
  /** Replies written, waiting for poll() to push them. */
  private ready: { chain: Chain; written: number }[] = [];
  /** The tail of the one-at-a-time request chain. */
  private tail: Promise<void> = Promise.resolve();
  /** Host work still running (requests answered later, or a reset closing files); 0: the server is idle. */
  private busy = 0;
  private epoch = 0;
  private readonly counters = { requests: 0, immediate: 0, oversizeReplies: 0 };

  constructor(opts: Virtio9pOptions) {
    const tag = new TextEncoder().encode(opts.tag ?? "share");
    if (tag.length === 0 || tag.length > MAX_TAG_BYTES) throw new Error(`virtio-9p: mount tag must be 1–${MAX_TAG_BYTES} bytes`);
    this.tag = opts.tag ?? "share";
    this.config = new Uint8Array(2 + tag.length);
    new DataView(this.config.buffer).setUint16(0, tag.length, true);
    this.config.set(tag, 2);
    this.queueSizes = [opts.queueSize ?? P9_QUEUE_SIZE];
    this.maxMsize = opts.maxMsize ?? 512 * 1024;
    this.server = new P9Server(opts.fs, { maxMsize: this.maxMsize, readonly: opts.readonly, log: opts.log });
  }

  get configSize(): number {
    return this.config.length;
  }

  readConfig(offset: number, width: Width): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | (this.config[offset + i] ?? 0);
    return v >>> 0;
  }

  writeConfig(): void {
    // Read-only (the tag is the device's to name).
  }

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
  }

  /**
   * Snapshot fields (devices/state/): the 9P server (msize, open fids). The machine is quiesced
   * before a save, so no request is in flight or waiting to be pushed.
   */
  readonly stateTable: StateTable = { server: "child", requestsInFlight: "u32" };

  get requestsInFlight(): number {
    return this.inflight.length + this.ready.length + this.busy;
  }

  set requestsInFlight(n: number) {
    if (n !== 0) throw new StateError("virtio-9p: a snapshot with requests in flight");
  }

  reset(): void {
    this.ctx = null;
    this.inflight = [];
    this.ready = [];
    this.epoch++;
    // Forget every fid and close its files — now when the server is idle (so a Tversion right
    // after the driver's reset cannot be overtaken by it), else after the request still running.
    const later = this.busy === 0 ? this.server.reset() : this.tail.then(() => this.server.reset());
    if (later instanceof Promise) this.track((this.tail = later.catch(() => {})));
  }

  notify(index: number): void {
    if (!this.ctx || index !== 0) return;
    serveQueue(this.ctx, 0, (c) => {
      if (c.writableBytes < MIN_REPLY) {
        this.ctx!.needsReset(`virtio-9p: request ${c.id} has ${c.writableBytes} writable bytes, less than any reply (${MIN_REPLY})`);
        return STOP;
      }
      this.counters.requests++;
      const epoch = this.epoch;
      if (this.inflight.length === 0 && this.busy === 0) {
        // Nothing ahead of it: run it now. A synchronous backend answers inside this kick, and
        // the guest's client finds the reply before it goes to sleep waiting for it.
        const msg = this.request(c);
        const reply = this.server.handle(msg, c.writableBytes);
        if (!(reply instanceof Promise)) {
          this.counters.immediate++;
          return this.answer(c, msg, reply);
        }
        const done = (this.tail = reply.then((r) => this.finish(c, msg, r, epoch)));
        this.track(done);
        this.inflight.push({ chain: c, done });
        return PARKED;
      }
      // Behind a request that waits for the host: keep arrival order.
      const done = (this.tail = this.tail.then(() => this.serve(c, epoch)));
      this.track(done);
      this.inflight.push({ chain: c, done });
      return PARKED;
    });
  }

  /** Count `p` as host work until it settles (requests arriving meanwhile queue behind it). */
  private track(p: Promise<void>): void {
    this.busy++;
    void p.finally(() => void this.busy--);
  }

  /** The request bytes. A hostile driver could describe gigabytes; no request may exceed msize anyway. */
  private request(c: Chain): Uint8Array {
    const msg = new Uint8Array(Math.min(c.readableBytes, this.maxMsize + HEADER_BYTES));
    c.read(0, msg);
    return msg;
  }

  /** Write `reply` into the chain (an Rlerror when it does not fit); returns the used length. */
  private answer(c: Chain, msg: Uint8Array, reply: Uint8Array): number {
    if (reply.length > c.writableBytes) {
      // The driver sized its buffer too small for this reply (Linux never does): say so in-band.
      this.counters.oversizeReplies++;
      reply = rlerror(peekHeader(msg)?.tag ?? NOTAG, EPROTO);
    }
    c.write(0, reply);
    return reply.length;
  }

  /** A reply that came later: write it and leave the chain for poll() to push. */
  private finish(c: Chain, msg: Uint8Array, reply: Uint8Array, epoch: number): void {
    if (epoch !== this.epoch) return;
    const written = this.answer(c, msg, reply);
    this.inflight.shift();
    this.ready.push({ chain: c, written });
  }

  /** Serve a request that waited behind another. Never rejects (server.handle does not throw). */
  private async serve(c: Chain, epoch: number): Promise<void> {
    if (epoch !== this.epoch) return;
    const msg = this.request(c);
    this.finish(c, msg, await this.server.handle(msg, c.writableBytes), epoch);
  }

  /** Push the replies that are ready; one used-index update and at most one interrupt. */
  poll(): void {
    const ctx = this.ctx;
    if (!ctx || this.ready.length === 0) return;
    const vq = ctx.queue(0);
    for (const r of this.ready) vq.push(r.chain, r.written);
    this.ready = [];
    ctx.publish(0);
  }

  /** What the run loop waits for: replies to push now, or the request in progress. */
  hostIo(): Promise<unknown> | null {
    if (this.ready.length > 0) return Promise.resolve();
    return this.inflight[0]?.done ?? (this.busy > 0 ? this.tail : null);
  }

  stats(): Record<string, number> {
    return { ...this.counters, ...this.server.counters, fids: this.server.fidCount, inFlight: this.inflight.length };
  }
}

/** The registry entry (devices/registry.ts). */
/** A 9p `--device`: the folder its backend opens, and the mount tag. */
export interface P9Spec extends FsDeviceSpec {
  /** The mount tag (`mount -t 9p -o trans=virtio TAG /mnt`); default "share". */
  tag?: string;
}

export const p9Type: DeviceType<P9Spec> = {
  name: "9p",
  deviceId: 9,
  summary: "a shared folder (in the guest: mount -t 9p -o trans=virtio,version=9p2000.L NAME /mnt)",
  options: [
    { key: "path", kind: "dir", meta: "DIR", required: true, help: "the folder (Node: a host directory)" },
    {
      key: "tag", kind: "string", meta: "NAME", default: "share", unique: true, help: "the mount tag",
      // The tag is the mount's device name: keep it to what a shell and mount(8) take unquoted.
      check: (v) => (typeof v !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(v) ? "tag must be 1–64 of A-Z a-z 0-9 _ . -" : null),
    },
    { key: "readonly", kind: "flag", help: "refuse every change (EROFS)" },
    {
      key: "security_model", field: "securityModel", kind: "choice", choices: SECURITY_MODELS, meta: "M",
      help: "how guest modes and owners reach host files: none (default: no setuid/setgid bits, no owner changes on the host) or passthrough",
    },
  ],
  features: { 0: "VIRTIO_9P_MOUNT_TAG" }, // include/uapi/linux/virtio_9p.h
  roles: ["share"],
  backend: "fs",
  page: { param: "share", label: "Shared folder", off: "off", default: "off", order: 5, optional: true },
  create(spec, ctx) {
    if (!ctx.openFs) throw new Error("virtio-9p: no shared folder available in this host");
    return new Virtio9p({
      fs: ctx.openFs(spec), tag: spec.tag, readonly: spec.readonly === true, log: ctx.log,
    });
  },
};
