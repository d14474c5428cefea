// The relay's address classes (cli/relay-policy.ts), from the registries that define them:
// RFC 1918 private ranges, RFC 6598 shared space, RFC 3927 / RFC 4291 link-local, RFC 4193
// unique local, loopback, and the reserved ranges that are never reached.
import { test } from "node:test";
import assert from "node:assert/strict";
import { addressClass, parseAllow, refusal } from "../../cli/relay-policy.ts";

test("address classes", () => {
  const cases: [string, string | null][] = [
    ["127.0.0.1", "loopback"], ["127.255.255.254", "loopback"], ["::1", "loopback"],
    ["10.0.0.1", "private"], ["172.16.0.1", "private"], ["172.31.255.255", "private"], ["192.168.1.1", "private"],
    ["100.64.0.1", "private"], ["100.127.255.255", "private"], ["fd00::1", "private"], ["fc00::", "private"],
    ["169.254.169.254", "link-local"], ["fe80::1", "link-local"], ["fe80::1%eth0", "link-local"],
    ["0.0.0.0", "reserved"], ["224.0.0.1", "reserved"], ["239.255.255.250", "reserved"], ["255.255.255.255", "reserved"],
    ["::", "reserved"], ["ff02::1", "reserved"], ["not an address", "reserved"],
    // IPv4-mapped IPv6 is judged by its IPv4 address, in either spelling
    ["::ffff:127.0.0.1", "loopback"], ["::ffff:7f00:1", "loopback"], ["::ffff:10.1.2.3", "private"], ["::ffff:8.8.8.8", null],
    // public: just outside each private range
    ["8.8.8.8", null], ["172.15.255.255", null], ["172.32.0.0", null], ["100.128.0.0", null], ["169.253.0.1", null],
    ["11.0.0.1", null], ["2606:4700:4700::1111", null], ["fec0::1", null],
  ];
  for (const [ip, cls] of cases) assert.equal(addressClass(ip), cls, ip);
});

test("refusal: allowed classes pass, reserved ones never do", () => {
  const none = new Set<never>();
  assert.equal(refusal("8.8.8.8", none), null);
  assert.equal(refusal("127.0.0.1", none), "a loopback address");
  assert.equal(refusal("127.0.0.1", new Set(["loopback"])), null);
  assert.equal(refusal("10.0.0.1", new Set(["loopback"])), "a private address");
  assert.equal(refusal("0.0.0.0", new Set(["loopback", "private", "link-local"])), "a reserved address");
});

test("parseAllow", () => {
  assert.deepEqual(parseAllow("loopback, private"), new Set(["loopback", "private"]));
  assert.deepEqual(parseAllow(""), new Set());
  assert.match(parseAllow("reserved") as string, /'reserved' is not one of/);
});
