// Headless boot on virtio pci-transitional with MSI-X on the APIC board: see virtio-boot.ts.
import { test } from "node:test";
import { checkTransport } from "./virtio-boot.ts";

test("virtio pci-transitional, MSI-X (--apic, bzImage-apic): a vector per queue, blk md5 and fsync'd write, rng", () => checkTransport("pci-transitional", { msix: true }));
