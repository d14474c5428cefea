// What the translator (core-wasm/jit/translate.ts) generates, read back as WebAssembly text:
// the properties of the code that make it fast, which the differential tests (jit.fuzz,
// jit-vectors) cannot see because slow code computes the same answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import binaryen from "binaryen";
import * as L from "../../../core-wasm/build/layout.ts";
import { translateRegion } from "../../../core-wasm/jit/translate.ts";
import { blocksModule, JIT_FUNCS } from "../../../core-wasm/jit/core-imports.ts";

/** The core helpers (JIT_FUNCS names) the region of `code` (at the start of a page) calls, one
 *  entry per call site. */
function helpersCalled(code: number[]): string[] {
  const page = new Uint8Array(4096);
  page.set(code);
  const tr = translateRegion(page, 0, 0x40_1000, L, { read: 0x5, write: 0x7 });
  assert.ok(tr, "translated");
  const mod = binaryen.readBinary(blocksModule([tr], 1024));
  const text = mod.emitText();
  mod.dispose();
  const out: string[] = [];
  // Each call_indirect's last operand is the helper's slot in the core's table of helpers.
  for (let at = text.indexOf("(call_indirect"); at >= 0; at = text.indexOf("(call_indirect", at + 1)) {
    let depth = 0, end = at;
    for (; end < text.length; end++) {
      if (text[end] === "(") depth++;
      else if (text[end] === ")" && --depth === 0) break;
    }
    const slot = /\(i32\.const (\d+)\)\s*$/.exec(text.slice(at, end));
    assert.ok(slot, "call_indirect ends with its table slot");
    out.push(JIT_FUNCS[Number(slot[1])]![0]);
  }
  return out;
}

test("a memory access that misses the TLB fast path leaves the region: no call into the core", () => {
  // mov eax,[ebx]; add eax,[ecx]; mov [edx],eax; inc dword [esi]; push eax; pop edi; ret
  const calls = helpersCalled([0x8b, 0x03, 0x03, 0x01, 0x89, 0x02, 0xff, 0x06, 0x50, 0x5f, 0xc3]);
  assert.deepEqual(calls.filter((n) => /^jit(Read|Write|Rmw)/.test(n)), []);
});

test("owed flags superseded by a later instruction's are not replayed: four IMULs owe one", () => {
  // The multiply step of the kernel's mpihelp (RSA of module signatures):
  // shr edx,16; imul eax,ecx; imul ebx,edx; imul ecx,edi; imul edx,edi; an ADD that sets every
  // flag; ret. Nothing reads the shift's flags or the IMULs' CF/OF.
  const code = [0xc1, 0xea, 0x10, 0x0f, 0xaf, 0xc1, 0x0f, 0xaf, 0xda, 0x0f, 0xaf, 0xcf, 0x0f, 0xaf, 0xd7, 0x01, 0xd9, 0xc3];
  assert.deepEqual(helpersCalled(code), []);
  // Without the ADD each way out of the block (RET's, and its stack read's miss) owes the
  // shift's flags and the last IMUL's CF/OF: one call of each.
  const owed = helpersCalled([...code.slice(0, 15), 0xc3]);
  const imuls = owed.filter((n) => n === "jitImulFlags").length;
  assert.ok(imuls >= 1);
  assert.deepEqual(owed.sort(), [...Array(imuls).fill("jitImulFlags"), ...Array(imuls).fill("jitShift")]);
});
