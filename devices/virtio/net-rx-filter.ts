// virtio-net receive filtering by the control queue (virtio 1.2 §5.1.6.5.1 "Packet Receive
// Filtering", §5.1.6.5.2 "Setting MAC Address Filtering"): with VIRTIO_NET_F_CTRL_RX the driver
// turns promiscuous and all-multicast mode on and off and gives the unicast and multicast
// addresses it wants besides its own MAC; the device then hands the guest only matching frames
// (and broadcast — VIRTIO_NET_F_CTRL_RX_EXTRA's "no broadcast" is not offered). Useful on the
// tab link, which like a hub carries every frame to every NIC.
//
// A command arrives as one chain (§5.1.6.5): u8 class, u8 command, the command's data, and one
// device-writable ack byte. The parser here sees the readable bytes only.
import type { StateTable, Stateful } from "../state/fields.ts";

// Classes and commands, §5.1.6.5.
export const VIRTIO_NET_CTRL_RX = 0;
export const VIRTIO_NET_CTRL_RX_PROMISC = 0;
export const VIRTIO_NET_CTRL_RX_ALLMULTI = 1;
export const VIRTIO_NET_CTRL_MAC = 1;
export const VIRTIO_NET_CTRL_MAC_TABLE_SET = 0;
export const VIRTIO_NET_OK = 0;
export const VIRTIO_NET_ERR = 1;
/** Addresses kept per table; a longer table accepts every address of its kind (§5.1.6.5.2 allows a device to be lax). */
export const MAC_TABLE_MAX = 64;

export class RxFilter implements Stateful {
  /** Power-on state: everything passes, as for a driver that never sends a command. */
  promisc = true;
  allmulti = false;
  private unicast: string[] = [];
  private multicast: string[] = [];
  private unicastOverflow = false;
  private multicastOverflow = false;

  /** Snapshot fields (devices/state/). */
  readonly stateTable: StateTable = {
    promisc: "bool", allmulti: "bool", unicast: { list: { str: 64 }, max: 1 << 16 }, multicast: { list: { str: 64 }, max: 1 << 16 },
    unicastOverflow: "bool", multicastOverflow: "bool",
  };

  constructor(private readonly mac: Uint8Array) {}

  reset(): void {
    this.promisc = true;
    this.allmulti = false;
    this.unicast = [];
    this.multicast = [];
    this.unicastOverflow = this.multicastOverflow = false;
  }

  /** Should a frame with this destination reach the guest? */
  accepts(frame: Uint8Array): boolean {
    if (this.promisc) return true;
    const dst = frame.subarray(0, 6);
    if ((dst[0]! & 1) === 0) {
      let own = true;
      for (let i = 0; i < 6; i++) if (dst[i] !== this.mac[i]) own = false;
      return own || this.unicastOverflow || this.unicast.includes(key(dst));
    }
    if (dst.every((b) => b === 0xff)) return true;
    return this.allmulti || this.multicastOverflow || this.multicast.includes(key(dst));
  }

  /** Execute one command (its readable bytes); returns the ack. Nothing changes on VIRTIO_NET_ERR. */
  command(cmd: Uint8Array): number {
    if (cmd.length < 2) return VIRTIO_NET_ERR;
    const cls = cmd[0]!, op = cmd[1]!, data = cmd.subarray(2);
    if (cls === VIRTIO_NET_CTRL_RX && (op === VIRTIO_NET_CTRL_RX_PROMISC || op === VIRTIO_NET_CTRL_RX_ALLMULTI)) {
      if (data.length !== 1) return VIRTIO_NET_ERR;
      if (op === VIRTIO_NET_CTRL_RX_PROMISC) this.promisc = data[0] !== 0;
      else this.allmulti = data[0] !== 0;
      return VIRTIO_NET_OK;
    }
    if (cls === VIRTIO_NET_CTRL_MAC && op === VIRTIO_NET_CTRL_MAC_TABLE_SET) {
      // Two struct virtio_net_ctrl_mac { le32 entries; u8 macs[entries][6]; }: unicast, then multicast.
      const uc = table(data, 0);
      if (!uc) return VIRTIO_NET_ERR;
      const mc = table(data, uc.end);
      if (!mc || mc.end !== data.length) return VIRTIO_NET_ERR;
      this.unicast = uc.macs.slice(0, MAC_TABLE_MAX);
      this.unicastOverflow = uc.macs.length > MAC_TABLE_MAX;
      this.multicast = mc.macs.slice(0, MAC_TABLE_MAX);
      this.multicastOverflow = mc.macs.length > MAC_TABLE_MAX;
      return VIRTIO_NET_OK;
    }
    return VIRTIO_NET_ERR; // CTRL_RX_EXTRA, MAC_ADDR_SET, VLAN, ANNOUNCE, MQ: not offered
  }
}

function key(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

function table(d: Uint8Array, at: number): { macs: string[]; end: number } | null {
  if (at + 4 > d.length) return null;
  const n = (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16) | (d[at + 3]! << 24)) >>> 0;
  const end = at + 4 + n * 6;
  if (end > d.length) return null; // also bounds n: a huge count cannot fit the chain
  const macs: string[] = [];
  for (let i = 0; i < n; i++) macs.push(key(d.subarray(at + 4 + i * 6, at + 10 + i * 6)));
  return { macs, end };
}
