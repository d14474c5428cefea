// Instruction length from the opcode maps (SDM Vol. 2 Appendix A): per opcode, whether a
// ModRM byte follows and which immediate. The step loop only needs it for the rare instruction
// with four or more prefixes, where the 15-byte limit (#GP) can be reached.
import { eip } from "./state";
import { fetch8 } from "./decode";

const OP_MODRM: u32 = 1;
// Immediate kinds, bits 1..3.
const IMM_NONE: u32 = 0, IMM_8: u32 = 1, IMM_Z: u32 = 2, IMM_16: u32 = 3, IMM_ENTER: u32 = 4;
const IMM_PTR: u32 = 5, IMM_MOFFS: u32 = 6, IMM_GRP3: u32 = 7;

/** One-byte map (prefix bytes are 0: the caller has consumed them). */
const ONE_BYTE: usize = memory.data<u8>([
  1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0,
  1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0, 1, 1, 1, 1, 2, 4, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 1, 1, 0, 0, 0, 0, 4, 5, 2, 3, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  3, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0,
  12, 12, 12, 12, 0, 0, 0, 0, 2, 4, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4,
  3, 3, 6, 0, 1, 1, 3, 5, 8, 0, 6, 0, 0, 2, 0, 0, 1, 1, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
  2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 10, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 0, 0, 0, 0, 0, 0, 1, 1,
]);
/** Two-byte map 0F xx. */
const TWO_BYTE: usize = memory.data<u8>([
  1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1,
  4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 0, 1, 3, 1, 1, 1, 0, 0, 0, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1,
  1, 1, 3, 1, 3, 3, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
]);

/** Length in bytes of the instruction whose opcode starts at EIP (prefixes excluded), read
 *  without consuming it. o32/a32 are the effective operand and address sizes. */
export function opcodeLength(o32: bool, a32: bool): u32 {
  const save = eip;
  let len: u32 = 1;
  let b = fetch8();
  let info: u32;
  if (b == 0x0F) { b = fetch8(); len++; info = <u32>load<u8>(TWO_BYTE + b); }
  else info = <u32>load<u8>(ONE_BYTE + b);
  let reg: u32 = 0;
  if ((info & OP_MODRM) != 0) {
    const m = fetch8();
    len++;
    reg = (m >> 3) & 7;
    const mod = m >> 6, rm = m & 7;
    if (mod != 3) {
      if (a32) {
        if (rm == 4) { const sib = fetch8(); len++; if (mod == 0 && (sib & 7) == 5) len += 4; }
        if (mod == 1) len += 1; else if (mod == 2 || (mod == 0 && rm == 5)) len += 4;
      } else {
        if (mod == 1) len += 1; else if (mod == 2 || (mod == 0 && rm == 6)) len += 2;
      }
    }
  }
  const z: u32 = o32 ? 4 : 2;
  switch ((info >> 1) & 7) {
    case IMM_8: len += 1; break;
    case IMM_Z: len += z; break;
    case IMM_16: len += 2; break;
    case IMM_ENTER: len += 3; break;
    case IMM_PTR: len += z + 2; break;
    case IMM_MOFFS: len += a32 ? 4 : 2; break;
    case IMM_GRP3: if (reg < 2) len += b == 0xF6 ? 1 : z; break;
    default: break;
  }
  eip = save;
  return len;
}
