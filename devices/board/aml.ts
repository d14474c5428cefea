// The few ACPI Machine Language encodings the board's DSDT needs (ACPI 6.5 §20.2: "AML
// Grammar Definition"): names, integers, packages, buffers, Name, Device and Scope. Each
// returns the encoded bytes as a plain number array; a DefinitionBlock body is their concatenation.

export type Aml = number[];

const ZERO_OP = 0x00, ONE_OP = 0x01, ONES_OP = 0xff;
const BYTE_PREFIX = 0x0a, WORD_PREFIX = 0x0b, DWORD_PREFIX = 0x0c;
const NAME_OP = 0x08, SCOPE_OP = 0x10, BUFFER_OP = 0x11, PACKAGE_OP = 0x12;
const EXT_OP_PREFIX = 0x5b, DEVICE_OP = 0x82;
const ROOT_CHAR = 0x5c; // '\'

/**
 * PkgLength (§20.2.4): the length of what follows the opcode, itself included. One byte up to
 * 63; otherwise bits 7:6 of the lead byte count the 1–3 bytes that follow, its bits 3:0 hold the
 * low nibble and the following bytes the rest.
 */
export function pkgLength(contentLen: number): Aml {
  if (contentLen + 1 < 0x40) return [contentLen + 1];
  for (let extra = 1; extra <= 3; extra++) {
    const total = contentLen + 1 + extra;
    if (total < 1 << (4 + 8 * extra)) {
      const out = [(extra << 6) | (total & 0x0f)];
      for (let i = 0; i < extra; i++) out.push((total >>> (4 + 8 * i)) & 0xff);
      return out;
    }
  }
  throw new RangeError(`AML package of ${contentLen} bytes is too long`);
}

/** A NameString: one or more 4-character segments, `\` for the root (e.g. "\\_SB_", "PCI0"). */
export function nameString(name: string): Aml {
  const root = name.startsWith("\\");
  const segs = (root ? name.slice(1) : name).split(".");
  const out: Aml = root ? [ROOT_CHAR] : [];
  if (segs.length === 2) out.push(0x2e); // DualNamePrefix
  else if (segs.length > 2) out.push(0x2f, segs.length); // MultiNamePrefix
  for (const s of segs) {
    if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(s)) throw new Error(`bad AML name segment '${s}'`);
    for (const c of s.padEnd(4, "_")) out.push(c.charCodeAt(0));
  }
  return out;
}

/** The shortest integer encoding (§20.2.3 ComputationalData). */
export function integer(v: number): Aml {
  if (v === 0) return [ZERO_OP];
  if (v === 1) return [ONE_OP];
  if (v <= 0xff) return [BYTE_PREFIX, v];
  if (v <= 0xffff) return [WORD_PREFIX, v & 0xff, v >>> 8];
  if (v <= 0xffff_ffff) return [DWORD_PREFIX, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  throw new RangeError(`AML integer ${v} needs a QWord (DSDT revision 2)`);
}
export const ones: Aml = [ONES_OP];

export function pkg(elements: Aml[]): Aml {
  if (elements.length > 255) throw new RangeError("AML package of more than 255 elements");
  const body = [elements.length, ...elements.flat()];
  return [PACKAGE_OP, ...pkgLength(body.length), ...body];
}

export function buffer(bytes: readonly number[]): Aml {
  const body = [...integer(bytes.length), ...bytes];
  return [BUFFER_OP, ...pkgLength(body.length), ...body];
}

export function name(n: string, value: Aml): Aml {
  return [NAME_OP, ...nameString(n), ...value];
}

export function device(n: string, body: Aml[]): Aml {
  const content = [...nameString(n), ...body.flat()];
  return [EXT_OP_PREFIX, DEVICE_OP, ...pkgLength(content.length), ...content];
}

export function scope(n: string, body: Aml[]): Aml {
  const content = [...nameString(n), ...body.flat()];
  return [SCOPE_OP, ...pkgLength(content.length), ...content];
}

/** EISAID("PNP0A03") (§19.6.35): three letters in 5 bits each, then four hex digits, as a DWord. */
export function eisaId(id: string): Aml {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new Error(`bad EISA id '${id}'`);
  const c = (i: number) => id.charCodeAt(i) - 0x40;
  const hi = (c(0) << 10) | (c(1) << 5) | c(2);
  const prod = parseInt(id.slice(3), 16);
  return integer(((hi >>> 8) | ((hi & 0xff) << 8) | ((prod >>> 8) << 16) | ((prod & 0xff) << 24)) >>> 0);
}
