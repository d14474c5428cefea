// `--device 9p,…`: accepted forms and one-line errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError, parseDevice, parseOptions } from "../../cli/options.ts";

const dir = mkdtempSync(join(tmpdir(), "vireo-p9opt-"));
const file = join(dir, "f");
writeFileSync(file, "x");

test("9p parses on every transport, with tag and readonly", () => {
  for (const t of ["pci-legacy", "pci-modern", "pci-transitional", "mmio-v1", "mmio-v2"]) {
    assert.deepEqual(parseDevice(`9p,transport=${t},path=${dir}`), { type: "9p", transport: t, path: dir });
  }
  assert.deepEqual(parseDevice(`9p,transport=mmio-v2,path=${dir},tag=data_1,readonly`),
    { type: "9p", transport: "mmio-v2", path: dir, tag: "data_1", readonly: true });
  assert.deepEqual(parseDevice(`9p,transport=pci-modern,path=${dir},security_model=passthrough`),
    { type: "9p", transport: "pci-modern", path: dir, securityModel: "passthrough" });
});

test("bad 9p forms are one UsageError line", () => {
  const cases: [string[], RegExp][] = [
    [["--device", "9p,transport=pci-modern"], /9p needs path=DIR/],
    [["--device", `9p,transport=pci-modern,path=${join(dir, "missing")}`], /cannot open folder .*: ENOENT/],
    [["--device", `9p,transport=pci-modern,path=${file}`], /is not a directory/],
    [["--device", `9p,transport=pci-modern,path=${dir},tag=a b`], /tag must be/],
    [["--device", `9p,transport=pci-modern,path=${dir},tag=`], /tag must be/],
    [["--device", `9p,transport=pci-modern,path=${dir},image=x`], /unknown option 'image' for 9p/],
    [["--device", `9p,transport=pci-modern,path=${dir},security_model=mapped`], /9p needs security_model=none\|passthrough/],
    [["--device", `9p,transport=pci-modern,path=${dir}`, "--device", `9p,transport=mmio-v2,path=${dir}`], /same tag/],
  ];
  for (const [args, re] of cases) {
    assert.throws(() => parseOptions(args), (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"), args.join(" "));
  }
});
