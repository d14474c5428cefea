// Headless boot with virtio-net on the user-mode NAT (backend=nat, devices/net/nat.ts): the
// guest gets its address, router and resolver by DHCP, fetches a page from an HTTP server this
// test runs on 127.0.0.1 (the gateway 10.0.2.2 is the host machine), sees a host socket that
// breaks mid-answer end its wget with an error, resolves a name through the NAT's DNS
// (10.0.2.3, answered from this machine's resolver; an A query only: "localhost" has no AAAA
// in /etc/hosts, and asking the network for one may take seconds where there is no network), and serves a page with busybox httpd that
// a client here reaches through a forwarded port. The CLI runs as a child process (its NAT needs
// this machine's sockets; the test's servers need this process's event loop).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { listen, get } from "../host-http.ts";
import { createServer as createNetServer } from "node:net";
import { lookup } from "node:dns/promises";
import { outputOf } from "./virtio-boot.ts";

const root = new URL("../../", import.meta.url).pathname;
const PAGE = "page from the host, through the NAT\n";

test("virtio-net on the NAT: DHCP with router and resolver, a host page, a broken host socket, DNS, a forwarded port into the guest's httpd", { timeout: 180_000 }, async () => {
  let release: (v: string) => void = () => {};
  const forwarded = new Promise<string>((r) => (release = r));
  const server = createServer((req, res) => {
    if (req.url === "/page") return void res.end(PAGE);
    if (req.url === "/broken") {
      res.writeHead(200, { "content-length": "100000" });
      res.write("x".repeat(1000));
      return void setTimeout(() => req.socket.destroy(), 50);
    }
    if (req.url === "/wait") return void forwarded.then((body) => res.end(body));
    res.statusCode = 404;
    res.end();
  });
  const port = await listen(server);
  // A free port for the forward (taken and given back: the CLI listens on it next).
  const probe = createNetServer();
  const fwd = await listen(probe);
  await new Promise((r) => probe.close(r));

  // The busybox shell wraps echoed lines at 80 columns: short commands.
  const cmds = [
    "echo '#!/bin/sh' > /tmp/d; echo '[ $1 = bound ] || exit 0' >> /tmp/d",
    "echo 'ifconfig $interface $ip netmask $subnet' >> /tmp/d",
    "echo 'route add default gw $router' >> /tmp/d",
    "echo 'echo nameserver $dns > /etc/resolv.conf' >> /tmp/d",
    "chmod +x /tmp/d; ifconfig eth0 up",
    "udhcpc -i eth0 -q -n -t 5 -s /tmp/d",
    `wget -q -O - http://10.0.2.2:${port}/page`,
    `wget -q -O /dev/null http://10.0.2.2:${port}/broken; echo rc=$?`,
    "nslookup -type=a localhost",
    "mkdir /tmp/www; echo guest-page > /tmp/www/index.html",
    "httpd -p 80 -h /tmp/www; echo httpd-$((6*7))-up",
    `wget -q -O - http://10.0.2.2:${port}/wait`,
  ];
  const child = spawn(process.execPath, [
    "--import", "tsx", "cli/boot.ts", "--timeout", "150", "--stats",
    "--device", `net,transport=pci-modern,backend=nat,forward=tcp:${fwd}-:80`,
    ...cmds.flatMap((c) => ["--cmd", c]),
  ], { cwd: root });
  let out = "", err = "";
  let fetched: Promise<string> | null = null;
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    // The guest's httpd is up: fetch its page through the forwarded port, then let the guest go on.
    if (!fetched && out.includes("httpd-42-up")) {
      fetched = get(`http://127.0.0.1:${fwd}/`).then((body) => (release(`forward-${body}`), body), (e: Error) => (release("forward-failed"), `failed: ${e.message}`));
    }
  });
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  server.close();
  out = out.replace(/\r/g, "");
  assert.equal(code, 0, `exit ${code}\n${err}\n${out.slice(-3000)}`);

  assert.match(outputOf(out, cmds[5]!), /lease of 10\.0\.2\.15 obtained from 10\.0\.2\.2/);
  assert.equal(outputOf(out, cmds[6]!), PAGE);
  // busybox wget: the connection ended before Content-Length's bytes → an error exit.
  assert.match(outputOf(out, cmds[7]!), /rc=1\n$/);
  const ns = outputOf(out, cmds[8]!);
  assert.match(ns, /^Server:\s+10\.0\.2\.3\n/);
  const host = await lookup("localhost", { family: 4 });
  assert.match(ns, new RegExp(`Name:\\s+localhost\\nAddress:\\s+${host.address.replace(/\./g, "\\.")}\\n`));
  assert.ok(fetched, "the guest's httpd came up");
  assert.equal(await fetched, "guest-page\n");
  assert.equal(outputOf(out, cmds[11]!), "forward-guest-page\n");

  const stats = JSON.parse(out.trim().split("\n").pop()!);
  const nat = stats.nat["virtio-net0"];
  assert.equal(nat.malformed, 0);
  assert.equal(nat.natTcpForwarded, 1);
  assert.ok(nat.natDnsQueries >= 1, JSON.stringify(nat));
  assert.equal(stats.virtio["virtio-net0"].rxDropped, 0);
});
