// virtio-input (virtio 1.2 §5.8) as a keyboard: the host's key presses arrive in the guest as
// evdev events, for a guest that has no serial console to type on. Two queues: eventq, whose
// device-writable buffers the device fills with one 8-byte event each, and statusq, on which
// the driver reports LED changes back (Caps Lock …). The device describes itself through a
// select/subsel window in config space (§5.8.4): name, serial, ids, and per event type the
// bitmap of codes it can send.
//
// What the guest's driver does (Linux 6.1 drivers/virtio/virtio_input.c): refuses devices
// without VIRTIO_F_VERSION_1, and a device type new in virtio 1.0 has no transitional PCI id
// (§4.1.2.1), so only the modern transports work (pci-modern, mmio-v2); at probe it reads ID_NAME, ID_SERIAL, ID_DEVIDS, PROP_BITS, then
// EV_BITS for EV_REP and for each event type, setting the type's evbit when the bitmap is
// non-empty; it fills eventq with buffers of exactly one virtio_input_event each.
import type { Width } from "../bus/region.ts";
import type { VirtioContext, VirtioDevice } from "./device.ts";
import { serveQueue } from "./notify-loop.ts";
import { ConfigSpace, type ConfigField } from "./config-space.ts";
import type { DeviceType } from "./device-type.ts";
import { modernOnly } from "./transports.ts";
import { LINUX_KEYS } from "./input-keys.ts";
import type { StateTable, Stateful } from "../state/fields.ts";

// Config selectors (§5.8.2).
export const VIRTIO_INPUT_CFG = {
  UNSET: 0x00, ID_NAME: 0x01, ID_SERIAL: 0x02, ID_DEVIDS: 0x03, PROP_BITS: 0x10, EV_BITS: 0x11, ABS_INFO: 0x12,
} as const;
/** struct virtio_input_config (§5.8.4): select, subsel, size, 5 reserved bytes, then a
 *  128-byte union (string, bitmap, absinfo or devids) that `select`/`subsel` choose. */
const INPUT_CONFIG: readonly ConfigField[] = [
  { offset: 0, width: 1, name: "select", ref: "§5.8.4: what the union holds (VIRTIO_INPUT_CFG_*), driver-written" },
  { offset: 1, width: 1, name: "subsel", ref: "§5.8.4: event type or axis, driver-written" },
  { offset: 2, width: 1, name: "size", ref: "§5.8.4: bytes of the union that are valid (0: none)" },
];
const UNION_AT = 8;
const CONFIG_SIZE = UNION_AT + 128;

// Linux input event types and codes (include/uapi/linux/input-event-codes.h).
export const EV_SYN = 0x00, EV_KEY = 0x01, EV_LED = 0x11, EV_REP = 0x14;
export const SYN_REPORT = 0;
const LED_NUML = 0, LED_CAPSL = 1, LED_SCROLLL = 2;
const BUS_VIRTUAL = 0x06;

const EVENT_BYTES = 8; // struct virtio_input_event { le16 type; le16 code; le32 value; }
/** Events kept while the driver has no buffers posted; older ones are dropped beyond this. */
const PENDING_MAX = 1024;

export interface VirtioInputOptions {
  name?: string;
  queueSize?: number;
}

export class VirtioInput implements VirtioDevice, Stateful {
  readonly name = inputType.name;
  readonly deviceId = inputType.deviceId;
  readonly features = 0n;
  readonly queueSizes: readonly number[];
  readonly configSize = CONFIG_SIZE;
  readonly config = new ConfigSpace(INPUT_CONFIG, CONFIG_SIZE);

  private ctx: VirtioContext | null = null;
  private readonly idName: string;
  /** Pending events, 3 numbers each (type, code, value). */
  private pending: number[] = [];
  private ledState = 0;
  private readonly counters = { events: 0, dropped: 0, ledUpdates: 0 };

  constructor(opts: VirtioInputOptions = {}) {
    this.idName = opts.name ?? "Vireo virtio keyboard";
    this.queueSizes = [opts.queueSize ?? 64, opts.queueSize ?? 64];
  }

  /** A key press (down) or release: EV_KEY then SYN_REPORT, as a real keyboard reports it. */
  inputKey(code: number, down: boolean): void {
    this.key(code, down);
  }

  key(code: number, down: boolean): void {
    this.event(EV_KEY, code, down ? 1 : 0);
    this.event(EV_SYN, SYN_REPORT, 0);
  }

  /** Queue one raw event for the guest; delivered when the driver has buffers posted. */
  event(type: number, code: number, value: number): void {
    this.pending.push(type & 0xffff, code & 0xffff, value | 0);
    if (this.pending.length > PENDING_MAX * 3) {
      this.pending.splice(0, 3);
      this.counters.dropped++;
    }
    this.deliver();
  }

  /** The LEDs the guest last set (bit n = LED code n). */
  leds(): number {
    return this.ledState;
  }

