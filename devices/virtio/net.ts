// virtio-net (virtio 1.2 §5.1): one receiveq/transmitq pair over a NetBackend
// (devices/net/backend.ts). What the guest's driver expects: Linux 6.1 drivers/net/virtio_net.c —
// virtnet_probe() reads the MAC from config when VIRTIO_NET_F_MAC is offered (else makes one
// up), the link state from `status` with VIRTIO_NET_F_STATUS, max_mtu from `mtu` with
// VIRTIO_NET_F_MTU; with VIRTIO_NET_F_CSUM it hands the device partially checksummed frames
// (VIRTIO_NET_HDR_F_NEEDS_CSUM); with VIRTIO_NET_F_MRG_RXBUF it posts single-buffer receive
// chains and expects a frame spread over `num_buffers` of them.
//
// Frames are byte streams (§2.7.4): the header is the first hdrLen readable/writable bytes
// wherever the descriptors split them. The control queue carries receive-filter commands only
// (VIRTIO_NET_F_CTRL_RX, net-rx-filter.ts). Not offered: GSO/TSO (frames are never larger than
// the MTU), GUEST_CSUM (frames reach the guest fully checksummed), multiqueue, MAC_ADDR, VLAN.
//
// Guest mistakes: a transmit frame too short, too long, with a GSO type or a checksum position
// outside it is dropped and logged (the chain goes back used, as a NIC drops a bad descriptor);
// a transmit chain with writable buffers or a receive chain with none is a broken driver:
// DEVICE_NEEDS_RESET.
import { serveQueue, STOP } from "./notify-loop.ts";
import type { Width } from "../bus/region.ts";
import { VIRTIO_F_VERSION_1, bit, has, type Chain, type VirtQueue, type VirtioContext, type VirtioDevice } from "./device.ts";
import { ConfigSpace, type ConfigField } from "./config-space.ts";
import type { NetBackend } from "../net/backend.ts";
import { HostStack } from "../net/host-stack.ts";
import { RingNetBackend, type NetLinkEnd } from "../net/ring-backend.ts";
import { parseForwards } from "../net/port-forward.ts";
import type { DeviceType } from "./device-type.ts";
import type { VirtioDeviceSpec } from "../vm/config.ts";
import { onesSum } from "../net/checksum.ts";
import { RxFilter, VIRTIO_NET_ERR } from "./net-rx-filter.ts";
import type { StateTable, Stateful } from "../state/fields.ts";
import { CHAIN_FIELD, chainRecord, type ChainRecord } from "../state/chain.ts";
import { StateError } from "../state/wire.ts";

// Feature bits, §5.1.3.
export const VIRTIO_NET_F_CSUM = 0n; // device completes partial checksums of transmitted frames
export const VIRTIO_NET_F_GUEST_CSUM = 1n;
export const VIRTIO_NET_F_MTU = 3n;
export const VIRTIO_NET_F_MAC = 5n;
export const VIRTIO_NET_F_HOST_TSO4 = 11n;
export const VIRTIO_NET_F_MRG_RXBUF = 15n;
export const VIRTIO_NET_F_STATUS = 16n;
export const VIRTIO_NET_F_CTRL_VQ = 17n;
export const VIRTIO_NET_F_CTRL_RX = 18n;

/** Queue indices with one queue pair and no control queue, §5.1.2. */
export const NET_RECEIVEQ = 0;
export const NET_TRANSMITQ = 1;
/** The control queue follows the one pair (§5.1.2, VIRTIO_NET_F_MQ not negotiated). */
export const NET_CONTROLQ = 2;
/** Control commands larger than this are refused (a MAC table of ~10000 entries). */
const CTRL_MAX_BYTES = 65536;

/** config `status` bits, §5.1.4. */
export const VIRTIO_NET_S_LINK_UP = 1;

