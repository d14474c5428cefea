// Feature bits by name, for the inspector's bit-by-bit negotiation table. Names and numbers are
// those of the Linux uapi headers the guest's drivers are built from (Linux 6.1:
// include/uapi/linux/virtio_config.h, virtio_ring.h, virtio_net.h, virtio_blk.h, virtio_console.h; virtio_rng.h
// defines none), which follow virtio 1.2 §6 "Reserved Feature Bits" and §5.x "Feature bits".

/** Transport and ring bits (24–40), the same for every device type. */
export const TRANSPORT_FEATURES: Readonly<Record<number, string>> = {
  24: "VIRTIO_F_NOTIFY_ON_EMPTY", // legacy only
  27: "VIRTIO_F_ANY_LAYOUT", // legacy only
  28: "VIRTIO_RING_F_INDIRECT_DESC", // §2.7.5.3
  29: "VIRTIO_RING_F_EVENT_IDX", // §2.7.7
  32: "VIRTIO_F_VERSION_1",
  33: "VIRTIO_F_ACCESS_PLATFORM",
  34: "VIRTIO_F_RING_PACKED", // §2.8
  35: "VIRTIO_F_IN_ORDER",
  36: "VIRTIO_F_ORDER_PLATFORM",
  37: "VIRTIO_F_SR_IOV",
  38: "VIRTIO_F_NOTIFICATION_DATA",
  40: "VIRTIO_F_RING_RESET",
};

/** Device-specific bits by virtio device id (§5): 1 network, 2 block, 3 console, 4 entropy. */
export const DEVICE_FEATURES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: {
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
  2: {
    0: "VIRTIO_BLK_F_BARRIER", // legacy
    1: "VIRTIO_BLK_F_SIZE_MAX",
    2: "VIRTIO_BLK_F_SEG_MAX",
    4: "VIRTIO_BLK_F_GEOMETRY",
    5: "VIRTIO_BLK_F_RO",
    6: "VIRTIO_BLK_F_BLK_SIZE",
    7: "VIRTIO_BLK_F_SCSI", // legacy
    9: "VIRTIO_BLK_F_FLUSH",
    10: "VIRTIO_BLK_F_TOPOLOGY",
    11: "VIRTIO_BLK_F_CONFIG_WCE",
    12: "VIRTIO_BLK_F_MQ",
    13: "VIRTIO_BLK_F_DISCARD",
    14: "VIRTIO_BLK_F_WRITE_ZEROES",
    16: "VIRTIO_BLK_F_SECURE_ERASE",
  },
  3: {
    0: "VIRTIO_CONSOLE_F_SIZE",
    1: "VIRTIO_CONSOLE_F_MULTIPORT",
    2: "VIRTIO_CONSOLE_F_EMERG_WRITE",
  },
  4: {},
  9: {
    0: "VIRTIO_9P_MOUNT_TAG", // include/uapi/linux/virtio_9p.h
  },
};

/** The name of feature `bit` for device type `deviceId`; unknown bits read "bit N". */
export function featureName(deviceId: number, bit: number): string {
  return TRANSPORT_FEATURES[bit] ?? DEVICE_FEATURES[deviceId]?.[bit] ?? `bit ${bit}`;
}

export interface FeatureRow {
  bit: number;
  name: string;
  /** Offered by the device (device_feature / HostFeatures / DeviceFeatures). */
  offered: boolean;
  /** Written by the driver so far (driver_feature / GuestFeatures / DriverFeatures). */
  driver: boolean;
  /** Accepted: in the set fixed at FEATURES_OK (or DRIVER_OK for a legacy driver). */
  accepted: boolean;
}

/**
 * One row per bit that is offered, written or named for this device type, in bit order. The
 * three sets are 64-bit masks as hex strings (the snapshot must be JSON, which has no BigInt).
 */
export function featureRows(deviceId: number, offered: bigint, driver: bigint, accepted: bigint): FeatureRow[] {
  const rows: FeatureRow[] = [];
  const named = new Set<number>([...Object.keys(TRANSPORT_FEATURES), ...Object.keys(DEVICE_FEATURES[deviceId] ?? {})].map(Number));
  for (let b = 0; b < 64; b++) {
    const m = 1n << BigInt(b);
    const o = (offered & m) !== 0n, d = (driver & m) !== 0n, a = (accepted & m) !== 0n;
    if (!o && !d && !a && !named.has(b)) continue;
    rows.push({ bit: b, name: featureName(deviceId, b), offered: o, driver: d, accepted: a });
  }
  return rows;
}

/** 0x… for a feature mask (JSON-safe). */
export const hex64 = (v: bigint): string => `0x${v.toString(16).padStart(16, "0")}`;
