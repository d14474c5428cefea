// The NAT's outside with no relay at all (a page's `netbackend=fetch`): a guest's plain-HTTP
// request to port 80 becomes a fetch() of the same URL, and the answer goes back to the guest as
// an HTTP/1.1 response. What that can and cannot do, as the page says:
//   - only HTTP on port 80 (other ports are refused, UDP is dropped), one request per connection
//     (the answer says Connection: close), request bodies with a Content-Length (no chunked);
//   - only what the browser lets a page fetch: the server must allow the page's origin (CORS),
//     and a page served over https may not fetch http: URLs (`upgrade` fetches https: instead);
//     a refused fetch is answered 502 with the browser's reason, so the guest sees why;
//   - the browser decodes the body (Content-Encoding) and follows redirects itself; cookies,
//     Set-Cookie and forbidden request headers are the browser's, not the guest's.
// Names resolve to stand-in addresses (relay-names.ts); the fetch uses the name.
// Bounded: the request head is at most HEAD_MAX bytes and its body BODY_MAX, and the response
// body is pulled from fetch's reader only while the guest takes it (real flow control).
import type { Outside, OutsideTcp, OutsideTcpEvents, OutsideUdp } from "./nat-outside.ts";
import type { RelayNames } from "./relay-names.ts";

export const HTTP_PORT = 80;
/** The request line and headers from the guest, at most. */
export const HEAD_MAX = 64 << 10;
/** A request body from the guest, at most. */
export const BODY_MAX = 16 << 20;
/** Request headers the browser sets itself (fetch refuses or ignores them). */
const DROPPED = new Set(["host", "connection", "content-length", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "expect"]);
/** Response headers that no longer describe the bytes the guest gets (fetch decoded them). */
const RESPONSE_DROPPED = new Set(["content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"]);

export interface FetchOutsideOptions {
  names: RelayNames;
  log: (m: string) => void;
  fetch?: typeof fetch;
  /** Fetch https: where the guest asked for http: (a page served over https cannot fetch http:). */
  upgrade?: boolean;
}

const latin1 = new TextDecoder("latin1");
const enc = new TextEncoder();
const isIp = (h: string) => /^\d+\.\d+\.\d+\.\d+$/.test(h);

class FetchHttp implements OutsideTcp {
  private head: Uint8Array[] = [];
  private headBytes = 0;
  private request: { method: string; url: string; headers: [string, string][]; length: number } | null = null;
  private body: Uint8Array[] = [];
  private bodyBytes = 0;
  private started = false;
  private done = false;
  private paused = false;
  private wake: (() => void) | null = null;
  private readonly abort = new AbortController();
  private guestEnded = false;
  private finished = false;
  buffered = 0;

  constructor(private readonly o: FetchOutside, private readonly host: string, private readonly ev: OutsideTcpEvents) {}

  write(bytes: Uint8Array): void {
    if (this.started || this.done) return; // one request per connection; the rest is not read
    if (this.request === null) {
      this.head.push(bytes);
      this.headBytes += bytes.length;
      const all = concat(this.head, this.headBytes);
      const end = indexOfCrlfCrlf(all);
      if (end < 0) {
        if (this.headBytes > HEAD_MAX) this.answer(431, "Request Header Fields Too Large", `the request head is over ${HEAD_MAX} bytes`);
        return;
      }
      const parsed = parseHead(latin1.decode(all.subarray(0, end)), this.host, this.o.upgrade);
      if (typeof parsed === "string") return this.answer(400, "Bad Request", parsed);
      if (parsed.length > BODY_MAX) return this.answer(413, "Content Too Large", `request bodies through fetch are at most ${BODY_MAX} bytes`);
      this.request = parsed;
      bytes = all.subarray(end + 4);
    }
    this.body.push(bytes);
    this.bodyBytes += bytes.length;
    if (this.bodyBytes >= this.request.length) void this.go();
  }

  end(): void {
    // The guest has sent all it will: its request is what came (a body cut short is sent as is).
    this.guestEnded = true;
    if (this.request && !this.started) void this.go();
    else if (this.finished) this.close(null);
  }

  destroy(): void {
    this.done = true;
    this.abort.abort();
    this.wake?.();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
    this.wake = null;
  }

