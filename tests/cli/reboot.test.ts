// `reboot -f` resets through the keyboard controller (0x64 <- 0xFE): the board is rebuilt in
// its power-on state, the guest boots again, and the disk — like a real one — keeps what was
// written before the reset, on the same host file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../../", import.meta.url).pathname;

test("a guest reboot keeps the disk, and the second boot reads what the first wrote", () => {
  const image = join(mkdtempSync(join(tmpdir(), "vireo-reboot-")), "disk.img");
  writeFileSync(image, new Uint8Array(1 << 20));
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "cli/boot.ts", "--clock", "deterministic", "--stats", "--timeout", "120", "--reboot",
      "--device", `blk,transport=pci-modern,image=${image}`,
      "--cmd", "printf reboot-proof | dd of=/dev/vda bs=1 seek=5000 conv=fsync",
      "--cmd", "reboot -f",
      "--cmd", "dd if=/dev/vda bs=1 skip=5000 count=12 2>/dev/null; echo"],
    { cwd: root, encoding: "utf8", timeout: 150_000 },
  );
  assert.equal(r.status, 0, r.stderr + r.stdout.slice(-2000));
  assert.match(r.stderr, /guest requested a reset/);
  const out = r.stdout.replace(/\r/g, "");
  assert.equal(out.split("vireo-guest: ready").length - 1, 2, "booted twice");
  assert.match(out, /count=12 2>\/dev\/null; echo\nreboot-proof\n/);
  assert.equal(JSON.parse(out.slice(out.lastIndexOf("\n{"))).resets, 1);
  assert.equal(Buffer.from(readFileSync(image).subarray(5000, 5012)).toString(), "reboot-proof");
});
