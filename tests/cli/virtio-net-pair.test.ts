// Two VMs in one process with their virtio-nets back to back (cli/vm-pair.ts), each on a
// different transport: each configures a static address, waits until the other answers, pings
// it three times, and then they talk over TCP with busybox nc. Realtime clock; the round-trip
// times printed are the guests' own (ping) and the host's wall clock, NIC to NIC (--stats).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseOptions, type CliOptions } from "../../cli/options.ts";
import { bootPair } from "../../cli/vm-pair.ts";
import { outputOf } from "./virtio-boot.ts";

function vm(cmds: string[]) {
  const o = parseOptions(["--clock", "realtime", ...cmds.flatMap((c) => ["--cmd", c])]) as CliOptions;
  return o.vm;
}

const PAIRS: [string, string][] = [["pci-modern", "mmio-v1"], ["pci-legacy", "mmio-v2"], ["pci-transitional", "pci-modern"]];

for (const [ta, tb] of PAIRS) {
  test(`two VMs back to back (${ta} ↔ ${tb}): ping each other, nc a line across`, async () => {
    const wait = (ip: string) => `until ping -c 1 -W 1 ${ip} >/dev/null; do :; done`;
    const a = ["ifconfig eth0 10.0.0.1 netmask 255.255.255.0 up", wait("10.0.0.2"), "ping -c 3 10.0.0.2", "nc -l -p 5555"];
    const b = ["ifconfig eth0 10.0.0.2 netmask 255.255.255.0 up", wait("10.0.0.1"), "ping -c 3 10.0.0.1",
      "until echo hello-from-b | nc 10.0.0.1 5555; do sleep 1; done"];
    const r = await bootPair([vm(a), vm(b)], [{ transport: ta as "pci-modern", mac: "02:76:69:72:65:01" }, { transport: tb as "pci-modern", mac: "02:76:69:72:65:02" }], 240);
    const [oa, ob] = r.out.map((s) => s.replace(/\r/g, ""));
    assert.deepEqual(r.exits.map((e) => e.reason), ["poweroff", "poweroff"], `${r.logs.join("\n")}\n--- a\n${oa!.slice(-2000)}\n--- b\n${ob!.slice(-2000)}`);
    for (const [name, out, cmd] of [["a", oa!, a[2]!], ["b", ob!, b[2]!]] as const) {
      const ping = outputOf(out, cmd);
      // busybox ping waits for the last reply only ~2× the slowest round trip so far (at least
      // 1 s) of guest time, and a heavily loaded host can stretch guest time past that (the
      // realtime clock catches up after a halt); the NIC-side count below is the strict check.
      assert.match(ping, /3 packets transmitted, [1-3] packets received/, `${name}: ${ping}`);
      console.log(`${ta} ↔ ${tb}, vm ${name}: ${/round-trip .*/.exec(ping)?.[0]}`);
    }
    assert.equal(outputOf(oa!, a[3]!), "hello-from-b\n");
    // The same round trips on the host's clock, NIC to NIC (devices/net/echo-timer.ts).
    r.exits.forEach((e, i) => {
      const s = (e.stats.virtio as Record<string, Record<string, number>>)["virtio-net0"]!;
      assert.ok(s.echoRtts! >= 4, `vm ${"ab"[i]}: ${JSON.stringify(s)}`); // the wait loop's reply + all three
      console.log(`${ta} ↔ ${tb}, vm ${"ab"[i]}: host wall clock ${s.echoRtts} echoes min/avg/max = ${[s.echoRttMinUs, s.echoRttAvgUs, s.echoRttMaxUs].map((us) => (us! / 1000).toFixed(3)).join("/")} ms`);
    });
  });
}
