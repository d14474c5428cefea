// The board configuration of a state (devices/state/config.ts): checked field by field on the way
// in, and never a source of host paths — a device that uses a host file or folder must be given
// again by the host, matching the saved one in everything else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { matchDevices, parseSavedConfig, type SavedConfig } from "../../../devices/state/config.ts";
import { StateError } from "../../../devices/state/wire.ts";
import type { VirtioDeviceSpec } from "../../../devices/vm/config.ts";

const id = { size: 10, sha256: "a".repeat(64) };
const good: SavedConfig = {
  memMiB: 128, clock: "deterministic", cmdline: "console=ttyS0", apic: false, acpi: false, jit: null, pvpanic: true, guestDecompress: false,
  devices: [{ type: "blk", transport: "pci-modern", image: "/etc/shadow" }, { type: "rng", transport: "mmio-v2" }],
  kernel: id, initrd: null, disks: [{ device: 0, id }], atPrompt: true,
};

test("a good configuration parses; each bad field is a StateError", () => {
  assert.deepEqual(parseSavedConfig(JSON.stringify(good)), good);
  const bad: [string, unknown][] = [
    ["memMiB", 4], ["memMiB", "128"], ["clock", "fast"], ["jit", -1], ["apic", 1], ["devices", [{ type: "floppy", transport: "pci-modern" }]],
    ["devices", [{ type: "blk", transport: "isa" }]], ["devices", [{ type: "rng", transport: "mmio-v2", x: { y: 1 } }]],
    ["kernel", { size: 1, sha256: "xyz" }], ["disks", [{ device: 5, id }]], ["atPrompt", "yes"],
  ];
  for (const [k, v] of bad) assert.throws(() => parseSavedConfig(JSON.stringify({ ...good, [k]: v })), StateError, `${k}=${JSON.stringify(v)}`);
  assert.throws(() => parseSavedConfig("{"), /no valid JSON/);
});

test("host files and folders come from the host, never from the state", () => {
  const given: VirtioDeviceSpec[] = [{ type: "blk", transport: "pci-modern", image: "mine.img" }, { type: "rng", transport: "mmio-v2" }];
  assert.deepEqual(matchDevices(good.devices, given).map((d) => d.image), ["mine.img", undefined]);
  assert.throws(() => matchDevices(good.devices, []), /give the same devices \(host files and folders are never taken from a state file\)/);
  assert.throws(() => matchDevices(good.devices, [{ ...given[0]!, transport: "mmio-v2" }, given[1]!]), /device 1 differs from the saved one \(transport\)/);
  assert.throws(() => matchDevices(good.devices, [{ ...given[0]!, readonly: true }, given[1]!]), /\(readonly\)/);
  // Devices without host resources come from the state as they are.
  const plain: VirtioDeviceSpec[] = [{ type: "rng", transport: "mmio-v2" }];
  assert.deepEqual(matchDevices(plain, []), plain);
});