/** struct virtio_net_hdr (§5.1.6): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
/** Header bytes: 12 with VERSION_1 or MRG_RXBUF (num_buffers present), 10 for a legacy device without (§5.1.6.1). */
export function netHdrLen(features: bigint): number {
  return has(features, VIRTIO_F_VERSION_1) || has(features, VIRTIO_NET_F_MRG_RXBUF) ? 12 : 10;
}

/** struct virtio_net_config, §5.1.4 (fields up to mtu; the rest belong to features not offered). */
export const NET_CONFIG: readonly ConfigField[] = [
  ...[0, 1, 2, 3, 4, 5].map((i): ConfigField => ({ offset: i, width: 1, name: `mac[${i}]`, ref: "virtio 1.2 §5.1.4, VIRTIO_NET_F_MAC" })),
  { offset: 6, width: 2, name: "status", ref: "virtio 1.2 §5.1.4, VIRTIO_NET_F_STATUS" },
  { offset: 8, width: 2, name: "max_virtqueue_pairs", ref: "virtio 1.2 §5.1.4, VIRTIO_NET_F_MQ (not offered)" },
  { offset: 10, width: 2, name: "mtu", ref: "virtio 1.2 §5.1.4, VIRTIO_NET_F_MTU" },
];

/** Ethernet header bytes; a frame shorter than that carries nothing. */
const ETH_HLEN = 14;
/** Frames wait at most this many deep for receive buffers; beyond that they are dropped, as a full NIC FIFO drops. */
export const NET_RX_BACKLOG = 256;

export interface VirtioNetOptions {
  backend: NetBackend;
  /** Six bytes; default 02:76:69:72:65:00 (locally administered). */
  mac?: Uint8Array;
  /** Advertised MTU (default 1500). */
  mtu?: number;
  /** Ring size offered for each queue. Default 256. */
  queueSize?: number;
}

/** "02:76:69:72:65:01" → bytes, or null when malformed. */
export function parseMac(text: string): Uint8Array | null {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(text);
  return m ? Uint8Array.from(m.slice(1).map((h) => parseInt(h, 16))) : null;
}

export class VirtioNet implements VirtioDevice, Stateful {
  readonly name = netType.name;
  readonly deviceId = netType.deviceId;
  readonly features = bit(VIRTIO_NET_F_CSUM) | bit(VIRTIO_NET_F_MTU) | bit(VIRTIO_NET_F_MAC) |
    bit(VIRTIO_NET_F_MRG_RXBUF) | bit(VIRTIO_NET_F_STATUS) | bit(VIRTIO_NET_F_CTRL_VQ) | bit(VIRTIO_NET_F_CTRL_RX);
  readonly queueSizes: readonly number[];
  readonly config = new ConfigSpace(NET_CONFIG);
  readonly backend: NetBackend;
  readonly mac: Uint8Array;
  readonly mtu: number;
  private ctx: VirtioContext | null = null;
  private hdrLen = 12;
  private mergeable = false;
  /** Frames for the guest not yet in receive buffers, oldest first. */
  private backlog: Uint8Array[] = [];
  /** Receive chains popped for a frame that needs more of them (MRG_RXBUF) than were posted yet. */
  private held: Chain[] = [];
  private readonly counters = { txFrames: 0, txBytes: 0, txDropped: 0, txChecksums: 0, rxFrames: 0, rxBytes: 0, rxDropped: 0, rxFiltered: 0, ctrlCommands: 0, ctrlErrors: 0 };
  readonly filter: RxFilter;
  private filtering = false;
  /** A transmit frame with its header: the largest accepted is MTU + 18 (Ethernet + VLAN tag) + 12. */
  private readonly txScratch: Uint8Array;
  /** A received frame with its header, as written into receive buffers (the same bound). */
  private readonly rxScratch: Uint8Array;