  /** The answer in the config union for the current select/subsel (§5.8.4). */
  private answer(): Uint8Array {
    const enc = (s: string) => new TextEncoder().encode(s).subarray(0, 128);
    const subsel = this.config.get("subsel");
    switch (this.config.get("select")) {
      case VIRTIO_INPUT_CFG.ID_NAME:
        return subsel === 0 ? enc(this.idName) : new Uint8Array(0);
      case VIRTIO_INPUT_CFG.ID_SERIAL:
        return subsel === 0 ? enc("vireo-0") : new Uint8Array(0);
      case VIRTIO_INPUT_CFG.ID_DEVIDS: {
        if (subsel !== 0) return new Uint8Array(0);
        const ids = new Uint8Array(8);
        const v = new DataView(ids.buffer);
        v.setUint16(0, BUS_VIRTUAL, true);
        v.setUint16(2, 0x0627, true); // vendor (the virtio-input convention is free-form)
        v.setUint16(4, 0x0001, true); // product: keyboard
        v.setUint16(6, 0x0001, true);
        return ids;
      }
      case VIRTIO_INPUT_CFG.EV_BITS:
        switch (subsel) {
          case EV_KEY: return bitmap(LINUX_KEYS);
          case EV_LED: return bitmap([LED_NUML, LED_CAPSL, LED_SCROLLL]);
          case EV_REP: return new Uint8Array(1); // present (size 1): the guest does autorepeat
          default: return new Uint8Array(0);
        }
      default:
        return new Uint8Array(0); // UNSET, PROP_BITS (none), ABS_INFO (no axes)
    }
  }

  readConfig(offset: number, width: Width): number {
    return this.config.read(offset, width);
  }

  writeConfig(offset: number, width: Width, value: number): void {
    // Only select and subsel are the driver's (§5.8.6.1); then the device fills size and the
    // union with the answer, so the driver's next reads see it.
    this.config.write(offset, width, value, (at) => at < 2);
    this.fill();
  }

  private fill(): void {
    const a = this.answer();
    this.config.set("size", a.length);
    this.config.bytes.fill(0, UNION_AT);
    this.config.bytes.set(a, UNION_AT);
  }

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
    this.deliver();
  }

  /** Snapshot fields (devices/state/): config (the driver's select), events not yet delivered, LEDs. */
  readonly stateTable: StateTable = { config: "child", pending: { list: "u32", max: 1 << 16 }, ledState: "u32" };

  reset(): void {
    this.ctx = null;
    this.config.bytes.fill(0); // select UNSET: size 0
    this.ledState = 0;
  }

  notify(index: number): void {
    if (!this.ctx) return;
    if (index === 0) this.deliver(); // new event buffers: send what waited
    else if (index === 1) this.status();
  }

  /** Fill posted eventq buffers with pending events, one event per buffer. */
  private deliver(): void {
    const ctx = this.ctx;
    if (!ctx || this.pending.length === 0) return;
    const q = ctx.queue(0);
    const ev = new Uint8Array(EVENT_BYTES);
    const v = new DataView(ev.buffer);
    let sent = 0;
    while (this.pending.length > 0) {
      const c = q.pop();
      if (!c) break;
      if (c.writableBytes < EVENT_BYTES) {
        ctx.needsReset(`virtio-input: event buffer of ${c.writableBytes} bytes, need ${EVENT_BYTES}`);
        return;
      }
      v.setUint16(0, this.pending[0]!, true);
      v.setUint16(2, this.pending[1]!, true);
      v.setInt32(4, this.pending[2]!, true);
      this.pending.splice(0, 3);
      q.push(c, c.write(0, ev));
      sent++;
    }
    if (sent > 0) {
      this.counters.events += sent;
      ctx.publish(0);
    }
  }

  /** statusq: the driver's LED updates (EV_LED code value); anything else is ignored. */
  private status(): void {
    const ctx = this.ctx!;
    serveQueue(ctx, 1, (c) => {
      const ev = new Uint8Array(EVENT_BYTES);
      if (c.read(0, ev) === EVENT_BYTES) {
        const v = new DataView(ev.buffer);
        if (v.getUint16(0, true) === EV_LED) {
          const code = v.getUint16(2, true);
          if (code < 16) this.ledState = v.getInt32(4, true) ? this.ledState | (1 << code) : this.ledState & ~(1 << code);
          this.counters.ledUpdates++;
        }
      }
      return 0;
    });
  }

  stats(): Record<string, number> {
    return { ...this.counters, pending: this.pending.length / 3, leds: this.ledState };
  }
}

/** A bitmap with these bits set, trimmed after the last non-zero byte (the size says how much). */
function bitmap(bits: readonly number[]): Uint8Array {
  const out = new Uint8Array(128);
  let len = 0;
  for (const b of bits) {
    out[b >> 3]! |= 1 << (b & 7);
    len = Math.max(len, (b >> 3) + 1);
  }
  return out.subarray(0, len);
}

/** The registry entry (devices/registry.ts). */
export const inputType: DeviceType = {
  name: "input",
  deviceId: 18,
  summary: "a keyboard: /dev/input/event0",
  options: [],
  // drivers/virtio/virtio_input.c refuses a device without VIRTIO_F_VERSION_1.
  transports: modernOnly,
  transportsWhy: "Linux's virtio-input driver needs VIRTIO_F_VERSION_1, and virtio-input has no transitional PCI id (virtio 1.2 §4.1.2.1)",
  features: {},
  config: INPUT_CONFIG,
  roles: ["keyboard"],
  page: { param: "input", label: "Keyboard", off: "off", default: "off", order: 4 },
  create: () => new VirtioInput(),
};
