// The library's Node API against the default guest: commands with their output and exit
// status, waits, keys, events, snapshots resumed, and the failures a test must tell apart.
// Expected values come from the guest's own tools (busybox's uname, sh's $?), not from the API.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { GuestPanic, Vm, VmOptionsError, VmStopped, VmTimeout, guestImages, type VmExit } from "../../../lib/node/index.ts";

/** For the first wait of each VM, its boot: generous, as the CLI tests are, for a loaded CI machine. */
const BOOT = { timeout: 180_000 };

/** A VM stopped when the test ends, passed or not (a running VM's worker keeps the process alive). */
function owned(t: TestContext, vm: Vm): Vm {
  t.after(() => vm.running ? vm.stop().then(() => {}) : undefined);
  return vm;
}

test("exec returns what a command printed and its exit status; waitFor, sendKeys, events, stats, powerOff", { timeout: 400_000 }, async (t) => {
  const vm = owned(t, new Vm());
  const seen: string[] = [];
  vm.on("console", (t) => seen.push(t));
  let exitEvent: VmExit | null = null;
  vm.on("exit", (e) => (exitEvent = e));
  await vm.start();
  // A RegExp is matched as output arrives: its end is anchored to a newline to see a whole line.
  assert.equal(await vm.waitFor(/vireo-guest: \w+\n/, BOOT), "vireo-guest: ready\n");
  assert.deepEqual(await vm.exec("uname -m"), { output: "i686", exitStatus: 0 });
  assert.deepEqual(await vm.exec("false"), { output: "", exitStatus: 1 });
  assert.deepEqual(await vm.exec("sh -c 'exit 7'"), { output: "", exitStatus: 7 });
  // stderr shows on the console too; output without a final newline still ends before the status.
  assert.deepEqual(await vm.exec("echo -n out; echo err >&2"), { output: "outerr", exitStatus: 0 });
  assert.deepEqual(await vm.exec("printf 'a\\nb\\n\\n'"), { output: "a\nb\n", exitStatus: 0 });
  assert.deepEqual(await vm.exec("ls /nonexistent"), { output: "ls: /nonexistent: No such file or directory", exitStatus: 1 });
  // Typed keys reach the shell as typed: a line in two pieces, then Enter.
  await vm.sendKeys("echo typed-$((6");
  await vm.sendKeys("*7))\n");
  assert.equal(await vm.waitFor("typed-42"), "typed-42");
  await vm.waitForPrompt();
  assert.deepEqual(await vm.exec("echo next"), { output: "next", exitStatus: 0 });
  const live = vm.stats();
  assert.ok(live.running && live.instructions > 10e6, JSON.stringify(live));
  assert.ok(seen.join("").includes("vireo-guest: ready"));
  const exit = await vm.powerOff();
  assert.equal(exit.reason, "poweroff");
  assert.ok(exit.stats.instructions >= live.instructions);
  assert.equal(exitEvent, exit);
  assert.equal(vm.running, false);
  await assert.rejects(vm.exec("true"), VmStopped);
});

test("a snapshot of a running VM resumes with its files and shell, and the first VM runs on", { timeout: 400_000 }, async (t) => {
  const vm = owned(t, await Vm.start());
  await vm.exec("echo vireo-$((6*7)) > /tmp/x; cd /tmp", BOOT);
  const state = await vm.snapshot();
  // The original goes on after the save.
  assert.deepEqual(await vm.exec("cat x"), { output: "vireo-42", exitStatus: 0 });
  await vm.stop();
  const resumed = owned(t, await Vm.start({ state }));
  // No boot: the first command is typed at the prompt the state was saved at.
  const r = await resumed.exec("cat x; pwd");
  assert.deepEqual(r, { output: "vireo-42\n/tmp", exitStatus: 0 });
  assert.doesNotMatch(resumed.transcript, /Linux version/);
  assert.equal((await resumed.stop()).reason, "stopped");
});

test("a guest kernel panic fails the waiting call with GuestPanic and the transcript", { timeout: 400_000 }, async (t) => {
  const vm = owned(t, await Vm.start());
  const e = await vm.exec("echo c > /proc/sysrq-trigger", BOOT).then(() => null, (x: unknown) => x);
  assert.ok(e instanceof GuestPanic, String(e));
  assert.match(e.panicLine, /Kernel panic - not syncing: sysrq triggered crash/);
  assert.match(e.transcript, /vireo-guest: ready/);
  assert.equal((await vm.exited).reason, "panic");
});

test("a wait that is not answered fails with VmTimeout, and the VM runs on", { timeout: 400_000 }, async (t) => {
  const vm = owned(t, await Vm.start());
  await vm.waitForPrompt(BOOT);
  await assert.rejects(vm.waitFor("never printed", { timeout: 300 }), VmTimeout);
  assert.ok(vm.running);
  await vm.stop();
});

test("options are checked before anything runs: one VmOptionsError each", () => {
  assert.throws(() => new Vm({ memoryMiB: 8 }), (e) => e instanceof VmOptionsError && /--mem must be a whole number of MiB from 16 to 2000/.test(e.message));
  assert.throws(() => new Vm({ devices: [{ type: "blk", transport: "pci-modern" }] }), (e) => e instanceof VmOptionsError && /blk needs image=FILE/.test(e.message));
  assert.throws(() => new Vm({ devices: [{ type: "input", transport: "pci-legacy" }] }), VmOptionsError);
  assert.throws(() => new Vm({ kernel: guestImages().initrd }), (e) => e instanceof VmOptionsError && /bzImage|boot/.test(e.message));
  assert.throws(() => new Vm({ state: new Uint8Array(100) }), VmOptionsError);
  assert.throws(() => new Vm({ state: "/nonexistent.vmstate" }), (e) => e instanceof VmOptionsError && /cannot read state file/.test(e.message));
  // A device as an object or in --device form is the same device.
  assert.doesNotThrow(() => new Vm({ devices: [{ type: "rng", transport: "mmio-v2" }, "console,transport=pci-modern"] }));
});
