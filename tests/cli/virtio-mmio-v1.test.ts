// Headless boot on virtio mmio-v1: see virtio-boot.ts.
import { test } from "node:test";
import { checkTransport } from "./virtio-boot.ts";

test("virtio mmio-v1: console on hvc0, blk md5 and fsync'd write, rng", () => checkTransport("mmio-v1"));
