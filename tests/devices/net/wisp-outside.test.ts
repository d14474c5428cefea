// The NAT's outside over a Wisp relay (devices/net/wisp-outside.ts) with a scripted Wisp client
// in place of a WebSocket: streams are created with the guest's destination, bytes cross both
// ways, the relay's CLOSE reasons (Wisp protocol §0x04) become a FIN or a reset for the guest, a
// paused stream holds at most HOLD_MAX bytes, and UDP gets one stream per destination.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WispOutside, HOLD_MAX, HOLD_TOTAL, UDP_DESTINATIONS, type WispClient, type WispClientStream } from "../../../devices/net/wisp-outside.ts";

interface Fake extends WispClientStream {
  host: string;
  port: number;
  type: string;
  sent: Uint8Array[];
  closedWith: number | null;
}

function client(): WispClient & { streams: Fake[] } {
  const streams: Fake[] = [];
  return {
    streams,
    create_stream(host, port, type = "tcp") {
      const s: Fake = {
        host, port, type, sent: [], closedWith: null, send_buffer: [],
        send(d) { this.sent.push(d); }, close(r = 1) { this.closedWith = r; }, onmessage: () => {}, onclose: () => {},
      };
      streams.push(s);
      return s;
    },
  };
}

function events() {
  const log: string[] = [];
  return {
    log,
    ev: {
      connected: () => void log.push("connected"),
      data: (b: Uint8Array) => void log.push(`data ${Buffer.from(b).toString()}`),
      end: () => void log.push("end"),
      drain: () => void log.push("drain"),
      closed: (e: string | null) => void log.push(`closed ${e}`),
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

test("TCP: a stream to the guest's destination, connected at once (CONNECT is optimistic), bytes both ways", async () => {
  const c = client();
  const o = new WispOutside(c);
  const { log, ev } = events();
  const t = o.connectTcp("93.184.216.34", 80, ev);
  assert.deepEqual([c.streams[0]!.host, c.streams[0]!.port, c.streams[0]!.type], ["93.184.216.34", 80, "tcp"]);
  await tick();
  t.write(Buffer.from("GET /"));
  c.streams[0]!.onmessage(Buffer.from("200 OK"));
  assert.deepEqual(log, ["connected", "data 200 OK"]);
  assert.equal(Buffer.from(c.streams[0]!.sent[0]!).toString(), "GET /");
  t.end(); // no half-close in Wisp: the stream stays open
  assert.equal(c.streams[0]!.closedWith, null);
  t.destroy();
  assert.equal(c.streams[0]!.closedWith, 0x02);
});

test("the relay's CLOSE: voluntary is the remote's end (FIN), refused is an error (reset)", () => {
  const c = client();
  const o = new WispOutside(c);
  const a = events(), b = events();
  o.connectTcp("192.0.2.1", 80, a.ev);
  o.connectTcp("192.0.2.1", 81, b.ev);
  c.streams[0]!.onclose(0x02);
  c.streams[1]!.onclose(0x44);
  assert.deepEqual(a.log, ["end", "closed null"]);
  assert.deepEqual(b.log, ["closed wisp refused"]);
});

test("a paused stream holds what arrives, gives it on resume, and is closed past HOLD_MAX", () => {
  const c = client();
  const o = new WispOutside(c);
  const { log, ev } = events();
  const t = o.connectTcp("192.0.2.1", 80, ev);
  t.pause();
  c.streams[0]!.onmessage(Buffer.from("a"));
  assert.deepEqual(log, []);
  t.resume();
  assert.deepEqual(log, ["data a"]);
  t.pause();
  c.streams[0]!.onmessage(new Uint8Array(HOLD_MAX + 1));
  assert.equal(c.streams[0]!.closedWith, 0x81);
  assert.match(log.at(-1)!, /^closed the guest is not reading/);
});

test("the remote's close while the guest is not reading: the held data first, then the end, on resume", () => {
  const c = client();
  const o = new WispOutside(c);
  const { log, ev } = events();
  const t = o.connectTcp("192.0.2.1", 80, ev);
  t.pause();
  c.streams[0]!.onmessage(Buffer.from("last bytes"));
  c.streams[0]!.onclose(0x02);
  assert.deepEqual(log, []);
  assert.equal(o.held, 10);
  t.resume();
  assert.deepEqual(log, ["data last bytes", "end", "closed null"]);
  assert.equal(o.held, 0);
});

test("the hold is bounded for all streams together (HOLD_TOTAL)", () => {
  const c = client();
  const o = new WispOutside(c);
  const streams = Array.from({ length: 3 }, () => {
    const e = events();
    const t = o.connectTcp("192.0.2.1", 80, e.ev);
    t.pause();
    return e;
  });
  const chunk = new Uint8Array(HOLD_TOTAL / 2 - 1);
  c.streams[0]!.onmessage(chunk);
  c.streams[1]!.onmessage(chunk);
  assert.equal(c.streams[2]!.closedWith, null);
  c.streams[2]!.onmessage(new Uint8Array(3));
  assert.equal(c.streams[2]!.closedWith, 0x81);
  assert.match(streams[2]!.log.at(-1)!, /for all streams\)$/);
  assert.equal(o.held, 2 * chunk.length);
});

test("upstream flow control: `buffered` is the client's credit queue; a fall in it is a drain", () => {
  const c = client();
  let poll: (() => void) | null = null;
  const o = new WispOutside(c, { setInterval: (f) => ((poll = f), 1), clearInterval: () => void (poll = null) });
  const { log, ev } = events();
  const t = o.connectTcp("192.0.2.1", 80, ev);
  c.streams[0]!.send_buffer!.push(new Uint8Array(1000), new Uint8Array(500));
  t.write(new Uint8Array(10));
  assert.equal(t.buffered, 1500);
  poll!();
  c.streams[0]!.send_buffer!.shift();
  poll!();
  assert.deepEqual(log, ["drain"]);
  c.streams[0]!.send_buffer!.length = 0;
  poll!();
  assert.equal(poll, null, "nothing queued: no more polling");
});

test("UDP: one stream per destination, replies come back from it; past UDP_DESTINATIONS dropped", () => {
  const c = client();
  const o = new WispOutside(c);
  const got: string[] = [];
  const u = o.openUdp((b, ip, port) => got.push(`${ip}:${port} ${Buffer.from(b).toString()}`));
  u.send(Buffer.from("q1"), "192.0.2.1", 53);
  u.send(Buffer.from("q2"), "192.0.2.1", 53);
  assert.equal(c.streams.length, 1);
  assert.equal(c.streams[0]!.type, "udp");
  c.streams[0]!.onmessage(Buffer.from("a"));
  assert.deepEqual(got, ["192.0.2.1:53 a"]);
  for (let i = 0; i < UDP_DESTINATIONS + 5; i++) u.send(Buffer.from("x"), "192.0.2.2", 1000 + i);
  assert.equal(c.streams.length, UDP_DESTINATIONS);
  u.close();
  assert.ok(c.streams.every((s) => s.closedWith === 0x02));
});

test("names: the page's resolver when given; without one, every name is unknown (ENOTFOUND)", async () => {
  const o = new WispOutside(client(), { resolve: async (n, f) => [f === 4 ? "192.0.2.7" : "::1"].map((a) => `${a}`).filter(() => n === "x.test") });
  assert.deepEqual(await o.resolve("x.test", 4), ["192.0.2.7"]);
  await assert.rejects(new WispOutside(client()).resolve("x.test", 4), (e: NodeJS.ErrnoException) => e.code === "ENOTFOUND");
});
