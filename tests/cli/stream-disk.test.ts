// A streamed disk under a real guest kernel, through the CLI (`--device blk,image=URL`): Linux's
// virtio_blk reads a 4 MiB random image from a local HTTP server with byte ranges, its requests
// parked while the chunks arrive (devices/virtio/blk.ts, BlockBackend.prepare). The md5s come
// from the test's own bytes; the server sees only ranged GETs, and a guest write stays on the host.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createHash, randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { outputOf } from "./virtio-boot.ts";

const root = new URL("../../", import.meta.url).pathname;
const CHUNK = 256 << 10;
const image = randomBytes(4 << 20);
const chunks: string[] = [];
for (let at = 0; at < image.length; at += CHUNK) chunks.push(createHash("sha256").update(image.subarray(at, at + CHUNK)).digest("hex"));
const manifest = JSON.stringify({ format: "vireo-disk-1", size: image.length, chunkSize: CHUNK, chunks });
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

const requests: string[] = [];
let ranges = true;
let sent = 0;
const server = createServer((req, res) => {
  if (req.url === "/disk.img.manifest.json") return void res.writeHead(200).end(manifest);
  requests.push(`${req.method} ${req.headers.range ?? "(whole)"}`);
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
  if (!ranges || !m) return void res.writeHead(200, { "Content-Length": String(image.length) }).end(image);
  const first = Number(m[1]), last = Math.min(Number(m[2]), image.length - 1);
  res.writeHead(206, { "Content-Range": `bytes ${first}-${last}/${image.length}`, "Content-Length": String(last - first + 1) });
  sent += last - first + 1;
  res.end(image.subarray(first, last + 1));
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/disk.img.manifest.json`;
after(() => {
  server.closeAllConnections();
  server.close();
});

/** The CLI, not blocking this process's event loop (the server runs in it). */
function boot(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", "cli/boot.ts", "--timeout", "150", ...args], { cwd: root });
    let out = "", err = "";
    p.stdout.on("data", (d: Buffer) => (out += d));
    p.stderr.on("data", (d: Buffer) => (err += d));
    p.on("close", (code) => resolve({ code, out: out.replace(/\r/g, ""), err }));
  });
}

test("the guest reads a streamed disk's bytes, fetched by range as it reads them; its write stays here", async () => {
  // The busybox shell wraps echoed lines at 80 columns: short commands.
  const read = "dd if=$d bs=4k skip=256 count=256 2>&- | md5sum";
  const write = "dd if=/dev/zero of=$d bs=4k count=1 conv=fsync 2>&-; echo rc=$?";
  const back = "dd if=$d bs=4k count=2 2>&- | md5sum";
  const r = await boot(["--clock", "deterministic", "--device", `blk,transport=pci-modern,image=${url}`, "--cmd", "d=/dev/vda", "--cmd", read, "--cmd", write, "--cmd", back]);
  assert.equal(r.code, 0, r.err + r.out.slice(-3000));
  assert.equal(outputOf(r.out, read).trim(), `${md5(image.subarray(1 << 20, 2 << 20))}  -`);
  assert.equal(outputOf(r.out, write).trim(), "rc=0");
  const expect = image.slice(0, 8192);
  expect.fill(0, 0, 4096);
  assert.equal(outputOf(r.out, back).trim(), `${md5(expect)}  -`, "the guest reads its own write back");
  assert.ok(requests.every((q) => /^GET bytes=\d+-\d+$/.test(q)), requests.join(", "));
  assert.ok(sent < image.length / 2, `only what the guest read: ${sent} bytes of ${image.length}`);
});

test("a server without range support: the CLI says so before the guest runs", async () => {
  ranges = false;
  try {
    const r = await boot(["--device", `blk,transport=pci-modern,image=${url}`, "--cmd", "true"]);
    assert.notEqual(r.code, 0);
    assert.match(r.err + r.out, /ignored the Range request \(HTTP 200, the whole file\)/);
    assert.doesNotMatch(r.out, /Linux version/);
  } finally {
    ranges = true;
  }
});
