// The state file's container: a fixed header, then named sections (one per component, in the
// order the machine lists them). The header says what the file is (magic), how it is laid out
// (format version), which core.wasm made it (build id: the vCPU state means what that build
// means by it) and guards the rest (payload length and CRC-32). Each section carries the hash of
// its schema (fields.ts stateShape), so a component whose table changed refuses an old state by
// name rather than misreading it.
//
//   0  "VIREO-VM"         magic, 8 bytes
//   8  u32 version        FORMAT_VERSION
//  12  u32 sections       how many follow the header
//  16  16 bytes           core build id (CORE_BUILD_ID, hex-decoded)
//  32  u32, u32           payload length, low and high halves
//  40  u32                CRC-32 of the payload
//  44  u32                0 (reserved)
//  48  sections           each: name (u32 length + UTF-8), u32 schema hash, body (u32 length + bytes)
import { crc32 } from "../host/crc.ts";
import { StateError, StateReader, StateWriter } from "./wire.ts";

export const STATE_MAGIC = "VIREO-VM";
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 48;
/** Most sections a file may claim: a board has a few dozen components. */
export const MAX_SECTIONS = 256;
const MAX_NAME = 64;

export interface Section {
  name: string;
  schema: number;
  body: Uint8Array;
}

/** FNV-1a, 32 bits: a section's schema fingerprint (not a security check: the CRC and parsing are). */
export function schemaHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16) || 0;
  return out;
}
const bytesHex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

export function writeStateFile(buildId: string, sections: readonly Section[]): Uint8Array {
  const w = new StateWriter();
  for (const s of sections) {
    w.str(s.name);
    w.u32(s.schema);
    w.blob(s.body);
  }
  const payload = w.finish();
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(STATE_MAGIC), 0);
  v.setUint32(8, FORMAT_VERSION, true);
  v.setUint32(12, sections.length, true);
  out.set(hexBytes(buildId), 16);
  v.setUint32(32, payload.length % 0x1_0000_0000, true);
  v.setUint32(36, Math.floor(payload.length / 0x1_0000_0000), true);
  v.setUint32(40, crc32(payload), true);
  out.set(payload, HEADER_BYTES);
  return out;
}

/**
 * Check the header and the checksum and split the sections; every failure is a StateError
 * saying which of "not a state file", "truncated", "damaged" or "incompatible" it is.
 */
export function readStateFile(bytes: Uint8Array, buildId: string): Map<string, Section> {
  if (bytes.length < HEADER_BYTES || new TextDecoder().decode(bytes.subarray(0, 8)) !== STATE_MAGIC) {
    throw new StateError(bytes.length < 8 ? "not a Vireo state file (too short)" : "not a Vireo state file (no VIREO-VM header)");
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const version = v.getUint32(8, true);
  if (version !== FORMAT_VERSION) throw new StateError(`incompatible state file: format version ${version}, this Vireo reads version ${FORMAT_VERSION}`);
  const count = v.getUint32(12, true);
  const made = bytesHex(bytes.subarray(16, 32));
  const length = v.getUint32(32, true) + v.getUint32(36, true) * 0x1_0000_0000;
  if (HEADER_BYTES + length > bytes.length) throw new StateError(`truncated state file: ${bytes.length} bytes, the header says ${HEADER_BYTES + length}`);
  if (HEADER_BYTES + length < bytes.length) throw new StateError(`damaged state file: ${bytes.length - HEADER_BYTES - length} bytes after its end`);
  const payload = bytes.subarray(HEADER_BYTES);
  if (crc32(payload) !== v.getUint32(40, true)) throw new StateError("damaged state file: checksum mismatch");
  // The build check comes after the checksum: a damaged file should say damaged, not "other build".
  if (made !== buildId) throw new StateError(`incompatible state file: made by core build ${made}, this is core build ${buildId} (a state resumes only on the core.wasm that saved it)`);
  if (count > MAX_SECTIONS) throw new StateError(`damaged state file: ${count} sections`);
  const r = new StateReader(payload, "state file");
  const out = new Map<string, Section>();
  for (let i = 0; i < count; i++) {
    const name = r.str(MAX_NAME, "a section name");
    const schema = r.u32("a section schema");
    const body = r.blob(r.left, `section ${name}`);
    if (out.has(name)) throw new StateError(`damaged state file: section ${name} twice`);
    out.set(name, { name, schema, body });
  }
  r.end();
  return out;
}
