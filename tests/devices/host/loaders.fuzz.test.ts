// Fuzz the boot-image loaders (host/initrd.ts, host/kernel-payload.ts, and host/xz.ts beneath
// it) with random and mutated gzip, cpio, xz and bzImage bytes. Properties: they never throw
// anything but a BootError (XzError for the xz decoder alone), never return more than the RAM
// bound, and a kernel they accept lies inside its init_size region.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { fuzz } from "../../fuzz.ts";
import { inflateInitrd } from "../../../devices/host/initrd.ts";
import { decompressKernel } from "../../../devices/host/kernel-payload.ts";
import { BootError, parseBzImage } from "../../../devices/board/linux-boot.ts";
import { LZ4_LEGACY_MAGIC } from "../../../devices/host/lz4.ts";
import { xzDecode, XzError } from "../../../devices/host/xz.ts";

/** Small enough that a case costs little; big enough that inflating can hit it. */
const MAX = 64 << 10;
const enc = (s: string) => new TextEncoder().encode(s);

/** A newc entry as GNU cpio writes it: header, name, data, each padded to 4 bytes. */
function cpioEntry(name: string, data: Uint8Array): Uint8Array {
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  const head = enc("070701" + [1, 0o100644, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0].map(hex).join("") + name + "\0");
  const pad = (n: number) => (4 - (n % 4)) % 4;
  const out = new Uint8Array(head.length + pad(head.length) + data.length + pad(data.length));
  out.set(head);
  out.set(data, head.length + pad(head.length));
  return out;
}
const cpioArchive = (files: [string, Uint8Array][]) =>
  new Uint8Array(Buffer.concat([...files.map(([n, d]) => cpioEntry(n, d)), cpioEntry("TRAILER!!!", new Uint8Array(0))]));

/** Edits a fuzzer makes to a valid image: flip, set, cut, insert. */
type Edit = { kind: "flip" | "set" | "cut" | "insert"; at: number; value: number };
const edits = fc.array(fc.record({
  kind: fc.constantFrom<Edit["kind"]>("flip", "set", "cut", "insert"),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
}), { maxLength: 4 });
function mutate(b: Uint8Array, list: Edit[]): Uint8Array {
  let out = b.slice();
  for (const e of list) {
    if (out.length === 0) break;
    const at = e.at % out.length;
    if (e.kind === "flip") out[at]! ^= 1 << (e.value & 7);
    else if (e.kind === "set") out[at] = e.value;
    else if (e.kind === "cut") out = out.slice(0, at);
    else out = new Uint8Array([...out.subarray(0, at), e.value, ...out.subarray(at)]);
  }
  return out;
}

// Valid images made once, then mutated per case: a case costs a copy, a few edits and the check.
const seedFiles: [string, Uint8Array][][] = [
  [],
  [["init", enc("#!/bin/sh\necho hi\n")]],
  [["a", new Uint8Array(1)], ["bb", new Uint8Array(300).fill(7)], ["ccc", enc("x".repeat(1000))]],
];
const seedInitrds = [
  ...seedFiles.map(cpioArchive),
  ...seedFiles.map((f) => new Uint8Array(gzipSync(cpioArchive(f), { level: 1 }))),
  new Uint8Array(Buffer.concat([cpioArchive(seedFiles[1]!), new Uint8Array(8), gzipSync(cpioArchive(seedFiles[2]!))])),
  new Uint8Array(gzipSync(new Uint8Array(4 * MAX), { level: 1 })), // inflates past the bound
];
const initrds = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc.tuple(fc.integer({ min: 0, max: seedInitrds.length - 1 }), edits).map(([i, e]) => mutate(seedInitrds[i]!, e)),
);

/** An LZ4 legacy frame of one literals-only block (a valid LZ4 block), with the size trailer. */
function lz4Legacy(data: Uint8Array): Uint8Array {
  const lit = data.length;
  const ext: number[] = [];
  if (lit >= 15) {
    let rest = lit - 15;
    while (rest >= 255) { ext.push(255); rest -= 255; }
    ext.push(rest);
  }
  const block = new Uint8Array([(Math.min(lit, 15) << 4), ...ext, ...data]);
  const out = new Uint8Array(4 + 4 + block.length + 4);
  const v = new DataView(out.buffer);
  v.setUint32(0, LZ4_LEGACY_MAGIC, true);
  v.setUint32(4, block.length, true);
  out.set(block, 8);
  v.setUint32(8 + block.length, data.length, true);
  return out;
}

/** `xz` (xz-utils) with these options over `data`. */
const xz = (data: Uint8Array, ...opts: string[]) => new Uint8Array(execFileSync("xz", ["-c", "--format=xz", ...opts], { input: data }));

/** As a kernel build packs vmlinux with xz: x86 BCJ + LZMA2, CRC-32, then the size trailer. */
function xzKernel(data: Uint8Array): Uint8Array {
  const stream = xz(data, "--check=crc32", "--x86", "--lzma2=dict=64KiB");
  const out = new Uint8Array(stream.length + 4);
  out.set(stream);
  new DataView(out.buffer).setUint32(stream.length, data.length, true);
  return out;
}

