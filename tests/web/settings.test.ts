// The page's URL syntax (web/settings.ts): every device on every transport round-trips, and each
// bad value is reported and falls back to its default without touching the other settings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_SETTINGS, deviceSpecs, kernelCmdline, parseSettings, relayUrl, settingsQuery } from "../../web/settings.ts";
import { TRANSPORT_KINDS } from "../../devices/virtio/device.ts";

test("no query gives the defaults: serial console, the data disk on pci-modern", () => {
  const { settings, errors } = parseSettings("");
  assert.deepEqual(settings, DEFAULT_SETTINGS);
  assert.deepEqual(errors, []);
  assert.deepEqual(deviceSpecs(settings, "idb:data"), [{ type: "blk", transport: "pci-modern", image: "idb:data" }]);
  assert.deepEqual(deviceSpecs({ ...settings, devices: { ...settings.devices, disk: "off" } }, "idb:data"), []);
  assert.equal(kernelCmdline(settings), "console=ttyS0 tsc=reliable pty.legacy_count=0");
});

test("every transport for disk, console, rng and balloon parses and round-trips through the query", () => {
  for (const t of TRANSPORT_KINDS) {
    const { settings, errors } = parseSettings(`?mem=256&disk=${t}&console=${t}&rng=${t}&balloon=${t}&autoboot=1`);
    assert.deepEqual(errors, []);
    assert.deepEqual(settings, { memMiB: 256, autoboot: true, devices: { disk: t, console: t, rng: t, balloon: t, input: "off", net: "off" }, netBackend: "tab", apic: true, guest: "default" });
    assert.deepEqual(parseSettings(settingsQuery(settings)).settings, settings);
    assert.deepEqual(deviceSpecs(settings, "mem:picked"), [
      { type: "console", transport: t },
      { type: "blk", transport: t, image: "mem:picked" },
      { type: "rng", transport: t },
      { type: "balloon", transport: t },
    ]);
    assert.equal(kernelCmdline(settings), "console=hvc0 tsc=reliable pty.legacy_count=0");
  }
});

test("the keyboard only on transports with VIRTIO_F_VERSION_1, as Linux's virtio-input requires", () => {
  for (const t of ["pci-modern", "mmio-v2"]) {
    const { settings, errors } = parseSettings(`?input=${t}`);
    assert.deepEqual(errors, []);
    assert.deepEqual(deviceSpecs(settings, "idb:data").at(-1), { type: "input", transport: t });
  }
  // pci-transitional: virtio-input has no transitional PCI id (virtio 1.2 §4.1.2.1).
  for (const t of ["pci-legacy", "pci-transitional", "mmio-v1"]) {
    const { settings, errors } = parseSettings(`?input=${t}`);
    assert.equal(settings.devices.input, "off");
    assert.match(errors[0]!, new RegExp(`^input=${t} is not one of off, pci-modern, mmio-v2; using off$`));
  }
});

test("the APIC board by default; apic=0 the PIC-only board, written in the link", () => {
  assert.equal(parseSettings("").settings.apic, true);
  assert.equal(parseSettings("?apic=1").settings.apic, true);
  const pic = parseSettings("?apic=0");
  assert.deepEqual(pic.errors, []);
  assert.deepEqual(pic.settings, { ...DEFAULT_SETTINGS, apic: false });
  assert.equal(new URLSearchParams(settingsQuery(pic.settings)).get("apic"), "0");
  assert.deepEqual(parseSettings(settingsQuery(pic.settings)).settings, pic.settings);
});

test("apic=1 and irq=msix: the APIC board, MSI-X on virtio-pci devices only; both round-trip", () => {
  const { settings, errors } = parseSettings("?apic=1&irq=msix&disk=pci-legacy&rng=mmio-v2&console=pci-modern");
  assert.deepEqual(errors, []);
  assert.equal(settings.apic, true);
  assert.deepEqual(deviceSpecs(settings, "idb:data"), [
    { type: "console", transport: "pci-modern", irq: "msix" },
    { type: "blk", transport: "pci-legacy", image: "idb:data", irq: "msix" },
    { type: "rng", transport: "mmio-v2" },
  ]);
  assert.deepEqual(parseSettings(settingsQuery(settings)).settings, settings);
  const bad = parseSettings("?apic=yes&irq=msi");
  assert.equal(bad.errors.length, 2);
  assert.deepEqual(bad.settings, DEFAULT_SETTINGS);
  assert.equal(new URLSearchParams(settingsQuery(DEFAULT_SETTINGS)).has("apic"), false);
});

test("the query keeps other parameters and leaves defaults out", () => {
  const q = new URLSearchParams(settingsQuery({ ...DEFAULT_SETTINGS, devices: { ...DEFAULT_SETTINGS.devices, rng: "mmio-v1" } }, "?foo=bar&disk=mmio-v1"));
  assert.equal(q.get("foo"), "bar");
  assert.equal(q.get("rng"), "mmio-v1");
  assert.equal(q.get("mem"), "128");
  assert.equal(q.has("disk"), false, "disk=pci-modern is the default");
  assert.equal(q.has("console"), false);
  assert.equal(q.has("autoboot"), false);
});

