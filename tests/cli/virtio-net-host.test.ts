// Headless boot with virtio-net on the built-in host (devices/net/host-stack.ts), once per
// transport: busybox udhcpc gets 10.0.2.15 from the host's DHCP server, ping reaches the host,
// wget fetches its page. The guest has no udhcpc script, so the test writes a minimal one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { boot, outputOf } from "./virtio-boot.ts";
import { DEFAULT_PAGE } from "../../devices/net/http.ts";

const CMDS = [
  "echo '#!/bin/sh' > /tmp/d",
  "echo '[ $1 = bound ] && ifconfig $interface $ip netmask $subnet' >> /tmp/d",
  "chmod +x /tmp/d; ifconfig eth0 up",
  "udhcpc -i eth0 -q -n -t 5 -s /tmp/d",
  "ifconfig eth0 | grep 'inet '",
  "ping -c 3 10.0.2.2",
  "wget -q -O - http://10.0.2.2/",
];

const CASES: { transport: string; name: string; args?: string[]; irq?: string }[] = [
  ...["pci-modern", "pci-legacy", "pci-transitional", "mmio-v1", "mmio-v2"].map((t) => ({ transport: t, name: t })),
  // The APIC board with MSI-X: receiveq and transmitq each get their own vector.
  { transport: "pci-modern", name: "pci-modern MSI-X (APIC board)", args: ["--kernel", "guest-images/bzImage-apic", "--apic"], irq: "msix" },
];

for (const { transport, name, args = [], irq } of CASES) {
  test(`virtio-net ${name}, built-in host: DHCP lease, ping, wget`, () => {
    const r = boot([
      ...args, "--clock", "deterministic", "--stats",
      "--device", `net,transport=${transport},backend=host${irq ? `,irq=${irq}` : ""}`,
      ...CMDS.flatMap((c) => ["--cmd", c]),
    ], 180);
    assert.equal(r.code, 0, `exit ${r.code}\n${r.err}\n${r.out.slice(-3000)}`);
    assert.match(outputOf(r.out, CMDS[3]!), /lease of 10\.0\.2\.15 obtained from 10\.0\.2\.2/);
    assert.match(outputOf(r.out, CMDS[4]!), /inet addr:10\.0\.2\.15 +Bcast:\S+ +Mask:255\.255\.255\.0/);
    const ping = outputOf(r.out, CMDS[5]!);
    assert.match(ping, /3 packets transmitted, 3 packets received, 0% packet loss/);
    const rtt = /round-trip min\/avg\/max = ([\d.\/]+) ms/.exec(ping)?.[1];
    console.log(`${name}: guest → built-in host ping min/avg/max ${rtt} ms (deterministic clock)`);
    assert.equal(outputOf(r.out, CMDS[6]!), DEFAULT_PAGE);
    const s = JSON.parse(r.out.trim().split("\n").pop()!).virtio["virtio-net0"];
    assert.equal(s.transport, transport);
    assert.equal(s.malformed, 0);
    assert.equal(s.txDropped, 0);
    assert.equal(s.rxDropped, 0);
    assert.equal(s.tcpClosed, 1);
    // The driver set its receive filter through the control queue (promiscuous off, MAC tables).
    assert.ok(s.ctrlCommands >= 2, JSON.stringify(s));
    assert.equal(s.ctrlErrors, 0);
  });
}
