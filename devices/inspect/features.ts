// Feature bits by name, for the inspector's bit-by-bit negotiation table. Names and numbers are
// those of the Linux uapi headers the guest's drivers are built from (Linux 6.1:
// include/uapi/linux/virtio_config.h, virtio_ring.h here; each device type's own in its registry
// entry), which follow virtio 1.2 §6 "Reserved Feature Bits" and §5.x "Feature bits".
import { deviceTypeById } from "../registry.ts";

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

/** Device-specific bits of device type `deviceId`: its registry entry's names (devices/registry.ts). */
export function deviceFeatures(deviceId: number): Readonly<Record<number, string>> {
  return deviceTypeById(deviceId)?.features ?? {};
}

/** The name of feature `bit` for device type `deviceId`; unknown bits read "bit N". */
export function featureName(deviceId: number, bit: number): string {
  return TRANSPORT_FEATURES[bit] ?? deviceFeatures(deviceId)[bit] ?? `bit ${bit}`;
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
  const named = new Set<number>([...Object.keys(TRANSPORT_FEATURES), ...Object.keys(deviceFeatures(deviceId))].map(Number));
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
