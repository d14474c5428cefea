// virtio-console (virtio 1.2 §5.3) with one port, port 0, as the guest's `hvc0` console
// (`console=hvc0`). What the guest's driver expects: Linux 6.1 drivers/char/virtio_console.c —
// without VIRTIO_CONSOLE_F_MULTIPORT, virtcons_probe() uses queue 0 as port 0's receiveq and
// queue 1 as its transmitq and makes port 0 an hvc console; fill_queue() posts PAGE_SIZE
// receive buffers; __send_to_port() kicks the transmitq and then spins until the buffer comes
// back used, so output must be consumed inside notify(); config_intr() re-reads cols/rows on a
// configuration change (with VIRTIO_CONSOLE_F_SIZE) and resizes the hvc tty.
//
// MULTIPORT (control queues, more ports) and EMERG_WRITE are not implemented and not offered.
//
// Input from the host waits in an unbounded queue until the guest posts receive buffers, so
// nothing typed is lost while the driver is not up yet or has run out of buffers.
import { serveQueue } from "./notify-loop.ts";
import type { Width } from "../bus/region.ts";
import { bit, has, type VirtioContext, type VirtioDevice } from "./device.ts";
import { ConfigSpace, type ConfigField } from "./config-space.ts";
import type { DeviceType } from "./device-type.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

// Feature bits, §5.3.3.
export const VIRTIO_CONSOLE_F_SIZE = 0n;

/**
 * Most bytes of one transmit chain handed to the host. The chain's readable total is the
 * guest's claim (overlapping descriptors: up to 1,024 × RAM); Linux sends at most PAGE_SIZE per
 * buffer from hvc and 32 KiB from a port write (virtio_console.c), so this never cuts real
 * output. The rest of a larger chain is dropped and counted (`txDropped`).
 */
export const CONSOLE_TX_MAX = 65536;

/** Queue indices without MULTIPORT, §5.3.2. */
export const CONSOLE_RECEIVEQ = 0;
export const CONSOLE_TRANSMITQ = 1;

/** struct virtio_console_config, §5.3.4 (emerg_wr is left out: EMERG_WRITE is not offered). */
export const CONSOLE_CONFIG: readonly ConfigField[] = [
  { offset: 0, width: 2, name: "cols", ref: "virtio 1.2 §5.3.4, VIRTIO_CONSOLE_F_SIZE" },
  { offset: 2, width: 2, name: "rows", ref: "virtio 1.2 §5.3.4, VIRTIO_CONSOLE_F_SIZE" },
  { offset: 4, width: 4, name: "max_nr_ports", ref: "virtio 1.2 §5.3.4, VIRTIO_CONSOLE_F_MULTIPORT (not offered)" },
];

export interface VirtioConsoleOptions {
  /**
   * Bytes the guest wrote to port 0. `bytes` is a live view of guest RAM, valid only during the
   * call: copy what you keep.
   */
  onOutput: (bytes: Uint8Array) => void;
  /** Initial terminal size; default 80×25. */
  cols?: number;
  rows?: number;
  /** Ring size offered for each queue. Default 64. */
  queueSize?: number;
}

export class VirtioConsole implements VirtioDevice, Stateful {
  readonly name = consoleType.name;
  readonly deviceId = consoleType.deviceId;
  readonly features = bit(VIRTIO_CONSOLE_F_SIZE);
  readonly queueSizes: readonly number[];
  readonly config = new ConfigSpace(CONSOLE_CONFIG);
  private readonly onOutput: (bytes: Uint8Array) => void;
  private ctx: VirtioContext | null = null;
  /** Host input not yet delivered: chunks, the first one partly consumed up to `inputHead`. */
  private input: Uint8Array[] = [];
  private inputHead = 0;
  private readonly counters = { bytesOut: 0, bytesIn: 0, resizes: 0, txDropped: 0 };

  constructor(opts: VirtioConsoleOptions) {
    this.onOutput = opts.onOutput;
    const q = opts.queueSize ?? 64;
    this.queueSizes = [q, q];
    this.config.set("cols", opts.cols ?? 80);
    this.config.set("rows", opts.rows ?? 25);
  }

  get configSize(): number {
    return this.config.size;
  }

  readConfig(offset: number, width: Width): number {
    return this.config.read(offset, width);
  }

