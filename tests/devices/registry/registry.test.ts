// The registry is the one vocabulary: a device type registered once shows up in --help, the
// CLI's --device parser, the page's settings and device controls, the board and the inspector
// with no other edit (the toy device, tests/devices/registry/toy-device.ts); and no source
// outside the registry spells a transport or device-type name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { DEVICE_TYPES, TRANSPORT_NAMES, deviceType, deviceTypeWithRole, isBlockSpec, isFsSpec, registerDeviceType } from "../../../devices/registry.ts";
import { helpText, parseDevice } from "../../../cli/options.ts";
import { PAGE_DEVICES, deviceChoices, deviceSpecs, parseSettings, settingsQuery } from "../../../web/settings.ts";
import { PcBoard } from "../../../devices/board/pc.ts";
import { MMIO_BASE } from "../../../devices/board/virtio-devices.ts";
import { BoardInspector } from "../../../devices/inspect/board-inspector.ts";
import { toyType } from "./toy-device.ts";

const root = new URL("../../../", import.meta.url).pathname;

test("a toy device type, registered in one line, is known everywhere", () => {
  assert.equal(deviceType("toy"), undefined);
  assert.doesNotMatch(helpText(), /toy/);
  registerDeviceType(toyType);

  // --help and --device
  assert.match(helpText(), /^ +toy,transport=T\[,brightness=N\]\[,irq=I\]$/m);
  assert.match(helpText(), /a lamp that only glows/);
  assert.deepEqual(parseDevice("toy,transport=mmio-v2,brightness=9"), { type: "toy", transport: "mmio-v2", brightness: 9 });
  assert.throws(() => parseDevice("toy,transport=mmio-v2,colour=red"), /unknown option 'colour' for toy \(allowed: transport, brightness, irq\)/);

  // The page: a control with every transport, a URL parameter that round-trips, a spec.
  const control = PAGE_DEVICES().find((t) => t.name === "toy");
  assert.ok(control, "the page offers it");
  assert.deepEqual(deviceChoices(control), ["off", ...TRANSPORT_NAMES]);
  const { settings, errors } = parseSettings("?disk=off&toy=pci-modern");
  assert.deepEqual(errors, []);
  assert.equal(settings.devices.toy, "pci-modern");
  assert.equal(new URLSearchParams(settingsQuery(settings)).get("toy"), "pci-modern");
  assert.deepEqual(deviceSpecs(settings, "idb:data"), [{ type: "toy", transport: "pci-modern" }]);

  // The board places it, the inspector names it, its features and its config fields.
  const module = new WebAssembly.Module(readFileSync(join(root, "core-wasm/build/core.wasm")));
  const board = new PcBoard({
    module, ramBytes: 16 << 20, clock: "deterministic", onConsole: () => {},
    virtio: [parseDevice("toy,transport=mmio-v2,brightness=9")],
  });
  const inspector = new BoardInspector(board);
  inspector.setAccessLogging(true);
  assert.equal(board.mmio.read(MMIO_BASE + 0x100, 4), 9, "config space from the option");
  const [d] = inspector.snapshot(true).devices;
  assert.equal(d!.name, "virtio-toy0");
  assert.equal(d!.type, "toy");
  assert.equal(d!.deviceId, 63);
  assert.ok(d!.features.rows.some((r) => r.bit === 0 && r.name === "VIRTIO_TOY_F_GLOW" && r.offered));
  assert.equal(d!.accesses.at(-1)!.name, "device config +0x0 brightness");
});

/** Quoted literals in a source: '…', "…" and `…` without substitutions. */
function literals(text: string): string[] {
  return [...text.matchAll(/"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`([^`$\\]*)`/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

test("no transport or device-type name is a string literal outside the registry and tests", () => {
  const names = new Set<string>([...TRANSPORT_NAMES, ...DEVICE_TYPES.filter((t) => t !== toyType).map((t) => t.name)]);
  // Where names are declared: the transports, and each built-in device type's registry entry.
  const declaring = new Set(["devices/virtio/transports.ts", "devices/registry.ts", ...["blk", "console", "rng", "balloon", "input", "net", "p9"].map((f) => `devices/virtio/${f}.ts`)]);
  const bad: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (["node_modules", "build", "results", "public"].includes(name)) continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mjs|html)$/.test(name)) {
        const rel = relative(root, p);
        if (declaring.has(rel)) continue;
        readFileSync(p, "utf8").split("\n").forEach((line, i) => {
          if (line.includes("// not-a-device-name")) return; // a word that happens to be a name (a bench section)
          const code = line.replace(/^\s*(\/\/|\*|\/\*\*).*$/, "").replace(/\s\/\/ .*$/, ""); // comments may name them
          for (const l of literals(code)) if (names.has(l)) bad.push(`${rel}:${i + 1}: "${l}"`);
        });
      }
    }
  };
  for (const d of ["bench", "cli", "core-wasm", "devices", "scripts", "web"]) walk(join(root, d));
  assert.deepEqual(bad, []);
});

test("each built-in device type's name is declared in the file the grep exempts for it", () => {
  for (const t of DEVICE_TYPES.filter((x) => x !== toyType)) {
    const file = `devices/virtio/${t.name === "9p" ? "p9" : t.name}.ts`;
    assert.match(readFileSync(join(root, file), "utf8"), new RegExp(`name: "${t.name}",`), file);
  }
});

test("a parsed spec reaches a host backend only as the spec of its role: a block image, a folder", () => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-spec-"));
  const image = join(dir, "disk.img");
  writeFileSync(image, new Uint8Array(4096)); // the parser checks it exists and holds whole sectors
  const disk = deviceTypeWithRole("disk")!, share = deviceTypeWithRole("share")!;
  const blk = parseDevice(`${disk.name},transport=${TRANSPORT_NAMES[0]},image=${image}`);
  const p9 = parseDevice(`${share.name},transport=${TRANSPORT_NAMES[0]},path=${root}`);
  assert.ok(isBlockSpec(blk) && blk.image === image);
  assert.ok(!isFsSpec(blk));
  assert.ok(isFsSpec(p9) && p9.path === root);
  assert.ok(!isBlockSpec(p9));
  assert.ok(!isBlockSpec({ type: disk.name, transport: TRANSPORT_NAMES[0]! }), "no image: nothing for the host to open");
  const other = DEVICE_TYPES.find((t) => t.backend === undefined)!;
  assert.ok(!isBlockSpec({ type: other.name, transport: TRANSPORT_NAMES[0]!, image }), "an image option on a type without a block backend");
  rmSync(dir, { recursive: true });
});
