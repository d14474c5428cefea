// The page's guest on the real network (?netbackend=wisp): the built-in host is its NAT gateway,
// and the NAT's outside is the Wisp relay that the page's own server hosts at wisp/. The test
// starts an HTTP server on this machine; the guest gets its address by DHCP, looks a name up
// through the NAT's DNS (answered with a stand-in address that the relay resolves) and fetches
// the server's page at 10.0.2.2 (this machine's loopback, which the relay allows a page opened
// from this machine) and by name.
import { createServer } from "node:http";
import { test, expect, type Vm } from "./fixtures.ts";

/** Bring eth0 up by DHCP from the NAT (busybox udhcpc with a script that applies the lease). */
async function dhcp(vm: Vm): Promise<void> {
  await vm.exec("echo '#!/bin/sh' > /tmp/d; echo '[ $1 = bound ] || exit 0' >> /tmp/d");
  await vm.exec("echo 'ifconfig $interface $ip netmask $subnet' >> /tmp/d");
  await vm.exec("echo 'route add default gw $router' >> /tmp/d");
  await vm.exec("echo 'echo nameserver $dns > /etc/resolv.conf' >> /tmp/d");
  await vm.exec("chmod +x /tmp/d; ifconfig eth0 up");
  expect(await vm.exec("udhcpc -i eth0 -q -n -t 5 -s /tmp/d", { timeoutMs: 60_000 })).toMatch(/lease of 10\.0\.2\.15 obtained/);
}

test("through the page's Wisp relay the guest fetches from an HTTP server on this machine, by address and by name; the inspector shows the NAT table", async ({ vm, page }) => {
  let release = () => {};
  const server = createServer((req, res) => {
    if (req.url !== "/wait") return res.end(`hello from the host: ${req.url}\n`);
    res.write("waiting\n");
    release = () => res.end("released\n");
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  const port = (server.address() as { port: number }).port;
  try {
    await vm.boot({ query: "net=pci-modern&netbackend=wisp" });
    await dhcp(vm);
    expect(await vm.exec(`wget -q -O - http://10.0.2.2:${port}/by-address`, { timeoutMs: 60_000 })).toContain("hello from the host: /by-address");
    // localhost, resolved by the relay: the guest sees a stand-in address from 198.18.0.0/15.
    expect(await vm.exec("nslookup localhost.", { timeoutMs: 30_000 })).toMatch(/Address: 198\.1[89]\./);
    expect(await vm.exec(`wget -q -O - http://localhost.:${port}/by-name`, { timeoutMs: 60_000 })).toContain("hello from the host: /by-name");
    // A connection held open shows in the inspector's NAT table beside the NIC.
    await vm.exec(`wget -q -O /tmp/w http://10.0.2.2:${port}/wait &`);
    await page.locator("#inspector-toggle").click();
    const nat = page.locator('.insp-device[data-device="virtio-net0"] [data-section="nat"]');
    // (The /by-address connection to the same remote may still be listed, closing: one row is the held one.)
    const held = nat.locator('[data-testid="nat-row"]', { hasText: `10.0.2.2:${port}` }).filter({ hasText: "ESTABLISHED" });
    await expect(held).toHaveCount(1, { timeout: 30_000 });
    release();
    await vm.exec("wait; cat /tmp/w", { timeoutMs: 30_000 });
    await page.locator("#inspector-toggle").click();
    // A private address is refused by the relay: a reset for the guest.
    expect(await vm.exec(`wget -q -O - http://10.255.255.1:${port}/; echo rc=$?`, { timeoutMs: 60_000 })).toMatch(/rc=1/);
    await vm.poweroff();
  } finally {
    server.close();
  }
});

test("with no relay (?netbackend=fetch) a guest's HTTP request to port 80 becomes the page's fetch(), CORS permitting", async ({ vm }, info) => {
  // Port 80 on this machine's loopback: a root CI can take it; elsewhere the test says why it skips.
  const server = createServer((req, res) => {
    const allow = req.url !== "/no-cors";
    if (allow) res.setHeader("Access-Control-Allow-Origin", "*");
    res.end(`fetched: ${req.url}\n`);
  });
  const listening = await new Promise<string | null>((ok) => {
    server.once("error", (e: NodeJS.ErrnoException) => ok(e.code ?? e.message));
    server.listen(80, "127.0.0.1", () => ok(null));
  });
  if (listening !== null) return info.skip(true, `port 80 on 127.0.0.1 is not free here (${listening})`);
  try {
    await vm.boot({ query: "disk=off&net=pci-modern&netbackend=fetch" });
    await dhcp(vm);
    expect(await vm.exec("wget -q -O - http://localhost./hello", { timeoutMs: 60_000 })).toContain("fetched: /hello");
    // Without the CORS header the browser keeps the answer from the page: the guest gets a 502 saying so.
    expect(await vm.exec("wget -O - http://localhost./no-cors 2>&1; echo rc=$?", { timeoutMs: 60_000 })).toMatch(/502 Bad Gateway[^]*rc=1/);
    // Another port: refused.
    expect(await vm.exec("wget -q -O - http://localhost.:8080/; echo rc=$?", { timeoutMs: 60_000 })).toMatch(/rc=1/);
    await vm.poweroff();
  } finally {
    server.close();
  }
});
