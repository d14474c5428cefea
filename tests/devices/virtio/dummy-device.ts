// A dummy virtio device type for transport tests (Firecracker's DummyDevice in spirit): a
// config space of 8 bytes, two queues, one feature bit, and counters of every call.
import type { Width } from "../../../devices/bus/region.ts";
import type { VirtioContext, VirtioDevice } from "../../../devices/virtio/device.ts";

export class DummyDevice implements VirtioDevice {
  readonly name = "dummy";
  readonly deviceId = 4; // rng's id: has a transitional PCI id
  readonly features = 1n << 3n;
  readonly queueSizes = [16, 8];
  readonly configSize = 8;
  readonly cfg = Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88);
  ctx: VirtioContext | null = null;
  notified: number[] = [];
  resets = 0;
  activations = 0;
  configWrites: [number, number, number][] = [];

  readConfig(offset: number, width: Width): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | this.cfg[offset + i]!;
    return v >>> 0;
  }
  writeConfig(offset: number, width: Width, value: number): void { this.configWrites.push([offset, width, value]); }
  activate(ctx: VirtioContext): void { this.ctx = ctx; this.activations++; }
  notify(index: number): void { this.notified.push(index); }
  reset(): void { this.ctx = null; this.resets++; }
}
