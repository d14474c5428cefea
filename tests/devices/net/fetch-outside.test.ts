// The NAT's outside without a relay (devices/net/fetch-outside.ts): a guest's HTTP request to
// port 80, as bytes on a TCP stream, becomes a fetch() (Node's, against a server this test
// starts) and the answer comes back as an HTTP/1.1 response; other ports are refused, a failed
// fetch is a 502 saying why, and the response body is read only while the guest takes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { FetchOutside, parseHead } from "../../../devices/net/fetch-outside.ts";
import { RelayNames } from "../../../devices/net/relay-names.ts";

async function server(t: { after(f: () => void): void }, handle: Parameters<typeof createServer>[1]) {
  const s = createServer(handle);
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", () => ok()));
  t.after(() => s.close());
  return (s.address() as { port: number }).port;
}

function events() {
  const got: Buffer[] = [];
  const log: string[] = [];
  let ended: () => void;
  const end = new Promise<void>((ok) => (ended = ok));
  return {
    got, log, end, text: () => Buffer.concat(got).toString("latin1"),
    ev: {
      connected: () => void log.push("connected"),
      data: (b: Uint8Array) => void got.push(Buffer.from(b)),
      end: () => {
        log.push("end");
        ended();
      },
      drain() {},
      closed: (e: string | null) => void log.push(`closed ${e}`),
    },
  };
}

/** The outside with fetch pointed at the test's server for the name `box.example`. */
function outside(port: number, seen: string[] = [], logs: string[] = []) {
  const names = new RelayNames();
  const o = new FetchOutside({
    names, log: (m) => void logs.push(m),
    fetch: (url, init) => {
      seen.push(String(url));
      return fetch(String(url).replace("http://box.example", `http://127.0.0.1:${port}`), init);
    },
  });
  return { o, names };
}

test("a GET by name: fetch() of the name's URL, the answer as HTTP/1.1 with Connection: close", async (t) => {
  const port = await server(t, (req, res) => res.setHeader("x-seen", `${req.method} ${req.url}`).end("body!"));
  const seen: string[] = [];
  const { o, names } = outside(port, seen);
  const [ip] = await o.resolve("box.example", 4);
  const e = events();
  const s = o.connectTcp(ip!, 80, e.ev);
  s.write(Buffer.from("GET /path?q=1 HTTP/1.1\r\nHost: box.example\r\nUser-Agent: Wget\r\n"));
  s.write(Buffer.from("Connection: close\r\n\r\n"));
  await e.end;
  assert.deepEqual(seen, ["http://box.example/path?q=1"]);
  assert.match(e.text(), /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(e.text(), /\r\nx-seen: GET \/path\?q=1\r\n/);
  assert.match(e.text(), /\r\nConnection: close\r\n\r\nbody!$/);
  s.end();
  assert.deepEqual(e.log, ["connected", "end", "closed null"]);
  void names;
});

test("a POST with a Content-Length: the body goes with the fetch", async (t) => {
  let body = "";
  const port = await server(t, (req, res) => {
    req.on("data", (d) => (body += d));
    req.on("end", () => res.end(`got ${body.length}`));
  });
  const { o } = outside(port);
  const [ip] = await o.resolve("box.example", 4);
  const e = events();
  const s = o.connectTcp(ip!, 80, e.ev);
  s.write(Buffer.from("POST /up HTTP/1.1\r\nHost: box.example\r\nContent-Length: 11\r\n\r\nhello"));
  s.write(Buffer.from(" world"));
  await e.end;
  assert.equal(body, "hello world");
  assert.match(e.text(), /got 11$/);
});

test("only port 80: another port is refused; a failed fetch is a 502 that says why", async () => {
  const logs: string[] = [];
  const { o } = outside(1, [], logs);
  const [ip] = await o.resolve("box.example", 4);
  const refused = events();
  o.connectTcp(ip!, 8080, refused.ev);
  await new Promise((ok) => setTimeout(ok, 10));
  assert.deepEqual(refused.log, ["closed ECONNREFUSED"]);
  const e = events();
  const s = o.connectTcp(ip!, 80, e.ev); // box.example → 127.0.0.1:1, where nothing listens
  s.write(Buffer.from("GET / HTTP/1.0\r\nHost: box.example\r\n\r\n"));
  await e.end;
  assert.match(e.text(), /^HTTP\/1\.1 502 Bad Gateway\r\n[^]*the page's fetch\(\) of http:\/\/box\.example\/ failed: fetch failed\. Without a Wisp relay/);
  assert.ok(logs.some((l) => /only HTTP to port 80/.test(l)));
});

test("the body is pulled only while the guest takes it: paused, nothing more comes; resumed, the rest", async (t) => {
  const chunk = Buffer.alloc(64 << 10, 0x61);
  const port = await server(t, (_req, res) => {
    let n = 0;
    const more = () => {
      while (n < 64) if (!res.write(chunk) || ++n >= 64) break;
      if (n >= 64) res.end();
      else res.once("drain", () => (n++, more()));
    };
    more();
  });
  const { o } = outside(port);
  const [ip] = await o.resolve("box.example", 4);
  const e = events();
  const s = o.connectTcp(ip!, 80, e.ev);
  s.write(Buffer.from("GET /big HTTP/1.1\r\nHost: box.example\r\n\r\n"));
  while (e.got.length < 2) await new Promise((ok) => setTimeout(ok, 5));
  s.pause();
  const atPause = e.got.length;
  await new Promise((ok) => setTimeout(ok, 300));
  assert.ok(e.got.length <= atPause + 1, `${e.got.length - atPause} chunks came while paused`);
  s.resume();
  await e.end;
  const bodyAt = e.text().indexOf("\r\n\r\n") + 4;
  assert.equal(e.text().length - bodyAt, 64 * chunk.length);
});

test("parseHead: origin and absolute forms, the Host header for an address, upgrade, refusals", () => {
  assert.deepEqual(parseHead("GET /a HTTP/1.1\r\nHost: example.com:80\r\nAccept: */*\r\nConnection: keep-alive", "93.184.215.14"),
    { method: "GET", url: "http://example.com/a", headers: [["accept", "*/*"]], length: 0 });
  assert.equal((parseHead("GET http://other.example/b HTTP/1.1", "1.2.3.4") as { url: string }).url, "http://other.example/b");
  assert.equal((parseHead("GET /c HTTP/1.1\r\nHost: 10.0.2.2", "127.0.0.1") as { url: string }).url, "http://127.0.0.1/c");
  assert.equal((parseHead("GET /d HTTP/1.0", "box.example", true) as { url: string }).url, "https://box.example/d");
  assert.match(parseHead("GET / HTTP/1.1\r\nTransfer-Encoding: chunked", "x") as string, /chunked request bodies/);
  assert.match(parseHead("GET / HTTP/2", "x") as string, /not an HTTP\/1\.x request line/);
  assert.match(parseHead("CONNECT x:443 HTTP/1.1", "x") as string, /CONNECT is not offered/);
  assert.match(parseHead("GET / HTTP/1.1\r\nContent-Length: -1", "x") as string, /Content-Length: -1/);
  assert.match(parseHead("GET * HTTP/1.1", "x") as string, /not a path/);
});
