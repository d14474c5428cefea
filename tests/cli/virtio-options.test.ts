// `--device`: accepted forms, and every bad form as one clear line with exit status 2.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { linkSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError, parseDevice, parseOptions } from "../../cli/options.ts";

const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "vireo-opt-"));
const img = join(dir, "disk.img");
writeFileSync(img, new Uint8Array(4096));
const odd = join(dir, "odd.img");
writeFileSync(odd, new Uint8Array(1000));

test("--device parses every type on every transport", () => {
  for (const t of ["pci-legacy", "pci-modern", "pci-transitional", "mmio-v1", "mmio-v2"]) {
    assert.deepEqual(parseDevice(`rng,transport=${t}`), { type: "rng", transport: t });
    assert.deepEqual(parseDevice(`console,transport=${t}`), { type: "console", transport: t });
    assert.deepEqual(parseDevice(`blk,transport=${t},image=${img}`), { type: "blk", transport: t, image: img });
    assert.deepEqual(parseDevice(`blk,image=${img},readonly,transport=${t}`), { type: "blk", transport: t, image: img, readonly: true });
    assert.deepEqual(parseDevice(`balloon,transport=${t}`), { type: "balloon", transport: t });
    assert.deepEqual(parseDevice(`balloon,transport=${t},mib=16`), { type: "balloon", transport: t, balloonMiB: 16 });
    if (t === "pci-modern" || t === "mmio-v2") assert.deepEqual(parseDevice(`input,transport=${t}`), { type: "input", transport: t });
    assert.deepEqual(parseDevice(`net,transport=${t},backend=host`), { type: "net", transport: t, backend: "host" });
    assert.deepEqual(parseDevice(`net,backend=host,mac=02:00:00:00:00:07,transport=${t}`), { type: "net", transport: t, backend: "host", mac: "02:00:00:00:00:07" });
  }
});

test("irq=: msix on virtio-pci, msi on mmio-v2, intx anywhere; --apic", () => {
  for (const t of ["pci-legacy", "pci-modern", "pci-transitional"]) {
    assert.deepEqual(parseDevice(`rng,transport=${t},irq=msix`), { type: "rng", transport: t, irq: "msix" });
    assert.deepEqual(parseDevice(`blk,transport=${t},image=${img},irq=intx`), { type: "blk", transport: t, image: img, irq: "intx" });
  }
  assert.deepEqual(parseDevice("console,transport=mmio-v2,irq=msi"), { type: "console", transport: "mmio-v2", irq: "msi" });
  const o = parseOptions(["--apic"]);
  assert.ok(o !== "help" && o.vm.apic === true);
  const d = parseOptions([]);
  assert.ok(d !== "help" && d.vm.apic === undefined, "the default board has no APIC");
});

