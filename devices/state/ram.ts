// Guest RAM in a state file: pages that are all zero are not stored (a bitmap says which are),
// and the rest is LZ4-compressed (host/lz4-encode.ts, one block per chunk of CHUNK_PAGES
// pages), so neither side ever holds more than one chunk's scratch on top of RAM itself.
// Loading trusts nothing in the file: a chunk's size comes from the bitmap, and decoding stops
// at it. Why LZ4 and not deflate: host/lz4-encode.ts (measured).
import { lz4BlockBound, lz4BlockEncode } from "../host/lz4-encode.ts";
import { lz4BlockDecode } from "../host/lz4.ts";
import { StateError, StateReader, StateWriter } from "./wire.ts";

export const PAGE = 4096;
/** Pages per compressed chunk: 1 MiB of RAM. */
export const CHUNK_PAGES = 256;

/** Is page p all zero? The core's scan (machine-state.ts ramPageIsZero) is ~20× a JS loop's speed. */
export type ZeroPageTest = (page: number) => boolean;

/** A zero-page test in JavaScript, for RAM that is not the core's (tests). */
export function zeroPageTest(ram: Uint8Array): ZeroPageTest {
  const words = new Int32Array(ram.buffer, ram.byteOffset, ram.length / 4);
  return (page) => {
    const end = (page + 1) * (PAGE / 4);
    for (let i = page * (PAGE / 4); i < end; i++) if (words[i] !== 0) return false;
    return true;
  };
}

/** Which pages of `ram` hold anything but zeros, as a bitmap. */
export function storedPages(ram: Uint8Array, isZero: ZeroPageTest = zeroPageTest(ram)): Uint8Array {
  const pages = ram.length / PAGE;
  const map = new Uint8Array(Math.ceil(pages / 8));
  for (let p = 0; p < pages; p++) if (!isZero(p)) map[p >> 3]! |= 1 << (p & 7);
  return map;
}

/**
 * The pages marked in `marks` (a byte per page, non-zero: written since the last snapshot — the
 * core's DIRTY_PAGES), as a bitmap: what an incremental state stores, zero pages included (a
 * page the guest cleared must be cleared on restore too).
 */
export function markedPages(marks: Uint8Array, pages: number): Uint8Array {
  const map = new Uint8Array(Math.ceil(pages / 8));
  for (let p = 0; p < pages; p++) if (marks[p] !== 0) map[p >> 3]! |= 1 << (p & 7);
  return map;
}

const isStored = (map: Uint8Array, p: number): boolean => (map[p >> 3]! & (1 << (p & 7))) !== 0;

/** Pages set in a bitmap (markedPages, storedPages). */
export function pagesIn(map: Uint8Array): number {
  let n = 0;
  for (const b of map) for (let x = b; x !== 0; x &= x - 1) n++;
  return n;
}

export function saveRam(ram: Uint8Array, isZero?: ZeroPageTest): Uint8Array {
  return saveRamPages(ram, storedPages(ram, isZero));
}

/** The pages `map` names, in the RAM section's encoding; a load leaves every other page alone. */
export function saveRamPages(ram: Uint8Array, map: Uint8Array): Uint8Array {
  if (ram.length % PAGE !== 0) throw new RangeError("RAM is not whole pages");
  const pages = ram.length / PAGE;
  const w = new StateWriter();
  w.u32(pages);
  w.u32(CHUNK_PAGES);
  w.bytes(map);
  const chunk = new Uint8Array(CHUNK_PAGES * PAGE);
  const packed = new Uint8Array(lz4BlockBound(chunk.length));
  const table = new Int32Array(1 << 16);
  for (let first = 0; first < pages; first += CHUNK_PAGES) {
    let n = 0;
    for (let p = first; p < Math.min(pages, first + CHUNK_PAGES); p++) {
      if (isStored(map, p)) chunk.set(ram.subarray(p * PAGE, (p + 1) * PAGE), PAGE * n++);
    }
    if (n > 0) w.blob(packed.subarray(0, lz4BlockEncode(chunk.subarray(0, n * PAGE), packed, table)));
  }
  return w.finish();
}

/**
 * Fill `ram` from a saveRam section: absent pages become zero — left alone when `zeroed` says
 * RAM is all zero already (a board never run: filling it would make the host commit every page),
 * or when the section is an increment (saveRamPages) over RAM loaded from its base.
 */
export function loadRam(body: Uint8Array, ram: Uint8Array, zeroed = false): void {
  const r = new StateReader(body, "RAM");
  const pages = r.u32("the page count");
  if (pages * PAGE !== ram.length) throw new StateError(`RAM: the state has ${pages * PAGE / 1048576} MiB of RAM, the board ${ram.length / 1048576} MiB`);
  if (r.u32("the chunk size") !== CHUNK_PAGES) throw new StateError("RAM: unknown chunk size");
  const map = r.bytes(Math.ceil(pages / 8), "the page bitmap");
  let chunk: Uint8Array | null = null; // scratch, for a chunk whose pages are not all in one run
  for (let first = 0; first < pages; first += CHUNK_PAGES) {
    const last = Math.min(pages, first + CHUNK_PAGES);
    let n = 0;
    let runs = 0;
    let from = first; // where the first run starts
    for (let p = first; p < last; p++) {
      if (!isStored(map, p)) continue;
      if (p === first || !isStored(map, p - 1)) runs++;
      if (n++ === 0) from = p;
    }
    if (n === 0) { if (!zeroed) ram.fill(0, first * PAGE, last * PAGE); continue; }
    const packed = r.blob(r.left, "a RAM chunk");
    // One run of pages (a full chunk, most often) is decoded where it goes; else into the
    // scratch, then each run copied whole.
    const into = runs === 1 ? ram.subarray(from * PAGE, (from + n) * PAGE) : (chunk ??= new Uint8Array(CHUNK_PAGES * PAGE)).subarray(0, n * PAGE);
    try {
      lz4BlockDecode(packed, into);
    } catch (e) {
      throw new StateError(`RAM: chunk at page ${first} is damaged (${(e as Error).message})`);
    }
    let k = 0; // pages of `into` placed so far
    for (let p = first; p < last;) {
      let end = p + 1;
      const stored = isStored(map, p);
      while (end < last && isStored(map, end) === stored) end++;
      if (!stored) { if (!zeroed) ram.fill(0, p * PAGE, end * PAGE); }
      else if (runs > 1) ram.set(into.subarray(k * PAGE, (k + end - p) * PAGE), p * PAGE);
      if (stored) k += end - p;
      p = end;
    }
  }
  r.end();
}
