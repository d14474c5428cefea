// Headless boot on virtio pci-transitional: see virtio-boot.ts.
import { test } from "node:test";
import { checkTransport } from "./virtio-boot.ts";

test("virtio pci-transitional: console on hvc0, blk md5 and fsync'd write, rng", () => checkTransport("pci-transitional"));
