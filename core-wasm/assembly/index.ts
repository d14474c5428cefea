// core.wasm entry: the exports the VMM (devices/) calls. Knows no device.
export * from "./layout";
import { STATIC_SIZE, GUEST_RAM_BASE, GUEST_RAM_MAX } from "./layout";

let ramBytes: u32 = 0;

/** Prepare the core for `bytes` of guest RAM; returns 0, or a nonzero error code. */
export function init(bytes: u32): u32 {
  // The static data must fit below the run page (layout.ts); a bigger table is a build error
  // we want to see at once, not memory corruption later.
  if (<u32>__heap_base > STATIC_SIZE) return 1;
  if (bytes > GUEST_RAM_MAX || (bytes & 0xFFF) != 0) return 2;
  if (<u64>memory.size() << 16 < <u64>GUEST_RAM_BASE + bytes) return 3;
  ramBytes = bytes;
  return 0;
}

export function guestRamBytes(): u32 {
  return ramBytes;
}