  constructor(opts: VirtioNetOptions) {
    this.backend = opts.backend;
    this.mac = opts.mac ?? Uint8Array.of(0x02, 0x76, 0x69, 0x72, 0x65, 0x00);
    this.mtu = opts.mtu ?? 1500;
    this.txScratch = new Uint8Array(this.mtu + ETH_HLEN + 4 + 12);
    this.rxScratch = new Uint8Array(this.mtu + ETH_HLEN + 4 + 12);
    const q = opts.queueSize ?? 256;
    this.queueSizes = [q, q, 64];
    this.mac.forEach((b, i) => this.config.set(`mac[${i}]`, b));
    this.config.set("status", VIRTIO_NET_S_LINK_UP);
    this.config.set("max_virtqueue_pairs", 1);
    this.config.set("mtu", this.mtu);
    this.filter = new RxFilter(this.mac);
    this.backend.onReceive = (frame) => this.receive(frame);
  }

  get configSize(): number {
    return this.config.size;
  }

  readConfig(offset: number, width: Width): number {
    return this.config.read(offset, width);
  }

  writeConfig(_offset: number, _width: Width, _value: number): void {
    // The MAC is writable only for legacy drivers without VIRTIO_NET_F_CTRL_MAC_ADDR (§5.1.4.2);
    // Linux never writes it when VIRTIO_NET_F_MAC is offered. Everything else is read-only.
  }

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
    this.hdrLen = netHdrLen(ctx.features);
    this.mergeable = has(ctx.features, VIRTIO_NET_F_MRG_RXBUF);
    this.filtering = has(ctx.features, VIRTIO_NET_F_CTRL_VQ) && has(ctx.features, VIRTIO_NET_F_CTRL_RX);
    this.deliver();
  }

  /**
   * Snapshot fields (devices/state/): negotiated header layout, the receive filter, frames
   * waiting for receive buffers, buffers held for a mergeable frame, and the backend (the
   * built-in host's state; a link to another VM cannot be saved: its frames are in flight in
   * rings another thread owns).
   */
  get stateTable(): StateTable {
    if (!("stateTable" in this.backend)) throw new StateError("virtio-net: its backend (a link to another VM, or the NAT on the host thread) cannot be saved");
    return {
      config: "child", hdrLen: "u8", mergeable: "bool", filtering: "bool", filter: "child",
      backlogFrames: { list: { blob: 65536 + 64 }, max: NET_RX_BACKLOG }, heldChains: { list: CHAIN_FIELD, max: 65536 },
      backend: "child",
    };
  }

  get backlogFrames(): Uint8Array[] { return this.backlog; }
  set backlogFrames(v: Uint8Array[]) { this.backlog = v; }

  get heldChains(): ChainRecord[] { return this.held.map(chainRecord); }
  set heldChains(v: ChainRecord[]) {
    if (v.length > 0 && !this.ctx) throw new StateError("virtio-net: receive buffers held by a device that is not live");
    this.held = v.map((r) => this.ctx!.queue(NET_RECEIVEQ).restoreChain(r));
  }

  reset(): void {
    // Frames in flight belong to the old driver instance; a NIC reset empties its FIFOs.
    this.ctx = null;
    this.held = [];
    this.backlog = [];
    this.filter.reset();
  }

  notify(index: number): void {
    if (!this.ctx) return;
    if (index === NET_TRANSMITQ) this.transmit();
    else if (index === NET_RECEIVEQ) this.deliver();
    else if (index === NET_CONTROLQ) this.control();
  }

  /** Frames from another thread (the backend's rings), then any backlog. */
  poll(): void {
    this.backend.poll?.();
    this.deliver();
  }

  /** Frames wait on the host side: the run loop must not sleep through them. */
  hasInput(): boolean {
    return this.backend.pending?.() ?? false;
  }

  stats(): Record<string, number> {
    return { ...this.counters, rxBacklog: this.backlog.length, ...(this.backend.stats?.() ?? {}) };
  }

  /**
   * A frame for the guest (copied); delivered as soon as receive buffers allow. Until the driver
   * is up (DRIVER_OK) frames are dropped, as a NIC that is not enabled drops what it hears.
   */
  receive(frame: Uint8Array): void {
    if (!this.ctx || frame.length < ETH_HLEN || frame.length > this.mtu + ETH_HLEN + 4 || this.backlog.length >= NET_RX_BACKLOG) {
      this.counters.rxDropped++;
      return;
    }
    if (this.filtering && !this.filter.accepts(frame)) {
      this.counters.rxFiltered++;
      return;
    }
    this.backlog.push(frame.slice());
    this.deliver();
  }

  // ---- controlq: receive-filter commands (§5.1.6.5) ----

  private control(): void {
    const ctx = this.ctx!;
    serveQueue(ctx, NET_CONTROLQ, (c) => {
      if (c.writableBytes < 1) {
        ctx.needsReset(`virtio-net: control command ${c.id} has no writable ack byte (§5.1.6.5)`);
        return STOP;
      }
      let ack = VIRTIO_NET_ERR;
      if (c.readableBytes <= CTRL_MAX_BYTES) {
        const cmd = new Uint8Array(c.readableBytes);
        c.read(0, cmd);
        ack = this.filter.command(cmd);
      }
      this.counters.ctrlCommands++;
      if (ack !== 0) this.counters.ctrlErrors++;
      c.write(0, Uint8Array.of(ack));
      return 1;
    });
  }

  // ---- transmitq: guest → backend ----

  private transmit(): void {
    const ctx = this.ctx!;
    this.transmitBatch(ctx);
    this.backend.flush?.();
  }

  private transmitBatch(ctx: VirtioContext): void {
    serveQueue(ctx, NET_TRANSMITQ, (c) => {
      if (c.writableBytes !== 0) {
        ctx.needsReset(`virtio-net: transmit chain ${c.id} has writable buffers (§5.1.6.2)`);
        return STOP;
      }
      const frame = this.frameOf(c);
      if (frame) {
        this.counters.txFrames++;
        this.counters.txBytes += frame.length;
        this.backend.send(frame);
      } else {
        this.counters.txDropped++;
      }
      return 0;
    });
  }

  /** The frame of a transmit chain, its checksum completed if asked; null (logged) when malformed. */
  private frameOf(c: Chain): Uint8Array | null {
    const total = c.readableBytes;
    const len = total - this.hdrLen;
    const max = this.mtu + ETH_HLEN + 4; // + a VLAN tag
    if (len < ETH_HLEN || len > max) {
      this.ctx!.log(`virtio-net: dropped transmit frame of ${len} bytes (outside ${ETH_HLEN}..${max})`);
      return null;
    }
    const buf = this.txScratch.subarray(0, total);
    c.read(0, buf);
    const flags = buf[0]!, gsoType = buf[1]!;
    const csumStart = buf[6]! | (buf[7]! << 8), csumOffset = buf[8]! | (buf[9]! << 8);
    const frame = buf.subarray(this.hdrLen);
    if (gsoType !== VIRTIO_NET_HDR_GSO_NONE) {
      this.ctx!.log(`virtio-net: dropped transmit frame with gso_type ${gsoType} (no GSO feature offered)`);
      return null;
    }
    if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
      // §5.1.6.2.1: checksum from csum_start to the end, stored at csum_start + csum_offset. The
      // driver has put the pseudo-header sum in the field, so the plain sum over the range is right.
      if (!has(this.ctx!.features, VIRTIO_NET_F_CSUM) || csumStart + csumOffset + 2 > len || csumStart >= len) {
        this.ctx!.log(`virtio-net: dropped transmit frame with checksum at ${csumStart}+${csumOffset} of ${len} bytes`);
        return null;
      }
      const at = csumStart + csumOffset;
      const sum = ~onesSum(frame.subarray(csumStart)) & 0xffff;
      // UDP sends 0 as 0xffff (RFC 768): 0 means "no checksum" there; for TCP both are equivalent.
      const v = sum === 0 ? 0xffff : sum;
      frame[at] = v >>> 8;
      frame[at + 1] = v & 0xff;
      this.counters.txChecksums++;
    }
    return frame;
  }

  // ---- receiveq: backend → guest ----

  /**
   * Fill posted receive buffers from the backlog (the console's loop, notify-loop.ts): ends with the
   * backlog drained or with notifications on and no buffer left.
   */
  private deliver(): void {
    const ctx = this.ctx;
    if (!ctx || this.backlog.length === 0) return;
    const vq = ctx.queue(NET_RECEIVEQ);
    if (!vq.ready) return;
    let any = false;
    for (;;) {
      vq.disableNotifications();
      while (this.backlog.length > 0) {
        const r = this.deliverOne(vq);
        if (r === "wait") break;
        if (r === "reset") return;
        any = true;
      }
      if (!vq.enableNotifications() || this.backlog.length === 0) break;
    }
    if (any) ctx.publish(NET_RECEIVEQ);
  }

  /** Put the oldest backlog frame into receive buffers: header (§5.1.6.4) then the frame. */
  private deliverOne(vq: VirtQueue): "done" | "wait" | "reset" {
    const frame = this.backlog[0]!;
    const need = this.hdrLen + frame.length;
    // Chains for this frame: one without MRG_RXBUF; with it, as many as it takes.
    for (;;) {
      let have = 0;
      for (const c of this.held) have += c.writableBytes;
      if (this.held.length > 0 && (have >= need || !this.mergeable)) break;
      const c = vq.pop();
      if (!c) return "wait";
      if (c.writableBytes === 0) {
        this.ctx!.needsReset(`virtio-net: receive chain ${c.id} has no writable buffer (§5.1.6.3)`);
        return "reset";
      }
      this.held.push(c);
    }
    this.backlog.shift();
    const chains = this.held;
    this.held = [];
    if (chains[0]!.writableBytes < need && !this.mergeable) {
      // The driver posted a buffer too small for the frame: the frame is lost, the buffer returns empty.
      this.counters.rxDropped++;
      vq.push(chains[0]!, 0);
      return "done";
    }
    // Header then frame in one reused buffer (no allocation per frame): flags 0, GSO_NONE — a
    // complete, checksummed frame — and num_buffers (le16, ≤ queue size) when the header has it.
    const bytes = this.rxScratch.subarray(0, need);
    bytes.fill(0, 0, this.hdrLen);
    if (this.hdrLen === 12) {
      bytes[10] = chains.length;
      bytes[11] = chains.length >>> 8;
    }
    bytes.set(frame, this.hdrLen);
    let at = 0;
    for (const c of chains) {
      const n = c.write(0, bytes.subarray(at));
      at += n;
      vq.push(c, n);
    }
    this.counters.rxFrames++;
    this.counters.rxBytes += frame.length;
    return "done";
  }
}

