// The opcode facts as they were written by hand before core-wasm/x86/opcodes.ts, copied verbatim
// from the sources they lived in (run.ts, oplen.ts, jit/x86-decode.ts, jit/translate.ts), so
// the test can show where the one table agrees with them and where it deliberately differs.

/** run.ts PREFIX_TABLE. */
export const PREFIX_TABLE = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];
/** run.ts BRANCH_TABLE. */
export const BRANCH_TABLE = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
];
/** oplen.ts ONE_BYTE. */
export const ONE_BYTE = [
  1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0,
  1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 1, 1, 0, 0, 0, 0, 4, 5, 2, 3, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  3, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0,
  12, 12, 12, 12, 0, 0, 0, 0, 2, 4, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4,
  3, 3, 6, 0, 1, 1, 3, 5, 8, 0, 6, 0, 0, 2, 0, 0, 1, 1, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
  2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 10, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 0, 0, 0, 0, 0, 0, 1, 1,
];
/** oplen.ts TWO_BYTE. */
export const TWO_BYTE = [
  1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1,
  4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 0, 1, 3, 1, 1, 1, 0, 0, 0, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1,
  1, 1, 3, 1, 3, 3, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
];
/** x86-decode.ts MODRM1 (inclusive ranges). */
export const MODRM1: [number, number][] = [
  [0x00, 0x03], [0x08, 0x0b], [0x10, 0x13], [0x18, 0x1b], [0x20, 0x23], [0x28, 0x2b], [0x30, 0x33],
  [0x38, 0x3b], [0x62, 0x63], [0x69, 0x69], [0x6b, 0x6b], [0x80, 0x8f], [0xc0, 0xc1], [0xc4, 0xc7],
  [0xd0, 0xd3], [0xd8, 0xdf], [0xf6, 0xf7], [0xfe, 0xff],
];
/** x86-decode.ts KNOWN2 (inclusive ranges). */
export const KNOWN2: [number, number][] = [
  [0x00, 0x03], [0x06, 0x06], [0x08, 0x09], [0x0b, 0x0b], [0x18, 0x1f], [0x20, 0x23], [0x30, 0x35],
  [0x40, 0x4f], [0x80, 0x8f], [0x90, 0x9f], [0xa0, 0xa5], [0xa8, 0xad], [0xaf, 0xaf], [0xb0, 0xb7],
  [0xba, 0xbf], [0xc0, 0xc1], [0xc7, 0xcf],
];
/** x86-decode.ts MODRM2 (inclusive ranges). */
export const MODRM2: [number, number][] = [
  [0x00, 0x03], [0x18, 0x1f], [0x20, 0x23], [0x40, 0x4f], [0x90, 0x9f], [0xa3, 0xa5], [0xab, 0xad],
  [0xaf, 0xaf], [0xb0, 0xb7], [0xba, 0xbf], [0xc0, 0xc1], [0xc7, 0xc7],
];
/** translate.ts CONT1 (inclusive ranges). */
export const CONT1: [number, number][] = [
  [0x00, 0x05], [0x08, 0x0d], [0x10, 0x15], [0x18, 0x1d], [0x20, 0x25], [0x27, 0x2d], [0x2f, 0x35],
  [0x37, 0x3d], [0x3f, 0x61], [0x68, 0x6b], [0x84, 0x8d], [0x8f, 0x99], [0x9b, 0x9c], [0x9e, 0xa5],
  [0xa8, 0xaf], [0xb0, 0xc1], [0xc6, 0xc9], [0xd0, 0xd5], [0xd7, 0xdf], [0xf5, 0xf9], [0xfc, 0xfe],
];
/** translate.ts CONT2 (inclusive ranges). */
export const CONT2: [number, number][] = [
  [0x1f, 0x1f], [0x40, 0x4f], [0x90, 0x9f], [0xa0, 0xa0], [0xa2, 0xa5], [0xa8, 0xa8], [0xab, 0xad],
  [0xaf, 0xaf], [0xb0, 0xb1], [0xb3, 0xb3], [0xb6, 0xb7], [0xba, 0xbf], [0xc0, 0xc1], [0xc7, 0xcf], [0x31, 0x31],
];

/** x86-decode.ts imm1: immediate kind of a one-byte opcode. */
export function imm1(op: number, reg: number): 0 | 1 | 2 | "z" | "iwib" | "ptr" | "moffs" {
  if (op < 0x40) return (op & 7) === 4 ? 1 : (op & 7) === 5 ? "z" : 0;
  if (op === 0x68 || op === 0x69 || op === 0x81 || op === 0xc7 || op === 0xa9 || op === 0xe8 || op === 0xe9) return "z";
  if ((op >= 0xb8 && op <= 0xbf)) return "z";
  if (op === 0x6a || op === 0x6b || (op >= 0x70 && op <= 0x7f) || op === 0x80 || op === 0x82 || op === 0x83 ||
    op === 0xa8 || (op >= 0xb0 && op <= 0xb7) || op === 0xc0 || op === 0xc1 || op === 0xc6 || op === 0xcd ||
    op === 0xd4 || op === 0xd5 || (op >= 0xe0 && op <= 0xe7) || op === 0xeb) return 1;
  if (op === 0xc2 || op === 0xca) return 2;
  if (op === 0xc8) return "iwib";
  if (op === 0x9a || op === 0xea) return "ptr";
  if (op >= 0xa0 && op <= 0xa3) return "moffs";
  if (op === 0xf6) return reg < 2 ? 1 : 0;
  if (op === 0xf7) return reg < 2 ? "z" : 0;
  return 0;
}

/** run.ts lockValid, for a memory operand (op: byte, or 0x100 | xx for 0F xx). */
export function lockValid(op: number, reg: number): boolean {
  switch (op) {
    case 0x00: case 0x01: case 0x08: case 0x09: case 0x10: case 0x11: case 0x18: case 0x19:
    case 0x20: case 0x21: case 0x28: case 0x29: case 0x30: case 0x31: case 0x86: case 0x87:
    case 0x1AB: case 0x1B3: case 0x1BB: case 0x1B0: case 0x1B1: case 0x1C0: case 0x1C1:
      return true;
    case 0x80: case 0x81: case 0x82: case 0x83: return reg != 7; // not CMP
    case 0xF6: case 0xF7: return reg == 2 || reg == 3; // NOT, NEG
    case 0xFE: case 0xFF: return reg < 2; // INC, DEC
    case 0x1BA: return reg >= 5; // BTS BTR BTC
    case 0x1C7: return reg == 1; // CMPXCHG8B
    default: return false;
  }
}

/** translate.ts continues(), for an instruction without REP. */
export function continues(op: number, reg: number, cont1: Uint8Array, cont2: Uint8Array): boolean {
  if (op >= 0x100) return cont2[op & 0xff] === 1;
  if (op === 0xff) return reg < 2 || reg === 6;
  return cont1[op] === 1;
}
