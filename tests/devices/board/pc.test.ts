// The board's host input (devices/board/pc.ts): keystrokes, terminal size, the balloon target
// and key presses reach the first plugged device with that capability, found by a type guard
// (virtio/device.ts hasCapability), not by type name; without one, console input goes to COM1
// and the others say they had nowhere to go.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PcBoard } from "../../../devices/board/pc.ts";
import { hasCapability, type VirtioDevice } from "../../../devices/virtio/device.ts";
import { VirtioConsole } from "../../../devices/virtio/console.ts";
import type { VirtioDeviceSpec } from "../../../devices/vm/config.ts";

const module = new WebAssembly.Module(readFileSync(new URL("../../../core-wasm/build/core.wasm", import.meta.url)));
const board = (virtio: VirtioDeviceSpec[] = []) =>
  new PcBoard({ module, ramBytes: 32 << 20, clock: "deterministic", onConsole: () => {}, virtio, pvpanic: false });
const LSR = 0x3f8 + 5, LSR_DR = 1;

test("no console, balloon or keyboard: console input goes to COM1; the rest report false", () => {
  const b = board();
  assert.equal(b.ports.read(LSR, 1) & LSR_DR, 0);
  b.consoleInput(new Uint8Array([0x61]));
  assert.equal(b.ports.read(LSR, 1) & LSR_DR, LSR_DR, "COM1 has a byte");
  assert.equal(b.ports.read(0x3f8, 1), 0x61);
  assert.doesNotThrow(() => b.consoleResize(80, 25));
  assert.equal(b.setBalloonMiB(16), false);
  assert.equal(b.inputKey(30, true), false);
});

test("each host input reaches the device with that capability", () => {
  const b = board([
    { type: "input", transport: "pci-modern" },
    { type: "balloon", transport: "pci-modern" },
    { type: "console", transport: "pci-modern" },
  ]);
  const dev = (type: string) => b.virtio.find((d) => d.spec.type === type)!.device;
  b.consoleInput(new Uint8Array([1, 2, 3]));
  const con = dev("console");
  assert.ok(con instanceof VirtioConsole);
  assert.equal(con.pendingInput, 3);
  assert.equal(b.ports.read(LSR, 1) & LSR_DR, 0, "not COM1");
  b.consoleResize(100, 40);
  assert.deepEqual([dev("console").readConfig(0, 2), dev("console").readConfig(2, 2)], [100, 40], "virtio 1.2 §5.3.4: cols, rows");
  assert.equal(b.setBalloonMiB(16), true);
  assert.equal(dev("balloon").readConfig(0, 4), 16 * 256, "virtio 1.2 §5.5.4: num_pages in 4 KiB pages");
  assert.equal(b.inputKey(30, true), true);
  assert.equal(dev("input").stats!().pending, 2, "EV_KEY then SYN_REPORT");
});

// Compile-time (npm run typecheck): a capability method is optional on VirtioDevice, so calling
// it needs the guard; the guard's narrowing is what lets the board call it without an assertion.
export function callsNeedTheGuard(d: VirtioDevice): void {
  // @ts-expect-error inputKey may be absent
  d.inputKey(30, true);
  if (hasCapability(d, "inputKey")) d.inputKey(30, true);
}
