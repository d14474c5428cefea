// The Wisp relay (cli/wisp-relay.ts) and the page's client (devices/net/wisp-client.ts) over a
// real WebSocket on a Node HTTP server: bytes both ways over TCP and UDP, the relay's refusals
// (private addresses, names resolving to them, port 0, stream type, the stream limit), CONTINUE
// flow control holding an upload back while the destination does not read, a client ignoring
// its credit, packets that are not Wisp, and a relay that goes away.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer as httpServer, type Server } from "node:http";
import { createServer as tcpServer, type Socket } from "node:net";
import { createSocket } from "node:dgram";
import { createHash } from "node:crypto";
import { WebSocket } from "ws";
import { attachWisp, type RelayOptions } from "../../cli/wisp-relay.ts";
import { WispConnection, WispRelay, type WispSocket } from "../../devices/net/wisp-client.ts";
import { CLOSE, connectPacket, dataPacket } from "../../devices/net/wisp-frame.ts";
import type { WispClientStream } from "../../devices/net/wisp-outside.ts";
import { WispOutside } from "../../devices/net/wisp-outside.ts";
import { RelayNames } from "../../devices/net/relay-names.ts";

async function listen(s: Server | ReturnType<typeof tcpServer>): Promise<number> {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  return (s.address() as { port: number }).port;
}

async function relay(t: { after(f: () => void): void }, o: Partial<RelayOptions> = {}) {
  const logs: string[] = [];
  const server = httpServer();
  const wisp = attachWisp(server, "/", { log: (m) => void logs.push(m), ...o });
  const port = await listen(server);
  t.after(() => {
    wisp.close();
    server.close();
  });
  const url = `ws://127.0.0.1:${port}/`;
  const connect = () => new WispConnection(new WebSocket(url) as unknown as WispSocket, (m) => void logs.push(m));
  return { logs, url, connect, server, wisp };
}

/** A TCP server on loopback that echoes; its sockets are kept for the test. */
async function echo(t: { after(f: () => void): void }, handle: (s: Socket) => void = (s) => s.pipe(s)) {
  const socks: Socket[] = [];
  const srv = tcpServer((s) => {
    socks.push(s);
    handle(s);
  });
  const port = await listen(srv);
  t.after(() => {
    for (const s of socks) s.destroy();
    srv.close();
  });
  return { port, socks };
}

function collect(s: WispClientStream) {
  const got: Uint8Array[] = [];
  let closed: (reason: number) => void;
  const done = new Promise<number>((r) => (closed = r));
  s.onmessage = (d) => void got.push(d);
  s.onclose = (reason) => closed(reason);
  return { got, done, text: () => Buffer.concat(got).toString() };
}

const until = async (f: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
};

test("TCP through the relay: bytes both ways, the remote's close is CLOSE voluntary (0x02)", async (t) => {
  const r = await relay(t, { allow: new Set(["loopback"]) });
  const e = await echo(t, (s) => s.once("data", (d) => s.end(Buffer.concat([Buffer.from("echo:"), d]))));
  const c = r.connect();
  const s = c.create_stream("127.0.0.1", e.port, "tcp");
  const got = collect(s);
  s.send(Buffer.from("hello")); // before the handshake's CONTINUE: queued, then sent
  assert.equal(await got.done, CLOSE.VOLUNTARY);
  assert.equal(got.text(), "echo:hello");
  c.close();
});

test("UDP through the relay: a datagram and its answer", async (t) => {
  const r = await relay(t, { allow: new Set(["loopback"]) });
  const u = createSocket("udp4");
  u.on("message", (m, from) => u.send(Buffer.concat([Buffer.from("re:"), m]), from.port, from.address));
  await new Promise<void>((ok) => u.bind(0, "127.0.0.1", () => ok()));
  t.after(() => u.close());
  const c = r.connect();
  const s = c.create_stream("127.0.0.1", u.address().port, "udp");
  const got = collect(s);
  // The first datagram may go before the relay's socket exists (UDP may lose it): send until answered.
  for (let i = 0; i < 50 && got.got.length === 0; i++) {
    s.send(Buffer.from("ping"));
    await new Promise((ok) => setTimeout(ok, 20));
  }
  assert.equal(got.text().slice(0, 7), "re:ping");
  c.close();
});

