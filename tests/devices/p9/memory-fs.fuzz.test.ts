// The page's folder (MemoryFs) under random 9P2000.L request sequences (fast-check): the server
// never throws, the quota is never exceeded, and the quota counts exactly the bytes files hold —
// hard links once, an unlinked file until its last handle closes.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MemoryFs } from "../../../devices/p9/memory-fs.ts";
import type { FsPath, OpenFlags } from "../../../devices/p9/backend.ts";
import { P9Server } from "../../../devices/p9/server.ts";
import { NOFID } from "../../../devices/p9/messages.ts";
import { fuzz } from "../../fuzz.ts";
import { request, s, d, T } from "./client.ts";
import { message, opArb } from "./fuzz-requests.ts";

const QUOTA = 16 * 1024;
const rw = { access: 2 as const, trunc: false, append: false };

/** A MemoryFs that notes which handles are open (the server opens them; the test reads through them). */
class TrackedFs extends MemoryFs {
  readonly live = new Set<number>();
  override open(p: FsPath, f: OpenFlags): number {
    const h = super.open(p, f);
    this.live.add(h);
    return h;
  }
  override create(dir: FsPath, name: string, f: OpenFlags, mode: number, exclusive: boolean): number {
    const h = super.create(dir, name, f, mode, exclusive);
    this.live.add(h);
    return h;
  }
  override close(h: number): void {
    super.close(h);
    this.live.delete(h);
  }
}

/**
 * Bytes held: of every file reachable by a name, and of every file an open handle holds (an
 * unlinked one too). Each file once: a read returns a view of the file's own buffer, so the
 * buffer tells two names or handles of one file apart from two files.
 */
function heldBytes(fs: TrackedFs): number {
  const held = new Map<ArrayBufferLike, number>();
  const add = (h: number) => {
    const data = fs.read(h, 0, 1 << 30);
    held.set(data.buffer, data.length);
  };
  for (const h of fs.live) add(h);
  const walk = (p: string[]) => {
    for (const name of fs.readdir(p)) {
      const st = fs.stat([...p, name]);
      if (st.kind === "dir") walk([...p, name]);
      else if (st.kind === "file" && st.size > 0) {
        const h = fs.open([...p, name], { access: 0, trunc: false, append: false });
        add(h);
        fs.close(h);
      }
    }
  };
  walk([]);
  return [...held.values()].reduce((a, b) => a + b, 0);
}

test("the page's folder: random requests never throw, never pass the quota, and count every held byte once", () => {
  let ops = 0;
  fuzz("9p memory-fs quota", fc.property(fc.array(opArb, { minLength: 1, maxLength: 24 }), (seq) => {
    const fs = new TrackedFs({ quota: QUOTA, now: () => 0n });
    fs.mkdir([], "sw", 0o755);
    const h = fs.create([], "x", rw, 0o644, true);
    fs.write(h, 0, new Uint8Array(3000));
    fs.close(h);
    fs.link(["sw"], "secret", ["x"]);
    const y = fs.create([], "y", rw, 0o644, true);
    fs.write(y, 0, new Uint8Array(2000));
    fs.close(y);
    const srv = new P9Server(fs);
    srv.handle(request(T.version, 0, d(8192), s("9P2000.L")));
    srv.handle(request(T.attach, 0, d(0), d(NOFID), s(""), s(""), d(0)));
    srv.handle(request(T.walk, 0, d(0), d(1), ["S", ["sw"]]));
    srv.handle(request(T.walk, 0, d(0), d(2), ["S", ["x"]]));
    srv.handle(request(T.walk, 0, d(0), d(3), ["S", ["y"]]));
    srv.handle(request(T.lopen, 0, d(3), d(2))); // open while the guest goes on: unlinking it must not free it
    for (const o of seq) {
      const r = srv.handle(message(o, "/outside"));
      ops++;
      if (!(r instanceof Uint8Array)) throw new Error("MemoryFs answers synchronously");
      assert.ok(fs.bytesUsed <= QUOTA, "within the quota");
      assert.equal(fs.bytesUsed, heldBytes(fs), "the bytes held, each file once");
    }
    srv.reset();
    assert.equal(fs.bytesUsed, heldBytes(fs), "with every handle closed, the bytes of the named files");
  }), 300);
  process.stderr.write(`fuzz 9p memory-fs quota: ${ops} operations\n`);
});