  private async go(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const r = this.request!;
    const body = r.length > 0 ? concat(this.body, this.bodyBytes).slice(0, r.length) : undefined;
    let res: Response;
    try {
      res = await this.o.fetchFn(r.url, { method: r.method, headers: r.headers, body, redirect: "follow", signal: this.abort.signal });
    } catch (e) {
      if (this.done) return;
      this.o.say(`fetch ${r.url}: ${(e as Error).message}`);
      return this.answer(502, "Bad Gateway", `the page's fetch() of ${r.url} failed: ${(e as Error).message}. Without a Wisp relay the guest reaches only servers that allow this page's origin (CORS), over plain HTTP on port 80.`);
    }
    if (this.done) return;
    const lines = [`HTTP/1.1 ${res.status} ${res.statusText || "Status"}`];
    res.headers.forEach((v, k) => void (RESPONSE_DROPPED.has(k) || lines.push(`${k}: ${v}`)));
    lines.push("Connection: close", "", "");
    this.ev.data(enc.encode(lines.join("\r\n")));
    if (res.body && r.method !== "HEAD") {
      const reader = res.body.getReader();
      try {
        for (;;) {
          while (this.paused && !this.done) await new Promise<void>((ok) => (this.wake = ok));
          if (this.done) return void reader.cancel().catch(() => {});
          const { value, done } = await reader.read();
          if (done || this.done) break;
          this.ev.data(value);
        }
      } catch (e) {
        if (this.done) return;
        this.o.say(`fetch ${r.url}: the body failed: ${(e as Error).message}`);
        return this.close("ECONNRESET");
      }
    }
    this.finish();
  }

  private answer(status: number, reason: string, text: string): void {
    this.started = true;
    const body = enc.encode(`${text}\n`);
    this.ev.data(enc.encode(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`));
    this.ev.data(body);
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.finished = true;
    this.ev.end();
    if (this.guestEnded) this.close(null);
  }

  private close(error: string | null): void {
    if (this.done) return;
    this.done = true;
    this.ev.closed(error);
  }
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function indexOfCrlfCrlf(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  return -1;
}

/** An HTTP/1.x request head (RFC 9112 §3): its method, the URL to fetch, headers to pass on, the body's length. */
export function parseHead(text: string, host: string, upgrade = false): { method: string; url: string; headers: [string, string][]; length: number } | string {
  const [line, ...rest] = text.split("\r\n");
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(line ?? "");
  if (!m) return `not an HTTP/1.x request line: ${JSON.stringify((line ?? "").slice(0, 80))}`;
  const method = m[1]!, target = m[2]!;
  if (method === "CONNECT") return "CONNECT is not offered through fetch";
  const headers: [string, string][] = [];
  let hostHeader: string | null = null, length = 0;
  for (const h of rest) {
    const c = h.indexOf(":");
    if (c <= 0) return `a header line without a name: ${JSON.stringify(h.slice(0, 80))}`;
    const name = h.slice(0, c).trim().toLowerCase(), value = h.slice(c + 1).trim();
    if (name === "host") hostHeader = value;
    else if (name === "content-length") {
      if (!/^\d+$/.test(value)) return `Content-Length: ${value}`;
      length = Number(value);
    } else if (name === "transfer-encoding") return "chunked request bodies are not offered through fetch (send a Content-Length)";
    else if (!DROPPED.has(name)) headers.push([name, value]);
  }
  // The name the guest looked up, else its Host header when that is a name, else the address.
  const where = !isIp(host) ? host : hostHeader && !isIp(hostHeader.split(":")[0]!) ? hostHeader.split(":")[0]! : host;
  let url: string;
  if (/^https?:\/\//i.test(target)) url = target;
  else if (target.startsWith("/")) url = `http://${where}${target}`;
  else return `a request target that is not a path: ${JSON.stringify(target.slice(0, 80))}`;
  if (upgrade) url = url.replace(/^http:/i, "https:");
  return { method, url, headers, length };
}

export class FetchOutside implements Outside {
  readonly fetchFn: typeof fetch;
  readonly upgrade: boolean;
  private readonly said = new Set<string>();

  constructor(private readonly opts: FetchOutsideOptions) {
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.upgrade = opts.upgrade ?? false;
  }

  connectTcp(ip: string, port: number, ev: OutsideTcpEvents): OutsideTcp {
    const host = this.opts.names.name(ip) ?? ip;
    if (port !== HTTP_PORT) {
      this.say(`fetch: only HTTP to port ${HTTP_PORT} is offered without a relay (the guest asked for ${host}:${port})`);
      queueMicrotask(() => ev.closed("ECONNREFUSED"));
      return { write() {}, buffered: 0, end() {}, destroy() {}, pause() {}, resume() {} };
    }
    queueMicrotask(() => ev.connected());
    return new FetchHttp(this, host, ev);
  }

  openUdp(): OutsideUdp {
    this.say("fetch: UDP is not offered without a relay");
    return { send() {}, close() {} };
  }

  resolve(name: string, family: 4 | 6): Promise<string[]> {
    if (family === 4) return Promise.resolve([this.opts.names.address(name)]);
    return Promise.reject(Object.assign(new Error(`${name}: IPv4 only`), { code: "ENODATA" }));
  }

  /** A log line said once per kind (the guest may retry in a loop). */
  say(m: string): void {
    const key = m.slice(0, 40);
    if (this.said.has(key) || this.said.size > 64) return;
    this.said.add(key);
    this.opts.log(m);
  }
}