test("refusals: private, loopback and link-local destinations by default, names resolving to them, reserved ones always, bad CONNECTs", async (t) => {
  const r = await relay(t, { lookup: async (h) => (h === "intranet.example" ? ["10.1.2.3"] : h === "mixed.example" ? ["192.168.0.9", "127.0.0.1"] : []) });
  const c = r.connect();
  const reasons = async (host: string, port: number, type: "tcp" | "udp" = "tcp") => collect(c.create_stream(host, port, type)).done;
  assert.equal(await reasons("127.0.0.1", 80), CLOSE.BLOCKED);
  assert.equal(await reasons("10.0.0.1", 22), CLOSE.BLOCKED);
  assert.equal(await reasons("169.254.169.254", 80), CLOSE.BLOCKED);
  assert.equal(await reasons("[::1]", 80), CLOSE.BLOCKED);
  assert.equal(await reasons("::ffff:127.0.0.1", 80), CLOSE.BLOCKED);
  assert.equal(await reasons("192.168.1.1", 53, "udp"), CLOSE.BLOCKED);
  assert.equal(await reasons("intranet.example", 80), CLOSE.BLOCKED);
  assert.equal(await reasons("mixed.example", 80), CLOSE.BLOCKED);
  assert.equal(await reasons("nowhere.example", 80), CLOSE.UNREACHABLE);
  assert.equal(await reasons("8.8.8.8", 0), CLOSE.INVALID);
  assert.ok(r.logs.some((l) => /refused tcp 10\.0\.0\.1:22: 10\.0\.0\.1 is a private address \(vireo wisp --allow … allows it\)/.test(l)), r.logs.join("\n"));
  assert.ok(r.logs.some((l) => /refused tcp intranet\.example:80: 10\.1\.2\.3 is a private address/.test(l)));
  c.close();

  // Reserved addresses stay refused whatever is allowed.
  const all = await relay(t, { allow: new Set(["loopback", "private", "link-local"]) });
  const c2 = all.connect();
  assert.equal(await collect(c2.create_stream("0.0.0.0", 80)).done, CLOSE.BLOCKED);
  assert.equal(await collect(c2.create_stream("255.255.255.255", 80, "udp")).done, CLOSE.BLOCKED);
  c2.close();
});

test("a stream type that is neither TCP nor UDP is invalid (0x41); a closed port is refused (0x44)", async (t) => {
  const r = await relay(t, { allow: new Set(["loopback"]) });
  const ws = new WebSocket(r.url);
  const replies: Buffer[] = [];
  ws.on("message", (d: Buffer) => void replies.push(d));
  await new Promise((ok) => ws.once("open", ok));
  ws.send(connectPacket(5, 0x07, 80, "127.0.0.1"));
  await until(() => replies.length >= 2);
  assert.deepEqual([...replies[1]!], [0x04, 5, 0, 0, 0, CLOSE.INVALID]);
  ws.close();
  const c = r.connect();
  const dead = tcpServer();
  const port = await listen(dead);
  dead.close();
  assert.equal(await collect(c.create_stream("127.0.0.1", port)).done, CLOSE.REFUSED);
  c.close();
});

test("the stream limit: a connection's stream past maxStreams is throttled (0x49)", async (t) => {
  const r = await relay(t, { allow: new Set(["loopback"]), maxStreams: 2 });
  const e = await echo(t);
  const c = r.connect();
  const a = collect(c.create_stream("127.0.0.1", e.port)), b = collect(c.create_stream("127.0.0.1", e.port));
  const third = collect(c.create_stream("127.0.0.1", e.port));
  assert.equal(await third.done, CLOSE.THROTTLED);
  assert.ok(r.logs.some((l) => /2 streams open \(the limit\)/.test(l)));
  void a, void b;
  c.close();
});

test("CONTINUE flow control: an upload to a remote that does not read stops at the credit, then arrives whole", async (t) => {
  const r = await relay(t, { allow: new Set(["loopback"]), credit: 16 });
  const hash = createHash("sha256");
  let received = 0;
  const e = await echo(t, (s) => {
    s.pause();
    s.on("data", (d) => {
      hash.update(d);
      received += d.length;
    });
  });
  const c = r.connect();
  const s = c.create_stream("127.0.0.1", e.port);
  const PACKETS = 4096, SIZE = 8192; // 32 MiB: more than the kernel's socket buffers hold
  const sent = createHash("sha256");
  for (let i = 0; i < PACKETS; i++) {
    const b = new Uint8Array(SIZE).fill(i & 0xff);
    sent.update(b);
    s.send(b);
  }
  await until(() => e.socks.length === 1);
  await new Promise((ok) => setTimeout(ok, 500));
  // The relay took what the kernel took plus at most about two credits; the rest waits here.
  const waiting = s.send_buffer!.length;
  assert.ok(waiting > PACKETS / 2, `${waiting} packets still queued in the client`);
  e.socks[0]!.resume();
  await until(() => received === PACKETS * SIZE, 20_000);
  assert.equal(hash.digest("hex"), sent.digest("hex"));
  assert.equal(s.send_buffer!.length, 0);
  c.close();
});

test("a client that ignores its credit has its stream closed (0x49), not buffered without bound", async (t) => {
  // A lookup that never answers: the stream's DATA can only wait in the relay.
  const r = await relay(t, { credit: 4, lookup: () => new Promise(() => {}) });
  const ws = new WebSocket(r.url);
  const replies: Buffer[] = [];
  ws.on("message", (d: Buffer) => void replies.push(d));
  await new Promise((ok) => ws.once("open", ok));
  ws.send(connectPacket(1, 1, 80, "slow.example"));
  for (let i = 0; i < 40; i++) ws.send(dataPacket(1, new Uint8Array(100)));
  await until(() => replies.some((p) => p[0] === 0x04));
  assert.deepEqual([...replies.find((p) => p[0] === 0x04)!], [0x04, 1, 0, 0, 0, CLOSE.THROTTLED]);
  assert.ok(r.logs.some((l) => /sent past its credit \(4 packets queued\)/.test(l)), r.logs.join("\n"));
  ws.close();
});

