// A toy virtio device type, never shipped: what a new device type's file looks like. It lives
// in this one file; registering it (one line, as devices/registry.ts lists the built-in ones)
// is all it takes for --help, --device, the page's settings and controls, the board and the
// inspector to know it.
import type { Width } from "../../../devices/bus/region.ts";
import type { VirtioContext, VirtioDevice } from "../../../devices/virtio/device.ts";
import type { DeviceType } from "../../../devices/virtio/device-type.ts";
import type { ConfigField } from "../../../devices/virtio/config-space.ts";

const TOY_CONFIG: readonly ConfigField[] = [{ offset: 0, width: 4, name: "brightness", ref: "toy §1" }];

class Toy implements VirtioDevice {
  readonly name = toyType.name;
  readonly deviceId = toyType.deviceId;
  readonly features = 1n << 0n;
  readonly queueSizes = [8];
  readonly configSize = 4;
  constructor(readonly brightness: number) {}
  readConfig(offset: number, width: Width): number {
    return offset === 0 && width === 4 ? this.brightness : 0;
  }
  writeConfig(): void {}
  activate(_ctx: VirtioContext): void {}
  notify(): void {}
  reset(): void {}
}

export const toyType: DeviceType = {
  name: "toy",
  deviceId: 63,
  summary: "a lamp that only glows",
  options: [{ key: "brightness", kind: "int", meta: "N", default: 7, help: "how bright" }],
  features: { 0: "VIRTIO_TOY_F_GLOW" },
  config: TOY_CONFIG,
  page: { param: "toy", label: "Toy", off: "off", default: "off", order: 9 },
  create: (spec) => new Toy(typeof spec.brightness === "number" ? spec.brightness : 7),
};