/** A 32-bit x86 ELF with one PT_LOAD of `code` at physical `paddr`, entered at its start. */
function elf(paddr: number, code: Uint8Array, bss: number): Uint8Array {
  const out = new Uint8Array(52 + 32 + code.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 3, true); // EM_386
  v.setUint32(24, paddr, true);
  v.setUint32(28, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, 1, true);
  v.setUint32(52, 1, true); // PT_LOAD
  v.setUint32(56, 84, true);
  v.setUint32(60, 0xc000_0000 + paddr, true);
  v.setUint32(64, paddr, true);
  v.setUint32(68, code.length, true);
  v.setUint32(72, code.length + bss, true);
  out.set(code, 84);
  return out;
}

const RUNTIME = 0x100_0000;
const INIT_SIZE = 0x10_0000;
/** A bzImage (boot protocol 2.15, one setup sector) whose protected-mode part is `payload`. */
function bzImage(payload: Uint8Array): Uint8Array {
  const setup = 2 * 512;
  const out = new Uint8Array(Math.max(setup + payload.length, 0x1000));
  const v = new DataView(out.buffer);
  out[0x1f1] = 1;
  v.setUint16(0x1fe, 0xaa55, true);
  v.setUint32(0x202, 0x53726448, true); // "HdrS"
  v.setUint16(0x206, 0x020f, true);
  out[0x211] = 1; // LOADED_HIGH
  v.setUint32(0x248, 0, true); // payload_offset
  v.setUint32(0x24c, payload.length, true);
  v.setBigUint64(0x258, BigInt(RUNTIME), true);
  v.setUint32(0x260, INIT_SIZE, true);
  out.set(payload, setup);
  return out;
}

const seedKernels = [new Uint8Array(0), new Uint8Array(500).fill(0x90)].flatMap((code) => [0, 0x1000, 2 * INIT_SIZE].flatMap((bss) => {
  const image = elf(RUNTIME, code, bss);
  return [bzImage(new Uint8Array(gzipSync(image, { level: 1 }))), bzImage(lz4Legacy(image)), bzImage(xzKernel(image))];
}));
const kernels = fc.tuple(fc.integer({ min: 0, max: seedKernels.length - 1 }), edits).map(([i, e]) => mutate(seedKernels[i]!, e));

// xz streams with more to them than a kernel's: several blocks (sizes in their headers),
// uncompressed LZMA2 chunks between LZMA ones, CRC-64, a filter start offset, some that unpack
// past the bound.
const calls = Uint8Array.from({ length: 3000 }, (_, i) => [0xe8, 0x00, 0xff, 0xe9, i & 0xff, (i * 37) & 0xff][(i * 7) % 6]!);
const noise = Uint8Array.from({ length: 2000 }, (_, i) => (i * 2654435761) >>> 24);
const seedStreams = [
  xz(new Uint8Array(0)),
  xz(calls, "--check=crc32", "--x86", "--lzma2=dict=4KiB"),
  xz(new Uint8Array([...calls, ...noise, ...calls]), "-T2", "--block-size=2500", "--check=crc64"),
  xz(calls, "--x86=start=100", "--lzma2=lc=0,lp=2,pb=1"),
  xz(new Uint8Array(4 * MAX).fill(0x90), "--check=none"),
];
const streams = fc.tuple(fc.integer({ min: 0, max: seedStreams.length - 1 }), edits).map(([i, e]) => mutate(seedStreams[i]!, e));

function onlyBootErrors<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof BootError && !e.message.includes("\n")) return undefined;
    throw e;
  }
}

test("fuzz: inflateInitrd throws only BootError and stays within the RAM bound", () => {
  const runs = fuzz("initrd loader", fc.property(initrds, (bytes) => {
    const out = onlyBootErrors(() => inflateInitrd(bytes, MAX));
    if (out) assert.ok(out === bytes || out.length <= MAX, `returned ${out.length} bytes`);
  }), 300);
  assert.ok(runs > 0);
});

test("fuzz: decompressKernel throws only BootError; what it accepts lies inside init_size", () => {
  const runs = fuzz("kernel payload loader", fc.property(kernels, (image) => {
    const k = onlyBootErrors(() => decompressKernel(image, 4 * INIT_SIZE));
    if (!k) return;
    // Inside the region the (possibly mutated) header asks for, entered at its start.
    const { runtimeStart, initSize } = parseBzImage(image);
    for (const s of k.segments) {
      if (!(s.paddr >= runtimeStart && s.paddr + s.bytes.length + s.zeroFill <= runtimeStart + initSize)) throw new Error(`segment at 0x${s.paddr.toString(16)} outside the init_size region`);
    }
    if (k.entry !== runtimeStart) throw new Error(`entry 0x${k.entry.toString(16)} is not pref_address`);
  }), 300);
  assert.ok(runs > 0);
});

test("fuzz: xzDecode throws only XzError and stays within its bound", () => {
  const runs = fuzz("xz decoder", fc.property(streams, (bytes) => {
    try {
      const { data, end } = xzDecode(bytes, MAX);
      assert.ok(data.length <= MAX && end <= bytes.length, `returned ${data.length} bytes, end ${end}`);
    } catch (e) {
      if (!(e instanceof XzError) || e.message.includes("\n")) throw e;
    }
  }), 300);
  assert.ok(runs > 0);
});