test("packets that are not Wisp close the WebSocket (1002), and the relay says why", async (t) => {
  const r = await relay(t);
  for (const bad of [Uint8Array.of(1, 2, 3), "text"]) {
    const ws = new WebSocket(r.url);
    await new Promise((ok) => ws.once("open", ok));
    const closed = new Promise<number>((ok) => ws.once("close", (code) => ok(code)));
    ws.send(bad);
    assert.equal(await closed, 1002);
  }
  assert.ok(r.logs.some((l) => /a packet of 3 bytes/.test(l)));
  assert.ok(r.logs.some((l) => /a text message/.test(l)));
});

test("a client given what is not Wisp resets its streams and says so", async (t) => {
  const server = httpServer();
  const { WebSocketServer } = await import("ws");
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws) => {
    ws.send(Uint8Array.of(0x03, 0, 0, 0, 0, 16, 0, 0, 0)); // CONTINUE 16
    ws.send(Uint8Array.of(0x04, 1, 0, 0)); // a CLOSE cut short
  });
  const port = await listen(server);
  t.after(() => {
    wss.close();
    server.close();
  });
  const logs: string[] = [];
  const c = new WispConnection(new WebSocket(`ws://127.0.0.1:${port}/`) as unknown as WispSocket, (m) => void logs.push(m));
  assert.equal(await collect(c.create_stream("192.0.2.1", 80)).done, CLOSE.NETWORK_ERROR);
  assert.match(logs.join("\n"), /sent what is not a Wisp packet: a packet of 4 bytes.*1 stream\(s\) are reset/);
  c.close();
  for (const ws of wss.clients) ws.terminate();
});

test("a relay that goes away: its streams end with a network error; WispRelay reconnects after a pause", async (t) => {
  const r = await relay(t, { allow: new Set(["loopback"]) });
  const e = await echo(t);
  let now = 0;
  const logs: string[] = [];
  const client = new WispRelay(() => new WebSocket(r.url) as unknown as WispSocket, (m) => void logs.push(m), r.url, () => now);
  const a = client.create_stream("127.0.0.1", e.port);
  const ga = collect(a);
  a.send(Buffer.from("one"));
  await until(() => ga.text() === "one");
  r.wisp.close(); // the relay's WebSockets are cut
  assert.equal(await ga.done, CLOSE.NETWORK_ERROR);
  assert.match(logs.join("\n"), /wisp relay ws:.*closed \(WebSocket code 1006\); its 1 stream\(s\) are reset/);
  // The relay is back (a new attach on the same server): the next stream opens a new connection.
  const again = attachWisp(r.server, "/", { allow: new Set(["loopback"]), log: () => {} });
  t.after(() => again.close());
  now += 1;
  const b = client.create_stream("127.0.0.1", e.port);
  const gb = collect(b);
  b.send(Buffer.from("two"));
  await until(() => gb.text() === "two");
  client.close();
});

test("WispRelay: a relay that cannot be reached is tried again only after RETRY_MS; streams meanwhile end at once", async () => {
  let now = 0, opened = 0;
  const logs: string[] = [];
  const client = new WispRelay(() => {
    opened++;
    return new WebSocket("ws://127.0.0.1:1/") as unknown as WispSocket; // nothing listens on port 1
  }, (m) => void logs.push(m), "ws://127.0.0.1:1/", () => now);
  assert.equal(await collect(client.create_stream("192.0.2.1", 80)).done, CLOSE.NETWORK_ERROR);
  assert.equal(await collect(client.create_stream("192.0.2.1", 80)).done, CLOSE.NETWORK_ERROR);
  assert.equal(opened, 1);
  now += 2001;
  assert.equal(await collect(client.create_stream("192.0.2.1", 80)).done, CLOSE.NETWORK_ERROR);
  assert.equal(opened, 2);
  client.close();
});

test("the NAT's outside over the relay: a name the guest looked up becomes the relay's CONNECT hostname", async (t) => {
  const r = await relay(t, { allow: new Set(["loopback"]), lookup: async (h) => (h === "box.example" ? ["127.0.0.1"] : []) });
  const e = await echo(t);
  const names = new RelayNames();
  const client = new WispRelay(() => new WebSocket(r.url) as unknown as WispSocket, () => {}, r.url);
  t.after(() => client.close());
  const outside = new WispOutside(client, { names });
  const [addr] = await outside.resolve("box.example", 4);
  assert.match(addr!, /^198\.1[89]\./);
  await assert.rejects(outside.resolve("box.example", 6), { code: "ENODATA" });
  const got: Buffer[] = [];
  let connected = false;
  const s = outside.connectTcp(addr!, e.port, {
    connected: () => void (connected = true), data: (b) => void got.push(Buffer.from(b)), end() {}, drain() {}, closed() {},
  });
  s.write(Buffer.from("via name"));
  await until(() => Buffer.concat(got).toString() === "via name");
  assert.ok(connected);
  s.destroy();
});
