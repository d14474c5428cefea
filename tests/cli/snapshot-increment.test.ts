// Incremental states through the real CLI (--save-increment, --restore BASE --restore INC), with
// the deterministic clock and a virtio-blk disk whose reads reach guest RAM by DMA:
// - (restore B + C, --save-increment I) then (restore B, I + D) is the same run as
//   (boot + A + C, --save-state F) then (restore F + D): transcript and instruction count;
// - B with I over it is F: a whole save straight after restoring B, I is F byte for byte;
// - I holds every page whose bytes differ between B and F (the CPU's writes and the disk's
//   DMA), and far fewer pages than RAM has;
// - an increment is refused on its own, over another base, and with its base twice.
// Expected values come from the whole states and the uninterrupted runs, not from the
// increment code. About 15 s.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boot } from "./virtio-boot.ts";
import { readSnapshot } from "../../devices/state/snapshot.ts";
import { loadRam, PAGE } from "../../devices/state/ram.ts";
import { RAM_SECTION, RAM_WRITTEN_SECTION } from "../../devices/state/machine.ts";
import { StateReader } from "../../devices/state/wire.ts";

const A = ["echo a > /tmp/a"];
// md5sum reads the whole disk: its page cache is filled by virtio-blk's DMA.
const C = ["echo vireo-$((6*7)) > /tmp/x; md5sum /dev/vda"];
const D = ["md5sum /dev/vda; cat /tmp/a /tmp/x"];

function run(args: string[]): { transcript: string; stats: { reason: string; instructions: number } } {
  const r = boot([...(args.includes("--restore") ? [] : ["--clock", "deterministic"]), "--stats", ...args], 120);
  assert.equal(r.code, 0, `exit ${r.code}\n${r.err}\n${r.out.slice(-3000)}`);
  const cut = r.out.lastIndexOf("\n{");
  return { transcript: r.out.slice(0, cut), stats: JSON.parse(r.out.slice(cut + 1)) };
}

/** A whole state's RAM. */
function ramOf(file: Uint8Array): Uint8Array {
  const s = readSnapshot(file);
  const ram = new Uint8Array(s.config.memMiB << 20);
  loadRam(s.sections.get(RAM_SECTION)!.body, ram, true);
  return ram;
}

/** The pages an increment holds (its bitmap, ram.ts). */
function pagesOf(increment: Uint8Array): Set<number> {
  const r = new StateReader(readSnapshot(increment).sections.get(RAM_WRITTEN_SECTION)!.body, "test");
  const pages = r.u32("pages");
  r.u32("chunk");
  const map = r.bytes(Math.ceil(pages / 8), "map");
  return new Set([...Array(pages).keys()].filter((p) => (map[p >> 3]! >> (p & 7)) & 1));
}

test("incremental states: B + I is F, restores run on as F does, I holds every changed page (CPU and DMA)", () => {
  const dir = mkdtempSync(join(tmpdir(), "vireo-inc-"));
  try {
    const disk = join(dir, "disk.img");
    writeFileSync(disk, randomBytes(2 << 20));
    const dev = ["--device", `blk,transport=pci-modern,image=${disk},readonly`];
    const cmds = (cs: string[]) => cs.flatMap((c) => ["--cmd", c]);
    const [B, I, F, G] = ["b", "i", "f", "g"].map((n) => join(dir, `${n}.vmstate`));

    run([...dev, ...cmds(A), "--save-state", B!]);
    const inc = run(["--restore", B!, ...dev, ...cmds(C), "--save-increment", I!]);
    assert.equal(inc.stats.reason, "saved");
    run([...dev, ...cmds([...A, ...C]), "--save-state", F!]);
    const fromInc = run(["--restore", B!, "--restore", I!, ...dev, ...cmds(D)]);
    const fromWhole = run(["--restore", F!, ...dev, ...cmds(D)]);
    assert.match(fromWhole.transcript, /vireo-42/);
    assert.equal(fromInc.transcript, fromWhole.transcript, "transcripts");
    assert.equal(fromInc.stats.instructions, fromWhole.stats.instructions, "instructions retired");

    run(["--restore", B!, "--restore", I!, ...dev, "--save-state", G!]);
    assert.ok(readFileSync(G!).equals(readFileSync(F!)), "B with I over it, saved whole, is F");

    const [b, i, f] = [B!, I!, F!].map((p) => new Uint8Array(readFileSync(p)));
    const ramB = ramOf(b!), ramF = ramOf(f!);
    const held = pagesOf(i!);
    const changed: number[] = [];
    for (let p = 0; p < ramB.length / PAGE; p++) {
      const at = p * PAGE;
      if (!Buffer.from(ramB.buffer, at, PAGE).equals(Buffer.from(ramF.buffer, at, PAGE))) changed.push(p);
    }
    assert.ok(changed.length > 512, `the disk read (2 MiB) changed ${changed.length} pages`);
    assert.deepEqual(changed.filter((p) => !held.has(p)), [], "every changed page is in the increment");
    assert.ok(held.size < changed.length * 2, `${held.size} pages held for ${changed.length} changed`);

    // Refused: alone, over another base, its base twice. Exit 6, one line, nothing runs.
    for (const [files, re] of [
      [[I!], /is an increment/],
      [[F!, I!], /was not saved after the state before it/],
      [[B!, I!, I!], /was not saved after the state before it/],
    ] as [string[], RegExp][]) {
      const r = boot([...files.flatMap((f) => ["--restore", f]), ...dev, "--cmd", "echo RAN"], 60);
      assert.equal(r.code, 6, `${files.length}: exit ${r.code}\n${r.err}`);
      assert.match(r.err, re);
      assert.equal(r.err.trim().split("\n").length, 1, r.err);
      assert.ok(!r.out.includes("RAN"));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
