// The x86 BCJ filter's decoder (xz filter 0x04, which the kernel's xz_wrap.sh puts before LZMA2
// for x86). The encoder rewrote the 32-bit relative operand of what looked like a near CALL or
// JMP (opcode E8/E9 with an operand whose top byte is 00 or FF, a short displacement) into an
// absolute target, so calls to one function become the same bytes and compress better; decoding
// subtracts the position back. The rules for what "looked like" a call must match the encoder
// bit for bit — they are xz's definition of the filter, the same in liblzma and Linux's lib/xz:
// - an E8/E9 among the last four bytes of the data is left alone (no room for an operand);
// - `recent` tracks which of the three bytes before an E8/E9 were themselves E8/E9 bytes left
//   alone (bit k: k + 1 bytes back). With two or more of them, or one whose operand's top byte
//   (which lies inside this candidate's operand) is 00/FF, this one is left alone too;
// - a converted operand is skipped whole, and its top byte is rebuilt from bit 24 of the result.
// Positions count from the start of the block (plus the filter's start offset).

const isTopByte = (b: number) => b === 0x00 || b === 0xff;
/** For a `recent` mask: may this candidate convert at all, and which earlier byte to look at. */
const ALLOWED = [true, true, true, false, true, false, false, false];
const BYTES_BACK = [0, 1, 2, 2, 3, 3, 3, 3];

/** Undo the filter in place over buf[start, end), whose first byte was at stream position `origin`. */
export function bcjX86Decode(buf: Uint8Array, start: number, end: number, origin = 0): void {
  let recent = 0;
  let last = -4; // position of the previous E8/E9 looked at
  for (let i = start; i <= end - 5; i++) {
    if ((buf[i]! & 0xfe) !== 0xe8) continue;
    const gap = i - last;
    recent = gap > 3 ? 0 : (recent << (gap - 1)) & 7;
    last = i;
    if (recent !== 0 && (!ALLOWED[recent] || isTopByte(buf[i + 4 - BYTES_BACK[recent]!]!))) {
      recent = (recent << 1) | 1;
      continue;
    }
    if (!isTopByte(buf[i + 4]!)) {
      recent = (recent << 1) | 1;
      continue;
    }
    const src = (buf[i + 1]! | (buf[i + 2]! << 8) | (buf[i + 3]! << 16) | (buf[i + 4]! << 24)) >>> 0;
    const pos = (origin + (i - start) + 5) >>> 0;
    let dest = (src - pos) >>> 0;
    if (recent !== 0) {
      // The encoder did not want the earlier candidate's operand byte (inside this operand) to
      // come out as 00/FF: if it does, its encoding inverted the bits below it. One more step
      // always ends it, as that byte becomes the complement of the stored one (not 00/FF).
      const shift = 24 - 8 * BYTES_BACK[recent]!;
      if (isTopByte((dest >>> shift) & 0xff)) dest = (((dest ^ ((2 ** (shift + 8)) - 1)) >>> 0) - pos) >>> 0;
    }
    // Bits 25-31 copy bit 24: the top byte is 00 or FF again.
    dest = dest & 0x1000000 ? (dest | 0xfe000000) : dest & 0x1ffffff;
    buf[i + 1] = dest;
    buf[i + 2] = dest >>> 8;
    buf[i + 3] = dest >>> 16;
    buf[i + 4] = dest >>> 24;
    i += 4;
  }
}
