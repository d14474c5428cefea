// `share=T|off`: the page's shared folder (virtio-9p, tag "share") in the URL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_SETTINGS, SHARE_PATH, deviceSpecs, parseSettings, settingsQuery } from "../../web/settings.ts";

test("share is off unless the URL says a transport", () => {
  assert.equal(parseSettings("").settings.devices.share, undefined);
  assert.deepEqual(deviceSpecs(DEFAULT_SETTINGS, "idb:data").map((d) => d.type), ["blk"]);
  assert.equal(new URLSearchParams(settingsQuery(DEFAULT_SETTINGS)).has("share"), false);
});

test("share=T plugs virtio-9p on T and round-trips through the query", () => {
  for (const t of ["pci-legacy", "pci-modern", "pci-transitional", "mmio-v1", "mmio-v2"] as const) {
    const { settings, errors } = parseSettings(`?share=${t}`);
    assert.deepEqual(errors, []);
    assert.equal(settings.devices.share, t);
    assert.deepEqual(deviceSpecs(settings, "idb:data").at(-1), { type: "9p", transport: t, path: SHARE_PATH, tag: "share" });
    assert.equal(new URLSearchParams(settingsQuery(settings)).get("share"), t);
  }
  assert.equal(parseSettings("?share=off").settings.devices.share, "off");
});

test("a bad share value is reported and falls back to off", () => {
  const { settings, errors } = parseSettings("?share=usb");
  assert.equal(settings.devices.share, "off");
  assert.match(errors[0]!, /^share=usb is not one of off, pci-legacy/);
});