/** The registry entry (devices/registry.ts). */
/** A net `--device`. */
export interface NetSpec extends VirtioDeviceSpec {
  /**
   * Where frames go. "host": the built-in host stack (devices/net/host-stack.ts: ARP, DHCP,
   * ping, one web page). "nat": the host stack as a gateway to the real network
   * (devices/net/nat.ts); it runs on the host thread (its sockets need the event loop), which
   * hands the worker `link`. "link": the frame rings in `link` (another VM, or the page's tab link).
   */
  backend?: "host" | "nat" | "link";
  link?: NetLinkEnd;
  /** backend=nat: host ports forwarded into the guest (devices/net/port-forward.ts). */
  forward?: string;
  /** backend=nat: the outside through this Wisp relay (ws:// or wss:// URL), as a page reaches it. */
  relay?: string;
  /** The MAC address, "02:76:69:72:65:00" by default. */
  mac?: string;
}

export const netType: DeviceType<NetSpec> = {
  name: "net",
  deviceId: 1,
  summary: "a NIC; backend=host is the built-in host (DHCP gives 10.0.2.15, 10.0.2.2 answers ping and http); backend=nat is the same host as a gateway to the real network (10.0.2.2 is this machine's 127.0.0.1, 10.0.2.3 answers DNS)",
  options: [
    // "link" (another VM, the page's tab link) needs frame rings from the same process: not from a command line.
    { key: "backend", kind: "choice", choices: ["host", "nat"], required: true, help: "where frames go" },
    {
      key: "forward", kind: "string", meta: "RULES", help: "backend=nat: host ports into the guest, tcp:[HOSTADDR:]HOSTPORT-:GUESTPORT joined by + (host address default 127.0.0.1)",
      check: (v) => {
        const r = parseForwards(String(v));
        return typeof r === "string" ? r : null;
      },
    },
    {
      key: "relay", kind: "string", meta: "URL", help: "backend=nat: reach the outside through a Wisp relay (ws://HOST:PORT/, as the page does) instead of this machine's sockets",
      check: (v) => (/^wss?:\/\/[^/]/.test(String(v)) ? null : "relay must be a ws:// or wss:// URL"),
    },
    {
      key: "mac", kind: "string", meta: "M", help: "the MAC address (default 02:76:69:72:65:00)",
      check: (v) => {
        const bytes = typeof v === "string" ? parseMac(v) : null;
        return !bytes || (bytes[0]! & 1) !== 0 ? "mac must be six hex bytes like 02:76:69:72:65:00, not a multicast address" : null;
      },
    },
  ],
  // include/uapi/linux/virtio_net.h
  features: {
    0: "VIRTIO_NET_F_CSUM",
    1: "VIRTIO_NET_F_GUEST_CSUM",
    2: "VIRTIO_NET_F_CTRL_GUEST_OFFLOADS",
    3: "VIRTIO_NET_F_MTU",
    5: "VIRTIO_NET_F_MAC",
    6: "VIRTIO_NET_F_GSO", // legacy
    7: "VIRTIO_NET_F_GUEST_TSO4",
    8: "VIRTIO_NET_F_GUEST_TSO6",
    9: "VIRTIO_NET_F_GUEST_ECN",
    10: "VIRTIO_NET_F_GUEST_UFO",
    11: "VIRTIO_NET_F_HOST_TSO4",
    12: "VIRTIO_NET_F_HOST_TSO6",
    13: "VIRTIO_NET_F_HOST_ECN",
    14: "VIRTIO_NET_F_HOST_UFO",
    15: "VIRTIO_NET_F_MRG_RXBUF",
    16: "VIRTIO_NET_F_STATUS",
    17: "VIRTIO_NET_F_CTRL_VQ",
    18: "VIRTIO_NET_F_CTRL_RX",
    19: "VIRTIO_NET_F_CTRL_VLAN",
    20: "VIRTIO_NET_F_CTRL_RX_EXTRA",
    21: "VIRTIO_NET_F_GUEST_ANNOUNCE",
    22: "VIRTIO_NET_F_MQ",
    23: "VIRTIO_NET_F_CTRL_MAC_ADDR",
  },
  config: NET_CONFIG,
  pciClass: 0x020000,
  roles: ["network"],
  // Last, so adding a NIC leaves the other devices' numbering alone.
  page: { param: "net", label: "Network", off: "off", default: "off", order: 6 },
  create(spec, ctx) {
    const link = spec.link;
    if ((spec.backend === "link" || spec.backend === "nat") && !link) throw new Error(`virtio-net: backend=${spec.backend} without a link (the NAT runs on the host thread, which makes one)`);
    const backend = link ? new RingNetBackend(link) : new HostStack({ log: ctx.log });
    return new VirtioNet({ backend, mac: (spec.mac !== undefined && parseMac(spec.mac)) || undefined });
  },
};
