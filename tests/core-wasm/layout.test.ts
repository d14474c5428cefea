// The memory layout is defined once in core-wasm/assembly/layout.ts; the build derives the
// TypeScript copy from the built module. Check the derived copy against the module itself and
// that the regions the design relies on really are disjoint and ordered.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as L from "../../core-wasm/build/layout.ts";
import { instantiateCore } from "../../core-wasm/loader.ts";

const wasm = new WebAssembly.Module(readFileSync(new URL("../../core-wasm/build/core.wasm", import.meta.url)));
const noImports = { trap() {}, intack: () => 0, rdtsc: () => 0n };

test("core.wasm imports one shared memory", () => {
  const mems = WebAssembly.Module.imports(wasm).filter((i: WebAssembly.ModuleImportDescriptor) => i.kind === "memory");
  assert.equal(mems.length, 1);
  const mem = new WebAssembly.Memory({ initial: 256, maximum: 512, shared: true });
  assert.ok(mem.buffer instanceof SharedArrayBuffer);
});

test("TypeScript layout equals the module's exported constants", () => {
  const core = instantiateCore(wasm, 4 << 20, noImports);
  for (const [name, value] of Object.entries(L)) {
    const g = (core.exports as unknown as Record<string, unknown>)[name] as WebAssembly.Global;
    assert.ok(g instanceof WebAssembly.Global, `${name} is exported by core.wasm`);
    assert.equal((g.value as number) >>> 0, value, name);
  }
});

test("regions are ordered, page-aligned and disjoint", () => {
  assert.equal(L.RUN_PAGE_BASE, L.STATIC_BASE + L.STATIC_SIZE);
  assert.equal(L.CORE_SCRATCH_BASE, L.RUN_PAGE_BASE + L.RUN_PAGE_SIZE);
  assert.equal(L.GUEST_RAM_BASE, L.CORE_SCRATCH_BASE + L.CORE_SCRATCH_SIZE);
  for (const base of [L.RUN_PAGE_BASE, L.CORE_SCRATCH_BASE, L.GUEST_RAM_BASE]) assert.equal(base % 4096, 0);
  // Trap-record fields sit inside the run page and do not overlap.
  const fields = [L.TRAP_KIND, L.TRAP_WRITE, L.TRAP_SIZE, L.TRAP_ADDR, L.TRAP_DATA, L.RUN_INSTRET_LO, L.RUN_INSTRET_HI,
    L.RUN_INTR, L.RUN_NMI, L.RUN_APIC_BASE, L.RUN_PAUSE_EXIT, L.RUN_EXIT, L.RUN_EXIT_ARG, L.RUN_REQUEST].sort((a, b) => a - b);
  for (let i = 1; i < fields.length; i++) assert.ok(fields[i]! >= fields[i - 1]! + 4);
  assert.ok(fields[fields.length - 1]! + 4 <= L.RUN_PAGE_SIZE);
});

test("init rejects RAM the memory cannot hold, and guest RAM maps phys 0", () => {
  const core = instantiateCore(wasm, 1 << 20, noImports);
  assert.equal(core.exports.init(64 << 20), 3);
  assert.equal(core.exports.init(4097), 2);
  core.ram[0x1234] = 0xab;
  assert.equal(new Uint8Array(core.memory.buffer)[L.GUEST_RAM_BASE + 0x1234], 0xab);
});

test("the generated export interface names every function and global the module exports", async () => {
  const src = readFileSync(new URL("../../core-wasm/build/exports.ts", import.meta.url), "utf8");
  const declared = new Set([...src.matchAll(/^  (?:readonly )?(\w+)[(:]/gm)].map((m) => m[1]!));
  const exported = WebAssembly.Module.exports(wasm).filter((e) => e.name !== "_start").map((e) => e.name);
  assert.ok(exported.length > 40);
  assert.deepEqual(exported.filter((n) => !declared.has(n)), []);
  assert.deepEqual([...declared].filter((n) => !exported.includes(n)), []);
});
