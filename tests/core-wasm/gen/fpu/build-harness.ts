// Builds the FPU test harness: core-wasm/assembly/fpu/*.ts with the stand-in cpu/access.ts
// from harness/ (AssemblyScript kept as .as so tsc leaves it alone), compiled by asc into a
// standalone module; core-wasm/assembly/cpu is never touched.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Compile the harness into outDir (a fresh temp dir by default); returns the .wasm path. */
export function buildHarness(outDir: string = mkdtempSync(join(tmpdir(), "vireo-fpu-"))): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = join(here, "../../../..");
  const src = join(outDir, "src");
  mkdirSync(join(src, "fpu"), { recursive: true });
  mkdirSync(join(src, "cpu"), { recursive: true });
  for (const f of readdirSync(join(root, "core-wasm/assembly/fpu"))) {
    if (f.endsWith(".ts")) cpSync(join(root, "core-wasm/assembly/fpu", f), join(src, "fpu", f));
  }
  cpSync(join(here, "harness/access.as"), join(src, "cpu/access.ts"));
  cpSync(join(here, "harness/entry.as"), join(src, "entry.ts"));
  const out = join(outDir, "fpu-harness.wasm");
  execFileSync(process.execPath, [
    join(root, "node_modules/assemblyscript/bin/asc.js"), join(src, "entry.ts"),
    "-o", out, "--runtime", "stub", "-O3", "--noAssert", "--initialMemory", "4",
  ], { cwd: root, stdio: "inherit" });
  return out;
}
