// `npm run wisp` / `vireo wisp`: a Wisp relay (cli/wisp-relay.ts) on a port, for a page whose
// guest reaches the network through it (`?netbackend=wisp&relay=ws://HOST:PORT/`).
//   --port N              listen port (default 8021; 0 picks one)
//   --host H              listen address (default 127.0.0.1: this machine only)
//   --allow CLASSES       also connect to loopback, private and/or link-local addresses (comma list)
//   --max-streams N       open streams per WebSocket (default RELAY_DEFAULTS.maxStreams)
//   --max-connections N   WebSockets at once (default RELAY_DEFAULTS.maxConnections)
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { LogLimiter } from "../devices/log-limit.ts";
import { ALLOWABLE, parseAllow } from "./relay-policy.ts";
import { RELAY_DEFAULTS, attachWisp } from "./wisp-relay.ts";

export const DEFAULT_WISP_PORT = 8021;

const USAGE = `usage: vireo wisp [--port N] [--host H] [--allow ${ALLOWABLE.join(",")}] [--max-streams N] [--max-connections N]
  A Wisp relay: a page's guest reaches the network through it (?netbackend=wisp&relay=ws://HOST:PORT/).
  By default it refuses loopback, private and link-local destinations; --allow lists the classes it may reach.
`;

function fail(message: string): never {
  process.stderr.write(`vireo wisp: ${message}\n${USAGE}`);
  process.exit(2);
}

function count(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`--${name}: '${text}' is not a whole number from 1 to 65535`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: "string" }, host: { type: "string" }, allow: { type: "string" },
      "max-streams": { type: "string" }, "max-connections": { type: "string" }, help: { type: "boolean", short: "h" },
    },
  }).values;
} catch (e) {
  fail((e as Error).message);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const port = args.port === undefined ? DEFAULT_WISP_PORT : args.port === "0" ? 0 : count(args.port, "port", DEFAULT_WISP_PORT);
const allow = parseAllow(args.allow ?? "");
if (typeof allow === "string") fail(allow);
const limiter = new LogLimiter((m) => process.stderr.write(`${m}\n`));

const server = createServer((_req, res) => {
  res.writeHead(426, { "Content-Type": "text/plain", Upgrade: "websocket" }).end("a Wisp relay: connect with a WebSocket\n");
});
attachWisp(server, "/", {
  allow,
  maxStreams: count(args["max-streams"], "max-streams", RELAY_DEFAULTS.maxStreams),
  maxConnections: count(args["max-connections"], "max-connections", RELAY_DEFAULTS.maxConnections),
  log: (m) => limiter.log(m),
});
server.on("error", (e: NodeJS.ErrnoException) => fail(`cannot listen: ${e.code ?? e.message}`));
server.listen(port, args.host ?? "127.0.0.1", () => {
  const a = server.address() as { address: string; port: number };
  const host = a.address.includes(":") ? `[${a.address}]` : a.address;
  const refused = ALLOWABLE.filter((c) => !allow.has(c));
  process.stdout.write(`vireo wisp: relay at ws://${host}:${a.port}/ (${refused.length ? `refusing ${refused.join(", ")} addresses` : "every class of address allowed"})\n`);
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => process.exit(0));
