// A tiny HTTP/1.x server for one page (RFC 9112 message syntax, RFC 9110 semantics): it reads
// the request head, answers GET or HEAD of "/" with the page, anything else with an error
// status, always with Connection: close — one request per connection, closed after the answer.
import type { TcpHandler } from "./tcp.ts";

/** Request heads longer than this are refused (431): the guest cannot make the host buffer without bound. */
export const HTTP_MAX_HEAD = 8192;

export const DEFAULT_PAGE = `<!doctype html>
<title>Vireo host</title>
<h1>Hello from the Vireo host</h1>
<p>This page was served by the emulator's built-in network stack.</p>
`;

const enc = new TextEncoder();

export function httpResponse(status: number, reason: string, body: string, head = false, type = "text/html; charset=utf-8"): Uint8Array {
  const b = enc.encode(body);
  const h = `HTTP/1.1 ${status} ${reason}\r\nServer: vireo\r\nContent-Type: ${type}\r\nContent-Length: ${b.length}\r\nConnection: close\r\n\r\n`;
  const hb = enc.encode(h);
  if (head) return hb;
  const out = new Uint8Array(hb.length + b.length);
  out.set(hb);
  out.set(b, hb.length);
  return out;
}

/** The answer to one complete request head (the text up to the blank line). */
export function answerRequest(headText: string, page: string): Uint8Array {
  const line = headText.split("\r\n", 1)[0]!;
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(line);
  if (!m) return httpResponse(400, "Bad Request", "bad request\n", false, "text/plain");
  const [, method, target] = m;
  if (method !== "GET" && method !== "HEAD") return httpResponse(405, "Method Not Allowed", "method not allowed\n", false, "text/plain");
  const path = target!.replace(/^http:\/\/[^/]*/, "").split("?")[0];
  if (path !== "/" && path !== "/index.html") return httpResponse(404, "Not Found", "not found\n", method === "HEAD", "text/plain");
  return httpResponse(200, "OK", page, method === "HEAD");
}

export class HttpConnection implements TcpHandler {
  private head = "";

  constructor(private readonly page: string) {}

  receive(data: Uint8Array): { send?: Uint8Array; close?: boolean } {
    // Request heads are ASCII (RFC 9112 §2.2); latin1 keeps one char per byte for the length bound.
    for (const b of data) this.head += String.fromCharCode(b);
    const end = this.head.indexOf("\r\n\r\n");
    if (end >= 0) return { send: answerRequest(this.head.slice(0, end), this.page), close: true };
    if (this.head.length > HTTP_MAX_HEAD) return { send: httpResponse(431, "Request Header Fields Too Large", "too large\n", false, "text/plain"), close: true };
    return {};
  }
}
