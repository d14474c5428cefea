// The echo timer against Linux's captured echo request and a reply derived from it by the RFC 792
// rule (type 8 → 0, same identifier and sequence number).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EchoTimer } from "../../../devices/net/echo-timer.ts";
import { G_ECHO, G_SYN } from "./frames.ts";

test("a request and its reply give one round trip on the given clock; other frames are ignored", () => {
  let now = 1000;
  const t = new EchoTimer(() => now);
  t.outgoing(G_SYN);
  t.outgoing(G_ECHO);
  const reply = G_ECHO.slice();
  reply[34] = 0;
  now += 2.5;
  t.incoming(G_SYN);
  t.incoming(G_ECHO); // a request arriving is not a reply
  assert.deepEqual(t.stats(), {});
  t.incoming(reply);
  assert.deepEqual(t.stats(), { echoRtts: 1, echoRttMinUs: 2500, echoRttAvgUs: 2500, echoRttMaxUs: 2500 });
  t.incoming(reply); // a duplicate reply is not timed twice
  assert.equal(t.stats().echoRtts, 1);
  t.incoming(new Uint8Array(10));
  t.outgoing(G_ECHO.subarray(0, 36));
});