test("bad --device forms are one UsageError line", () => {
  const cases: [string[], RegExp][] = [
    [["--device", "tap,transport=mmio-v2"], /type must be one of blk, console, rng, balloon, input, net, 9p/],
    [["--device", "input,transport=pci-legacy"], /virtio-input driver needs VIRTIO_F_VERSION_1/],
    [["--device", "input,transport=mmio-v1"], /use pci-modern or mmio-v2/],
    // It was accepted and crashed the worker (exit 1): no transitional PCI id for virtio-input.
    [["--device", "input,transport=pci-transitional"], /no transitional PCI id/],
    [["--device", "balloon,transport=pci-modern,mib=lots"], /mib=N takes a whole number of MiB/],
    [["--device", "balloon,transport=pci-modern,mib=128"], /mib=128 must be less than the guest's 128 MiB/],
    [["--device", "balloon,transport=pci-modern,image=x"], /unknown option 'image' for balloon/],
    [["--device", "net,transport=mmio-v2"], /net needs backend=host/],
    [["--device", "net,transport=mmio-v2,backend=tab"], /net needs backend=host/],
    [["--device", "net,transport=mmio-v2,backend=host,mac=01:00:00:00:00:01"], /not a multicast address/],
    [["--device", "net,transport=mmio-v2,backend=host,mac=zz"], /mac must be six hex bytes/],
    [["--device", "rng"], /transport=T is required/],
    [["--device", "rng,transport=mmio-v3"], /transport=T is required, T one of pci-legacy/],
    [["--device", "blk,transport=pci-modern"], /blk needs image=FILE/],
    [["--device", `blk,transport=pci-modern,image=${join(dir, "missing")}`], /cannot open image .*: ENOENT/],
    [["--device", `blk,transport=pci-modern,image=${odd}`], /not a non-zero multiple of 512/],
    [["--device", `blk,transport=pci-modern,image=${img},readonly=no`], /readonly takes no value/],
    [["--device", "rng,transport=mmio-v1,readonly"], /unknown option 'readonly' for rng/],
    [["--device", "rng,transport=mmio-v1,transport=mmio-v2"], /'transport' given twice/],
    [["--device", "rng,transport=mmio-v2,irq=msix"], /irq=msix is for virtio-pci/],
    [["--device", "rng,transport=pci-modern,irq=msi"], /irq=msi is for mmio-v2/],
    [["--device", "rng,transport=pci-modern,irq=level"], /irq must be intx, msix or msi/],
    [["--device", "console,transport=mmio-v1", "--device", "console,transport=pci-modern"], /at most one console/],
    [Array.from({ length: 9 }, () => ["--device", "rng,transport=mmio-v2"]).flat(), /at most 8 virtio-mmio devices/],
  ];
  for (const [args, re] of cases) {
    assert.throws(() => parseOptions(args), (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"), args.join(" "));
  }
});

test("the CLI prints a bad --device as one line and exits 2", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/boot.ts", "--device", "blk,transport=mmio-v2"], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^vireo: --device 'blk,transport=mmio-v2': blk needs image=FILE\n$/);
});

test("one image twice (symlink, hard link, `..`), or an image inside a 9p folder, is refused; the CLI exits 2", () => {
  const share = mkdtempSync(join(tmpdir(), "vireo-share-"));
  const inside = join(share, "sub", "disk.img");
  mkdirSync(join(share, "sub"));
  writeFileSync(inside, new Uint8Array(1024));
  symlinkSync(img, join(dir, "alias.img"));
  linkSync(img, join(dir, "hard.img"));
  const cases: [string[], RegExp][] = [
    [["--device", `blk,transport=pci-modern,image=${img}`, "--device", `blk,transport=mmio-v2,image=${join(dir, "alias.img")},readonly`], /is already the disk of another blk device/],
    [["--device", `blk,transport=pci-modern,image=${img}`, "--device", `blk,transport=pci-legacy,image=${join(dir, ".", "disk.img")}`], /already the disk/],
    [["--device", `9p,transport=pci-modern,path=${share}`, "--device", `blk,transport=pci-modern,image=${inside}`], /is inside the 9p folder/],
    [["--device", `9p,transport=pci-modern,path=${join(share, "sub", "..")}`, "--device", `blk,transport=mmio-v2,image=${inside},readonly`], /inside the 9p folder/],
    [["--device", `blk,transport=pci-modern,image=${img}`, "--device", `blk,transport=mmio-v2,image=${join(dir, "hard.img")}`], /is already the disk of another blk device/],
  ];
  for (const [args, re] of cases) {
    assert.throws(() => parseOptions(args), (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"), args.join(" "));
  }
  // A folder whose name is a prefix of the image's folder, but not a parent of it, is fine.
  mkdirSync(join(dir, "d"));
  mkdirSync(join(dir, "d2"));
  writeFileSync(join(dir, "d2", "x.img"), new Uint8Array(512));
  const d = parseOptions(["--device", `9p,transport=pci-modern,path=${join(dir, "d")}`, "--device", `blk,transport=pci-modern,image=${join(dir, "d2", "x.img")}`]);
  assert.ok(d !== "help" && d.vm.devices!.length === 2);
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/boot.ts", ...cases[2]![0]], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^vireo: --device: image '.*' is inside the 9p folder '.*' \(the guest would reach the disk through both\)\n$/);
});
