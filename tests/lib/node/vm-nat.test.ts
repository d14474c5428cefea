// The library's Vm with a NIC on the user-mode NAT (backend=nat): the NAT runs on the thread
// that made the Vm, so the guest reaches a server in this very process through the gateway
// 10.0.2.2 (this machine), and a forwarded host port reaches the guest's busybox httpd.
// Expected values are what the test's server sent and what the guest's httpd serves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { listen, get } from "../../host-http.ts";
import { createServer as createNetServer } from "node:net";
import { Vm, VmOptionsError } from "../../../lib/node/index.ts";

const PAGE = "page from the host, through the library's NAT";

test("a Vm with backend=nat: DHCP from the NAT, a page from this process, a forwarded port into the guest, NAT counters in the exit stats", { timeout: 300_000 }, async (t) => {
  const server = createServer((_req, res) => res.end(PAGE));
  const port = await listen(server);
  t.after(() => server.close());
  const probe = createNetServer();
  const fwd = await listen(probe); // a free port, given back for the NAT to listen on
  await new Promise((r) => probe.close(r));

  const vm = new Vm({ devices: [{ type: "net", transport: "pci-modern", backend: "nat", forward: `tcp:${fwd}-:80` }] });
  t.after(() => (vm.running ? vm.stop().then(() => {}) : undefined));
  await vm.start();
  const boot = { timeout: 180_000 };
  // busybox wraps echoed lines at 80 columns: short commands.
  await vm.exec("echo '#!/bin/sh' > /tmp/d; echo '[ $1 = bound ] || exit 0' >> /tmp/d", boot);
  await vm.exec("echo 'ifconfig $interface $ip netmask $subnet' >> /tmp/d");
  await vm.exec("echo 'route add default gw $router' >> /tmp/d; chmod +x /tmp/d");
  const dhcp = await vm.exec("ifconfig eth0 up; udhcpc -i eth0 -q -n -t 5 -s /tmp/d");
  assert.equal(dhcp.exitStatus, 0, dhcp.output);
  assert.match(dhcp.output, /lease of 10\.0\.2\.15 obtained from 10\.0\.2\.2/);
  assert.deepEqual(await vm.exec(`wget -q -O - http://10.0.2.2:${port}/`), { output: PAGE, exitStatus: 0 });
  await vm.exec("mkdir /tmp/www; echo guest-page > /tmp/www/index.html; httpd -p 80 -h /tmp/www");
  assert.equal(await get(`http://127.0.0.1:${fwd}/`), "guest-page\n");
  // The forwarded port is the NAT's while the VM runs: a second VM cannot have it.
  const second = new Vm({ devices: [`net,transport=mmio-v2,backend=nat,forward=tcp:${fwd}-:80`] });
  await assert.rejects(second.start(), VmOptionsError);
  assert.equal(second.running, false);

  const exit = await vm.powerOff();
  assert.equal(exit.reason, "poweroff");
  const nat = (exit.stats.nat as Record<string, Record<string, number>>)["virtio-net0"]!;
  assert.equal(nat.natTcpForwarded, 1, JSON.stringify(nat));
  assert.equal(nat.malformed, 0);
  // Closed with the VM: the forwarded port is free again.
  const again = createNetServer();
  await new Promise<void>((resolve, reject) => again.once("error", reject).listen(fwd, "127.0.0.1", resolve));
  await new Promise((r) => again.close(r));
});
