// Generates tests/core-wasm/gen/fpu/fpu-vectors.json by running every case of cases.mjs on the
// host CPU (32-bit code, gcc -m32 + nasm). Run: node tests/core-wasm/gen/fpu/gen.mjs
// Each case body is assembled once (nasm -f bin) and the same bytes run natively and, in the
// test, through fpuExecute. The prologue FNINIT; 8×FLDZ; FNINIT leaves +0 in every (empty)
// register, so FNSAVE images and tags computed from contents are reproducible.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cases } from "./cases.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "vireo-fpugen-"));

function assemble(lines) {
  const src = join(tmp, "body.asm");
  writeFileSync(src, "bits 32\n" + lines.join("\n") + "\n");
  execFileSync("nasm", ["-f", "bin", "-o", join(tmp, "body.bin"), src]);
  return readFileSync(join(tmp, "body.bin"));
}

const bodies = cases.map((c) => assemble(c.code));
let asm = "bits 32\nsection .note.GNU-stack noalloc noexec nowrite progbits\nsection .text\n";
bodies.forEach((b, i) => {
  asm += `case_${i}:
  push ebp
  push ebx
  pushfd
  mov ebx, [esp+16]
  xor eax, eax
  push dword [esp+20]
  popfd
  fninit
  fldz
  fldz
  fldz
  fldz
  fldz
  fldz
  fldz
  fldz
  fninit
  db ${[...b].join(",")}
  fnsave [ebx+256]
  mov ecx, [esp+24]
  pushfd
  pop dword [ecx]
  mov [ecx+4], eax
  popfd
  pop ebx
  pop ebp
  ret
`;
});
asm += "section .data\nglobal case_table\nglobal case_count\ncase_count: dd " + cases.length + "\ncase_table:\n";
asm += cases.map((_, i) => `  dd case_${i}\n`).join("");
writeFileSync(join(tmp, "cases.asm"), asm);
execFileSync("nasm", ["-f", "elf32", "-o", join(tmp, "cases.o"), join(tmp, "cases.asm")]);
execFileSync("gcc", ["-m32", "-O1", "-no-pie", "-o", join(tmp, "run"), join(here, "driver.c"), join(tmp, "cases.o")]);

const input = Buffer.concat(cases.map((c) => {
  const b = Buffer.alloc(260);
  c.mem.copy(b, 0);
  b.writeUInt32LE(c.eflags >>> 0, 256);
  return b;
}));
const out = execFileSync(join(tmp, "run"), { input, maxBuffer: 1 << 28 });
const rec = 512 + 12;
if (out.length !== rec * cases.length) throw new Error(`driver output ${out.length} bytes`);
const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown";
const vectors = cases.map((c, i) => {
  const o = out.subarray(i * rec, (i + 1) * rec);
  const v = {
    name: c.name,
    code: bodies[i].toString("hex"),
    mem: c.mem.toString("hex").replace(/(00)+$/, ""),
    eflags: c.eflags >>> 0,
    out: o.subarray(0, 512).toString("hex"),
    eflagsOut: o.readUInt32LE(512),
    ax: o.readUInt32LE(516) & 0xffff,
    mf: o.readUInt32LE(520) === 1,
  };
  if (c.skip) v.skip = c.skip;
  return v;
});
writeFileSync(join(here, "fpu-vectors.json"), JSON.stringify({
  generator: "tests/core-wasm/gen/fpu/gen.mjs", host: cpu, cases: vectors,
}, null, 1) + "\n");
rmSync(tmp, { recursive: true, force: true });
console.log(`${vectors.length} cases from ${cpu}`);
