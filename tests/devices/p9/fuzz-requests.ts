// Random 9P2000.L requests for the server's fuzzers: a small name alphabet (so requests meet
// each other's files), every request type the server handles, hostile modes, flags and targets.
import fc from "fast-check";
import { request, s, d, q, T } from "./client.ts";

/** Names the guest uses: the swapped directory, what it and the outside both hold, and others. */
export const NAMES = ["sw", "secret", "sub", "x", "y", "sw.real"];
export const WALK_NAMES = [...NAMES, "..", "."];

/** One random request: an op number and the arguments any op may take from it. */
export const opArb = fc.record({
  op: fc.integer({ min: 0, max: 19 }),
  fid: fc.integer({ min: 0, max: 5 }),
  fid2: fc.integer({ min: 0, max: 5 }),
  name: fc.constantFrom(...NAMES),
  name2: fc.constantFrom(...NAMES),
  path: fc.array(fc.constantFrom(...WALK_NAMES), { maxLength: 3 }),
  flags: fc.constantFrom(0, 1, 2, 0o1002, 0o2001, 0o200 | 2, 0o100000, 0o400000),
  mode: fc.constantFrom(0o644, 0o755, 0o6755, 0o4777, 0o2755, 0o1777, 0o000),
  num: fc.integer({ min: 0, max: 70_000 }),
  valid: fc.integer({ min: 0, max: 0x1ff }),
  data: fc.uint8Array({ maxLength: 64 }),
  target: fc.constantFrom("secret", "..", "../outside", "/", "/etc/passwd", "sw/secret", "../../outside/secret"),
});
export type Op = typeof opArb extends fc.Arbitrary<infer O> ? O : never;

/** The request `o` stands for; a symlink target "/" becomes `outside` (an absolute path out of the export). */
export function message(o: Op, outside: string): Uint8Array {
  switch (o.op) {
    case 0: case 1: return request(T.walk, 1, d(o.fid), d(o.fid2), ["S", o.path]);
    case 2: return request(T.lopen, 1, d(o.fid), d(o.flags));
    case 3: return request(T.lcreate, 1, d(o.fid), s(o.name), d(o.flags | 0o100), d(o.mode), d(0));
    case 4: return request(T.read, 1, d(o.fid), q(o.num), d(4096));
    case 5: return request(T.write, 1, d(o.fid), q(o.num % 4096), ["D", o.data]);
    case 6: return request(T.clunk, 1, d(o.fid));
    case 7: return request(T.getattr, 1, d(o.fid), q(0x3fff));
    case 8: return request(T.setattr, 1, d(o.fid), d(o.valid), d(o.mode), d(o.num), d(o.num), q(o.num), q(1000), q(0), q(2000), q(0));
    case 9: return request(T.readdir, 1, d(o.fid), q(o.num % 8), d(4096));
    case 10: return request(T.mkdir, 1, d(o.fid), s(o.name), d(o.mode), d(0));
    case 11: return request(T.symlink, 1, d(o.fid), s(o.name), s(o.target === "/" ? outside : o.target), d(0));
    case 12: return request(T.readlink, 1, d(o.fid));
    case 13: return request(T.link, 1, d(o.fid), d(o.fid2), s(o.name));
    case 14: return request(T.unlinkat, 1, d(o.fid), s(o.name), d(o.num & 1 ? 0x200 : 0));
    case 15: return request(T.renameat, 1, d(o.fid), s(o.name), d(o.fid2), s(o.name2));
    case 16: return request(T.rename, 1, d(o.fid), d(o.fid2), s(o.name));
    case 17: return request(T.remove, 1, d(o.fid));
    case 18: return request(T.fsync, 1, d(o.fid), d(0));
    default: return request(T.statfs, 1, d(o.fid));
  }
}
