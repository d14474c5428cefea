// `--guest NAME`: what each guest of cli/guests.ts boots, its files' absence as one clear line,
// and --disk, which replaces a guest's root disk (the bench boots copies of the Debian image).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError, parseOptions, type CliOptions } from "../../cli/options.ts";
import { GUESTS, guest, missingFiles, rootDisk } from "../../cli/guests.ts";
import { DEFAULT_CMDLINE, POWEROFF_CMD, PROMPT_RE, READY_LINE } from "../../devices/vm/config.ts";

const dir = mkdtempSync(join(tmpdir(), "vireo-guest-"));
const img = join(dir, "root.img");
writeFileSync(img, new Uint8Array(4096));
const usage = (args: string[], re: RegExp) =>
  assert.throws(() => parseOptions(args), (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"), args.join(" "));

test("the default guest is what npm run boot always booted", () => {
  const o = parseOptions([]) as CliOptions;
  assert.equal(o.vm.cmdline, DEFAULT_CMDLINE);
  assert.equal(o.vm.memMiB, 128);
  assert.equal(o.vm.apic, undefined);
  assert.equal(o.vm.acpi, undefined);
  assert.deepEqual(o.vm.devices, []);
  assert.deepEqual(o.vm.script, { expect: undefined, cmds: [], ready: READY_LINE, prompt: PROMPT_RE.source, poweroff: POWEROFF_CMD });
  assert.deepEqual(parseOptions(["--guest", "default"]), o);
});

test("--guest: an unknown name, a missing image and --disk on a guest without a root disk are one line each", () => {
  usage(["--guest", "ubuntu"], /^--guest must be one of default, debian, not 'ubuntu'$/);
  usage(["--disk", img], /^--disk: the default guest has no root disk/);
  const debian = guest("debian")!;
  const missing = missingFiles({ ...debian, kernel: join(dir, "no-vmlinuz"), initrd: join(dir, "no-initrd"), disk: join(dir, "no-root") });
  assert.equal(missing.length, 3);
  if (missingFiles(debian).length > 0) usage(["--guest", "debian"], /^--guest debian: .* not found \(build it: guest-images\/build\.sh --distro debian\)$/);
});

test("--guest debian: the distribution's kernel line, 512 MiB, APIC and ACPI, its disk on virtio-pci with MSI-X, its prompt and a clean poweroff", () => {
  const g = guest("debian")!;
  assert.doesNotMatch(g.cmdline, /tsc=|pty\.legacy_count|noapic|nolapic/, "nothing Vireo-specific on the kernel line");
  assert.deepEqual(rootDisk(g, true), [`blk,transport=pci-modern,image=${g.disk},irq=msix`]);
  assert.deepEqual(rootDisk({ ...g, disk: img }, false), [`blk,transport=pci-modern,image=${img}`]);
  assert.ok(new RegExp(g.prompt).test("root@vireo:~# "));
  assert.equal(g.poweroff, "systemctl poweroff");
  // With the image's files present (or replaced), the VM config follows the table.
  const files = [g.kernel, g.initrd];
  if (files.every((f) => missingFiles({ ...g, kernel: f, initrd: f, disk: undefined }).length === 0)) {
    const o = parseOptions(["--guest", "debian", "--disk", img, "--cmd", "true"]) as CliOptions;
    assert.equal(o.vm.memMiB, 512);
    assert.equal(o.vm.apic, true);
    assert.equal(o.vm.acpi, true);
    assert.equal(o.vm.cmdline, g.cmdline);
    assert.deepEqual(o.vm.devices, [{ type: "blk", transport: "pci-modern", image: img, irq: "msix" }]);
    assert.equal(o.vm.script.poweroff, "systemctl poweroff");
  }
  assert.deepEqual(GUESTS.map((x) => x.name), ["default", "debian"]);
});
