// vireo/browser's options → the page worker's VmConfig: the CLI's checks and messages where
// they apply, disks by name instead of files, and one line for what a page cannot have.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkOptions } from "../../../lib/browser/config.ts";
import { VmOptionsError } from "../../../lib/common/errors.ts";

const refused = (f: () => unknown, message: RegExp) => assert.throws(f, (e) => e instanceof VmOptionsError && message.test(e.message));

test("browser options are checked with the CLI's rules; disks are named bytes; folders and the NAT are refused", () => {
  const disk = new Uint8Array(8 * 512);
  const c = checkOptions({ memoryMiB: 64, append: "console=ttyS0 quiet", jit: "off", devices: [{ type: "blk", transport: "mmio-v2", image: "data", readonly: true }, "rng,transport=pci-modern"] }, { data: disk });
  assert.equal(c.memMiB, 64);
  assert.equal(c.cmdline, "console=ttyS0 quiet");
  assert.equal(c.jit, 0);
  assert.equal(c.noReboot, true);
  assert.deepEqual(c.devices, [{ type: "blk", transport: "mmio-v2", image: "data", readonly: true }, { type: "rng", transport: "pci-modern" }]);

  refused(() => checkOptions({ memoryMiB: 8 }, {}), /--mem must be a whole number of MiB from 16 to 2000/);
  refused(() => checkOptions({ devices: [{ type: "blk", transport: "pci-modern", image: "nope" }] }, { data: disk }), /no disk 'nope' in the disks option \('data'\)/);
  refused(() => checkOptions({ devices: [{ type: "blk", transport: "pci-modern", image: "odd" }] }, { odd: new Uint8Array(100) }), /image 'odd'.*512/);
  refused(() => checkOptions({ devices: [{ type: "blk", transport: "pci-modern", image: "data" }, { type: "blk", transport: "mmio-v2", image: "data" }] }, { data: disk }), /one disk is the image of two blk devices/);
  refused(() => checkOptions({ devices: ["9p,transport=pci-modern,path=/tmp,tag=x"] }, {}), /shared folder is not available in the browser/);
  refused(() => checkOptions({ devices: ["net,transport=pci-modern,backend=nat"] }, {}), /backend=nat is not available in the browser/);
  // The registry's own rules, as the CLI gives them.
  refused(() => checkOptions({ devices: [{ type: "input", transport: "pci-legacy" }] }, {}), /input/);
  refused(() => checkOptions({ devices: ["console,transport=pci-modern", "console,transport=mmio-v2"] }, {}), /at most one console device/);
});
