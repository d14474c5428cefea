// Two tabs of the page, each a guest with virtio-net on the tab backend (?net=T&netbackend=tab):
// their NICs share one Ethernet segment over a BroadcastChannel, with no server. Each guest
// takes a static address and pings the other; the round-trip times are printed. A third check
// boots one tab on the built-in host: DHCP, ping, and the host's web page.
import { test, expect, Vm } from "./fixtures.ts";

const wait = (ip: string) => `until ping -c 1 -W 1 ${ip} >/dev/null; do :; done`;

test("two tabs, one segment: the guests ping each other and talk over nc", async ({ vm, context }) => {
  const other = new Vm(await context.newPage());
  // Different transports in the two tabs: the link does not care. No data disk: one tab owns it.
  await Promise.all([
    vm.boot({ query: "disk=off&net=pci-modern&netbackend=tab" }),
    other.boot({ query: "disk=off&net=mmio-v2&netbackend=tab" }),
  ]);
  await vm.exec("ifconfig eth0 10.0.9.1 netmask 255.255.255.0 up");
  await other.exec("ifconfig eth0 10.0.9.2 netmask 255.255.255.0 up");
  await vm.exec(wait("10.0.9.2"), { timeoutMs: 60_000 });
  const [a, b] = await Promise.all([vm.exec("ping -c 3 10.0.9.2", { timeoutMs: 60_000 }), other.exec("ping -c 3 10.0.9.1", { timeoutMs: 60_000 })]);
  // A loaded host can stretch guest time past busybox ping's wait for the last reply; the
  // strict count is taken at the NIC below.
  for (const out of [a, b]) expect(out).toMatch(/3 packets transmitted, [1-3] packets received/);
  console.log(`tab 1 → tab 2: ${/round-trip .*/.exec(a)?.[0]}`);
  console.log(`tab 2 → tab 1: ${/round-trip .*/.exec(b)?.[0]}`);
  // TCP across the tabs: busybox nc, a listener in tab 2 and a client in tab 1.
  await other.exec("nc -l -p 5555 > /tmp/got &");
  await vm.exec("until echo hello-over-tabs | nc 10.0.9.2 5555; do sleep 1; done", { timeoutMs: 60_000 });
  await other.exec("wait");
  expect(await other.exec("cat /tmp/got")).toBe("hello-over-tabs");
  await other.poweroff();
  await vm.poweroff();
  // The same round trips on the host's clock, NIC to NIC through the BroadcastChannel.
  for (const [name, v] of [["tab 1", vm], ["tab 2", other]] as const) {
    const s = ((await v.exitStats())!.stats.virtio as Record<string, Record<string, number>>)["virtio-net0"]!;
    expect(s.echoRtts).toBeGreaterThanOrEqual(3);
    console.log(`${name}: host wall clock ${s.echoRtts} echoes min/avg/max = ${[s.echoRttMinUs, s.echoRttAvgUs, s.echoRttMaxUs].map((us) => (us! / 1000).toFixed(3)).join("/")} ms`);
  }
});

test("one tab on the built-in host: DHCP lease, ping, the host's page", async ({ vm }) => {
  await vm.boot({ query: "net=pci-modern&netbackend=host" });
  await vm.exec("echo '#!/bin/sh' > /tmp/d");
  await vm.exec("echo '[ $1 = bound ] && ifconfig $interface $ip netmask $subnet' >> /tmp/d");
  await vm.exec("chmod +x /tmp/d; ifconfig eth0 up");
  expect(await vm.exec("udhcpc -i eth0 -q -n -t 5 -s /tmp/d", { timeoutMs: 60_000 })).toMatch(/lease of 10\.0\.2\.15 obtained/);
  expect(await vm.exec("ping -c 2 10.0.2.2", { timeoutMs: 30_000 })).toContain("2 packets received");
  expect(await vm.exec("wget -q -O - http://10.0.2.2/")).toContain("Hello from the Vireo host");
  await vm.poweroff();
});

test("the inspector shows virtio-net: its features by name, and the receive queue's used index moving with ping", async ({ vm, page }) => {
  await vm.boot({ query: "disk=off&net=mmio-v2&netbackend=host" });
  await page.locator("#inspector-toggle").click();
  const net = page.locator('.insp-device[data-device="virtio-net0"]');
  await expect(net.locator('tr[data-feature="VIRTIO_NET_F_MRG_RXBUF"]')).toHaveAttribute("data-accepted", "1");
  await expect(net.locator('tr[data-feature="VIRTIO_NET_F_CTRL_RX"]')).toHaveAttribute("data-accepted", "1");
  const used = net.locator('[data-testid="used-idx"][data-queue="0"]');
  await expect(used).toBeVisible();
  const before = Number(await used.textContent());
  await vm.exec("ifconfig eth0 10.0.2.15 up; ping -c 2 10.0.2.2", { timeoutMs: 30_000 });
  await expect.poll(async () => Number(await used.textContent()), { timeout: 10_000 }).toBeGreaterThan(before);
  await vm.poweroff();
});

