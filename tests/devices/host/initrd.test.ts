// inflateInitrd: the host checks the initrd as the kernel's initramfs unpacker reads it and
// hands the kernel plain cpio; what the kernel could not unpack is refused with one line
// (a BootError) before the guest runs; inflating stops at the guest's RAM size.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync, gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { inflateInitrd as inflate } from "../../../devices/host/initrd.ts";
import { BootError } from "../../../devices/board/linux-boot.ts";

const RAM = 128 << 20;
const inflateInitrd = (bytes: Uint8Array, ram = RAM) => inflate(bytes, ram);
const gz = new Uint8Array(readFileSync(new URL("../../../guest-images/initramfs.cpio.gz", import.meta.url)));
/** The default initramfs as GNU cpio wrote it (newc, ~400 entries, TRAILER!!!). */
const cpio = new Uint8Array(gunzipSync(gz));
const gzip = (b: Uint8Array) => new Uint8Array(gzipSync(b));
const enc = (s: string) => new TextEncoder().encode(s);

test("a gzip cpio arrives inflated, byte for byte", async () => {
  const out = await inflateInitrd(gz);
  assert.notEqual(out, gz);
  assert.deepEqual(Buffer.from(out), Buffer.from(cpio));
});

test("concatenated archives (plain, gzip members, zero padding, plain again) arrive inflated, each archive at a 4-byte offset", async () => {
  // The kernel looks for a cpio header at 4-byte offsets of the file: pad to one after the gzip.
  const compressed = Buffer.concat([cpio, new Uint8Array(512), gzip(cpio), gzip(cpio)]);
  const pad = 4 + ((4 - (compressed.length % 4)) % 4);
  const out = Buffer.from(await inflateInitrd(new Uint8Array(Buffer.concat([compressed, new Uint8Array(pad), cpio]))));
  // The kernel then unpacks a plain file, and finds headers only at its 4-byte offsets: the
  // last archive must start on one there too (the gzip members inflated to other lengths), so
  // the host may add zeros before it (which the kernel skips).
  const head = Buffer.concat([cpio, new Uint8Array(512), cpio, cpio]);
  assert.deepEqual(out.subarray(0, head.length), head);
  assert.deepEqual(out.subarray(out.length - cpio.length), Buffer.from(cpio));
  assert.ok(out.subarray(head.length, out.length - cpio.length).every((b) => b === 0), "only zeros between");
  assert.equal((out.length - cpio.length) % 4, 0, "the last archive at a 4-byte offset");
  // Unaligned, the same archive is junk to the kernel, and to the host.
  await refused(new Uint8Array(Buffer.concat([compressed, new Uint8Array(pad + 1), cpio])), /junk at byte/, "a cpio header off a 4-byte boundary");
});

test("a plain cpio and formats the kernel unpacks itself go to it untouched", async () => {
  const xz = new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]);
  const ext2 = new Uint8Array(4096);
  ext2.set([0x53, 0xef], 1024 + 56);
  for (const [what, bytes] of [["plain cpio", cpio], ["xz", xz], ["ext2 image (old-style initrd)", ext2]] as const) {
    assert.equal(await inflateInitrd(bytes), bytes, what);
  }
});

async function refused(bytes: Uint8Array, reason: RegExp, what: string, ram = RAM): Promise<void> {
  assert.throws(() => inflateInitrd(bytes, ram), (e: unknown) => {
    assert.ok(e instanceof BootError, `${what}: ${String(e)}`);
    assert.match(e.message, reason, what);
    assert.ok(!e.message.includes("\n"), `${what}: one line`);
    return true;
  });
}

test("truncated, corrupt and foreign initrds are refused with the reason", async () => {
  const badCrc = gz.slice();
  badCrc[badCrc.length - 8]! ^= 0x55;
  const badSize = gz.slice();
  badSize[badSize.length - 2]! ^= 0x01;
  const random = new Uint8Array(1 << 20);
  for (let i = 0, x = 12345; i < random.length; i++) random[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  await refused(gz.subarray(0, 1000), /initrd .*the gzip stream ends early/, "first 1000 bytes of the default initramfs");
  await refused(badCrc, /CRC-32 mismatch/, "bad CRC");
  await refused(badSize, /ISIZE mismatch/, "bad ISIZE");
  await refused(random, /not an initramfs: it starts with/, "1 MiB of random bytes");
  await refused(gzip(new Uint8Array(200).fill(7)), /not an initramfs/, "gzip of something that is not a cpio archive");
  await refused(new Uint8Array(4096), /only zero bytes/, "zeros");
  await refused(new Uint8Array(Buffer.concat([gz, enc("junk")])), /junk at byte \d+ \(6a 75 6e 6b\)/, "junk after the gzip stream");
});

test("cpio structure: magic, hex fields, names, data length, trailer", async () => {
  // The second entry starts where the first (".") ends.
  const first = 110 + ((cpio.subarray(110).indexOf(0) + 1 + 110 + 3) & ~3) - 110;
  const mutate = (at: number, text: string) => { const c = cpio.slice(); c.set(enc(text), at); return c; };
  await refused(cpio.subarray(0, cpio.length >> 1), /cpio archive is truncated|ends at byte/, "cut in the middle");
  await refused(mutate(first, "070707"), /entry 1 at byte \d+ has magic '070707'/, "old binary magic on entry 1");
  await refused(mutate(first + 6 + 8 * 6, "xyz00000"), /field filesize is not 8 hex digits/, "non-hex filesize");
  await refused(mutate(first + 6 + 8 * 6, "7fffffff"), /needs 2147483647 bytes of data/, "file size past the end");
  await refused(mutate(first + 6 + 8 * 11, "00002000"), /name size 8192/, "name longer than PATH_MAX");
  const trailerAt = Buffer.from(cpio).lastIndexOf("070701");
  await refused(cpio.subarray(0, trailerAt), /no TRAILER!!! entry/, "no trailer");
  await refused(new Uint8Array(Buffer.concat([cpio, enc("junk")])), /junk at byte \d+ \(6a 75 6e 6b\)/, "junk after the archive");
  // Found by the fuzzer (seed 320323630): a name with a newline stays one line in the message.
  const named = mutate(first + 6 + 8 * 6, "7fffffff");
  named[first + 110] = 0x0a;
  await refused(named, /'\?/, "a control character in a name");
});

test("inflating stops at the guest's RAM: 128 MiB of zeros in a 127 KiB gzip", async () => {
  const bomb = gzip(new Uint8Array(128 << 20));
  assert.ok(bomb.length < 200 << 10);
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  await refused(bomb, /inflates to more than 16 MiB, the guest's RAM/, "gzip bomb", 16 << 20);
  const grew = process.memoryUsage().arrayBuffers - before;
  assert.ok(grew < 48 << 20, `inflating held ${grew >> 20} MiB`);
  assert.ok(performance.now() - t0 < 5000);
});