test("bad values: one message each, that setting at its default, the others kept", () => {
  const { settings, errors } = parseSettings("?disk=mmio-v3&console=virtio&rng=pci-modern&mem=12x&autoboot=yes");
  assert.deepEqual(settings, { ...DEFAULT_SETTINGS, devices: { ...DEFAULT_SETTINGS.devices, rng: "pci-modern" } });
  assert.equal(errors.length, 4);
  assert.match(errors[0]!, /^mem=12x is not a whole number of MiB from 16 to 2000; using 128$/);
  assert.match(errors[1]!, /^autoboot=yes must be 1 or 0/);
  assert.match(errors[2]!, /^disk=mmio-v3 is not one of off, pci-legacy, pci-modern, pci-transitional, mmio-v1, mmio-v2; using pci-modern$/);
  assert.match(errors[3]!, /^console=virtio is not one of serial, pci-legacy/);
  for (const mem of ["8", "4096", "-1", "1e2", ""]) assert.equal(parseSettings(`?mem=${mem}`).errors.length, 1, `mem=${mem}`);
});

test("irq=disk,net: MSI-X only on the virtio-pci devices named, by their parameter", () => {
  const { settings, errors } = parseSettings("?apic=1&irq=disk,rng&disk=pci-modern&rng=pci-legacy&console=pci-transitional");
  assert.deepEqual(errors, []);
  assert.deepEqual(settings.irq, ["disk", "rng"]);
  assert.deepEqual(deviceSpecs(settings, "idb:data"), [
    { type: "console", transport: "pci-transitional" },
    { type: "blk", transport: "pci-modern", image: "idb:data", irq: "msix" },
    { type: "rng", transport: "pci-legacy", irq: "msix" },
  ]);
  assert.deepEqual(parseSettings(settingsQuery(settings)).settings, settings);
  const bad = parseSettings("?irq=disk,floppy");
  assert.equal(bad.settings.irq, undefined);
  assert.match(bad.errors[0]!, /^irq=disk,floppy is not intx, msix or a list of console, disk, rng, balloon, input, share, net; using intx$/);
});

test("jit=off or a threshold: VmConfig.jit, round-tripped; the default stays out of the link", () => {
  assert.equal(parseSettings("").settings.jit, undefined);
  assert.equal(parseSettings("?jit=off").settings.jit, 0);
  assert.equal(parseSettings("?jit=300").settings.jit, 300);
  for (const q of ["?jit=off", "?jit=300"]) {
    const s = parseSettings(q).settings;
    assert.deepEqual(parseSettings(settingsQuery(s)).settings, s);
  }
  assert.equal(new URLSearchParams(settingsQuery(parseSettings("?jit=20000").settings)).has("jit"), false);
  const bad = parseSettings("?jit=fast");
  assert.equal(bad.settings.jit, undefined);
  assert.match(bad.errors[0]!, /^jit=fast is not off or a whole number of runs; using 20000$/);
});

test("netbackend=wisp|fetch and relay=: the relay URL round-trips, implies wisp, defaults to the page's own wisp/", () => {
  const { settings, errors } = parseSettings("?net=pci-modern&relay=wss://relay.example/wisp/");
  assert.deepEqual(errors, []);
  assert.equal(settings.netBackend, "wisp");
  assert.equal(settings.relay, "wss://relay.example/wisp/");
  assert.deepEqual(parseSettings(settingsQuery(settings)).settings, settings);
  assert.equal(relayUrl(settings, "https://page.example/vireo/?x=1"), "wss://relay.example/wisp/");
  const own = parseSettings("?net=pci-modern&netbackend=wisp").settings;
  assert.equal(relayUrl(own, "https://page.example/vireo/index.html?net=pci-modern"), "wss://page.example/vireo/wisp/");
  assert.equal(relayUrl(own, "http://localhost:5173/"), "ws://localhost:5173/wisp/");
  const link = { rx: new SharedArrayBuffer(8), tx: new SharedArrayBuffer(8) };
  assert.deepEqual(deviceSpecs(own, "idb:data", { link, mac: "02:00:00:00:00:01" }).at(-1), { type: "net", transport: "pci-modern", backend: "link", link, mac: "02:00:00:00:00:01" });
  // Without its rings (the page's NAT) the NIC is left out, as for the tab link.
  assert.equal(deviceSpecs(own, "idb:data").some((d) => d.type === "net"), false);
  const viaFetch = parseSettings("?net=mmio-v2&netbackend=fetch").settings;
  assert.equal(viaFetch.netBackend, "fetch");
  assert.deepEqual(parseSettings(settingsQuery(viaFetch)).settings, viaFetch);
  assert.equal(deviceSpecs(viaFetch, "idb:data", { link }).at(-1)!.backend, "link");
  const bad = parseSettings("?relay=http://relay.example/");
  assert.deepEqual(bad.errors, ["relay=http://relay.example/ is not a ws:// or wss:// URL; using the page's own wisp/"]);
  assert.equal(bad.settings.netBackend, "tab");
});

test("guest= picks a guest of the guest table; stream= takes a disk manifest's URL; both round-trip", () => {
  const { settings, errors } = parseSettings("?guest=debian&stream=/disks/data.img.manifest.json");
  assert.deepEqual(errors, []);
  assert.equal(settings.guest, "debian");
  assert.equal(settings.stream, "/disks/data.img.manifest.json");
  assert.deepEqual(parseSettings(settingsQuery(settings)).settings, settings);
  assert.equal(new URLSearchParams(settingsQuery(DEFAULT_SETTINGS)).has("guest"), false, "the default guest is left out of the link");
  const bad = parseSettings("?guest=windows&stream=javascript:alert(1)");
  assert.equal(bad.settings.guest, "default");
  assert.equal(bad.settings.stream, undefined);
  assert.deepEqual(bad.errors, [
    "guest=windows is not one of default, debian; using default",
    "stream=javascript:alert(1) is not the URL of a disk manifest (IMAGE.manifest.json); using the bundled disk",
  ]);
});
