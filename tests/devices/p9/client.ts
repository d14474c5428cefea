// A tiny 9P2000.L client for tests: builds requests with the wire Writer and parses the reply
// header, so server and device tests read like the guest's own sequence of calls.
import assert from "node:assert/strict";
import { T, RLERROR } from "../../../devices/p9/messages.ts";
import { Reader, Writer } from "../../../devices/p9/wire.ts";

export type Arg = ["b" | "w" | "d", number] | ["q", number | bigint] | ["s", string] | ["S", string[]] | ["D", Uint8Array];

export function request(type: number, tag: number, ...args: Arg[]): Uint8Array {
  const w = new Writer().u32(0).u8(type).u16(tag);
  for (const [k, v] of args) {
    if (k === "b") w.u8(v as number);
    else if (k === "w") w.u16(v as number);
    else if (k === "d") w.u32(v as number);
    else if (k === "q") w.u64(v as number | bigint);
    else if (k === "s") w.str(v as string);
    else if (k === "S") { w.u16((v as string[]).length); for (const s of v as string[]) w.str(s); }
    else { w.u32((v as Uint8Array).length).bytes(v as Uint8Array); }
  }
  w.patchU32(0, w.length);
  return w.finish().slice();
}

/** Reply header checks; returns a Reader at the body. */
export function reply(msg: Uint8Array, type: number, tag?: number): Reader {
  const r = new Reader(msg);
  assert.equal(r.u32(), msg.length, "size[4] matches");
  const t = r.u8();
  const g = r.u16();
  if (t === RLERROR && type !== RLERROR) assert.fail(`expected type ${type}, got Rlerror ${new Reader(msg, 7).u32()}`);
  assert.equal(t, type);
  if (tag !== undefined) assert.equal(g, tag);
  return r;
}

/** The errno of an Rlerror reply (fails on anything else). */
export function errnoOf(msg: Uint8Array): number {
  return reply(msg, RLERROR).u32();
}

export const s = (v: string): Arg => ["s", v];
export const d = (v: number): Arg => ["d", v];
export const q = (v: number | bigint): Arg => ["q", v];
export { T };