  writeConfig(_offset: number, _width: Width, _value: number): void {
    // cols/rows are the device's to set; emerg_wr is not offered: ignore.
  }

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
    // Announce the initial size: without MULTIPORT, Linux reads cols/rows only in its config-change
    // handler (virtio_console.c config_work_handler), so hvc0 would stay 0×0 — and programs fall
    // back to guessing — until the first resize. The notification raised during probe is held by
    // the virtio core until probe returns (virtio.c virtio_config_enable), when port 0 exists.
    if (has(ctx.features, VIRTIO_CONSOLE_F_SIZE)) ctx.configChanged();
    this.deliver(); // anything typed before the driver came up
  }

  /** Snapshot fields (devices/state/): the config space (size) and the host input not yet delivered. */
  readonly stateTable: StateTable = { config: "child", undelivered: { blob: 1 << 24 } };

  get undelivered(): Uint8Array {
    const parts = this.input.map((c, i) => (i === 0 ? c.subarray(this.inputHead) : c));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  set undelivered(v: Uint8Array) {
    this.input = v.length ? [v] : [];
    this.inputHead = 0;
  }

  reset(): void {
    // Undelivered input stays queued for the next driver: the user typed it.
    this.ctx = null;
  }

  /** Bytes pending for the guest (typed, not yet in a receive buffer). */
  get pendingInput(): number {
    let n = 0;
    for (const c of this.input) n += c.length;
    return n - this.inputHead;
  }

  /** Host → guest bytes (keystrokes). Copied; delivered as soon as receive buffers allow. */
  receive(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.input.push(bytes.slice());
    this.deliver();
  }

  consoleInput(bytes: Uint8Array): void {
    this.receive(bytes);
  }

  consoleResize(cols: number, rows: number): void {
    this.resize(cols, rows);
  }

  /** The host's terminal changed size: update cols/rows and raise a config interrupt (§5.3.4, §5.3.6). */
  resize(cols: number, rows: number): void {
    if (cols === this.config.get("cols") && rows === this.config.get("rows")) return;
    this.config.set("cols", cols & 0xffff);
    this.config.set("rows", rows & 0xffff);
    this.counters.resizes++;
    this.ctx?.configChanged();
  }

  notify(index: number): void {
    if (!this.ctx) return;
    if (index === CONSOLE_TRANSMITQ) this.transmit();
    else if (index === CONSOLE_RECEIVEQ) this.deliver(); // new receive buffers
  }

  /** Retry delivery (the board calls this between run slices). */
  poll(): void {
    this.deliver();
  }

  stats(): Record<string, number> {
    return { ...this.counters, pendingInput: this.pendingInput };
  }

  /** transmitq: hand the readable bytes (≤ CONSOLE_TX_MAX) to onOutput; nothing is written back. */
  private transmit(): void {
    const ctx = this.ctx!;
    serveQueue(ctx, CONSOLE_TRANSMITQ, (c) => {
      const n = Math.min(c.readableBytes, CONSOLE_TX_MAX);
      for (const v of c.readableViews(0, n)) this.onOutput(v);
      this.counters.bytesOut += n;
      if (n < c.readableBytes) {
        this.counters.txDropped += c.readableBytes - n;
        ctx.log(`virtio-console: transmit chain of ${c.readableBytes} bytes; the first ${n} sent, the rest dropped`);
      }
      return 0;
    });
  }

  /**
   * receiveq: fill posted buffers from the input queue. Kicks matter only while input waits for
   * buffers, so the loop ends either with the input drained or with notifications on and no
   * buffer left (enableNotifications re-checks).
   */
  private deliver(): void {
    const ctx = this.ctx;
    if (!ctx || this.input.length === 0) return;
    const vq = ctx.queue(CONSOLE_RECEIVEQ);
    if (!vq.ready) return;
    for (;;) {
      vq.disableNotifications();
      while (this.input.length > 0) {
        const c = vq.pop();
        if (!c) break;
        let n = 0;
        while (n < c.writableBytes && this.input.length > 0) {
          const chunk = this.input[0]!;
          const k = c.write(n, chunk.subarray(this.inputHead));
          if (k === 0) break; // cannot happen for a validated chain; never spin
          n += k;
          this.inputHead += k;
          if (this.inputHead >= chunk.length) {
            this.input.shift();
            this.inputHead = 0;
          }
        }
        this.counters.bytesIn += n;
        vq.push(c, n);
      }
      if (!vq.enableNotifications() || this.input.length === 0) break;
    }
    ctx.publish(CONSOLE_RECEIVEQ);
  }
}

/** The registry entry (devices/registry.ts). */
export const consoleType: DeviceType = {
  name: "console",
  deviceId: 3,
  summary: "the guest console as hvc0 (boot with console=hvc0); it then owns console input",
  options: [],
  maxInstances: 1,
  // include/uapi/linux/virtio_console.h
  features: { 0: "VIRTIO_CONSOLE_F_SIZE", 1: "VIRTIO_CONSOLE_F_MULTIPORT", 2: "VIRTIO_CONSOLE_F_EMERG_WRITE" },
  config: CONSOLE_CONFIG,
  pciClass: 0x078000,
  roles: ["terminal"],
  page: {
    param: "console", label: "Console", off: "serial", offLabel: "serial (ttyS0)", transportLabel: (t) => `virtio ${t} (hvc0)`,
    default: "serial", order: 0,
  },
  create: (_spec, ctx) => new VirtioConsole({ onOutput: (bytes) => { for (const b of bytes) ctx.onConsole(b); } }),
};
