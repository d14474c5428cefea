// Instruction length from the opcode table (core-wasm/x86/opcodes.ts): per opcode, whether a
// ModRM byte follows and which immediate. The step loop only needs it for the rare instruction
// with four or more prefixes, where the 15-byte limit (#GP) can be reached.
import { eip } from "./state";
import { fetch8 } from "./decode";
import {
  OP_INFO, OPI_MODRM, OPI_IMM_SHIFT, IMM_IB, IMM_IZ, IMM_IW, IMM_IWIB, IMM_PTR, IMM_MOFFS, IMM_GRP3,
} from "../../build/opcode-tables";

/** Length in bytes of the instruction whose opcode starts at EIP (prefixes excluded), read
 *  without consuming it. o32/a32 are the effective operand and address sizes. */
export function opcodeLength(o32: bool, a32: bool): u32 {
  const save = eip;
  let len: u32 = 1;
  let b = fetch8();
  let info: u32;
  if (b == 0x0F) { b = fetch8(); len++; info = <u32>load<u8>(OP_INFO + 0x100 + b); }
  else info = <u32>load<u8>(OP_INFO + b);
  let reg: u32 = 0;
  if ((info & OPI_MODRM) != 0) {
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
  switch ((info >> OPI_IMM_SHIFT) & 7) {
    case IMM_IB: len += 1; break;
    case IMM_IZ: len += z; break;
    case IMM_IW: len += 2; break;
    case IMM_IWIB: len += 3; break;
    case IMM_PTR: len += z + 2; break;
    case IMM_MOFFS: len += a32 ? 4 : 2; break;
    case IMM_GRP3: if (reg < 2) len += b == 0xF6 ? 1 : z; break;
    default: break;
  }
  eip = save;
  return len;
}
