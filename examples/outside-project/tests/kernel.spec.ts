// Boot tests as a kernel developer writes them with vireo/playwright.
import { readFileSync } from "node:fs";
import { test, expect, Vm, guestImages } from "vireo/playwright";

// A kernel command line of the project's own (the kernel and initrd could be its own too:
// vmOptions.kernel / vmOptions.initrd take paths or bytes).
test.describe("own command line", () => {
  test.use({ vmOptions: { append: "console=ttyS0 tsc=reliable example.marker=42", memoryMiB: 96 } });

  test("the guest booted with it", async ({ vm }) => {
    const { output, exitStatus } = await vm.exec("cat /proc/cmdline");
    expect(exitStatus).toBe(0);
    expect(output).toContain("example.marker=42");
    expect((await vm.exec("grep MemTotal /proc/meminfo")).output).toMatch(/MemTotal:\s+\d+ kB/);
  });
});

test("the kernel and initrd given as bytes", async ({ vm }) => {
  const images = guestImages();
  await vm.boot({ kernel: readFileSync(images.kernel), initrd: readFileSync(images.initrd) });
  expect((await vm.exec("uname -m")).output).toBe("i686");
  await vm.powerOff();
});

// Boot once per worker, set the guest up, save it; each test resumes that state (no boot).
const fromState = test.extend<object, { prepared: Uint8Array }>({
  prepared: [async ({}, use) => {
    const vm = await Vm.start();
    await vm.exec("echo prepared > /tmp/setup && mkdir -p /tmp/work && cd /tmp/work");
    await use(await vm.snapshot());
    await vm.stop();
  }, { scope: "worker" }],
});

for (let i = 1; i <= 5; i++) {
  fromState(`resumed state, test ${i}`, async ({ vm, prepared }) => {
    await vm.boot({ state: prepared });
    // Each test sees the state as saved, never another test's changes.
    expect((await vm.exec(`cat /tmp/setup; pwd; ls`)).output).toBe("prepared\n/tmp/work");
    expect((await vm.exec(`echo test-${i} > mine; cat mine`)).output).toBe(`test-${i}`);
  });
}

// A failing boot test: the report gets the console transcript (the repository's test checks it).
test("a failure attaches the console transcript", async ({ vm }) => {
  test.fail();
  const { output } = await vm.exec("echo printed-before-failing");
  expect(output).toBe("something else");
});

// The same guest in the browser: the page the package ships, in the test's page.
test("in the browser", async ({ page, vm }) => {
  await vm.boot({ in: "browser", page, memoryMiB: 96 });
  const { output, exitStatus } = await vm.exec("uname -m; grep MemTotal /proc/meminfo");
  expect(exitStatus).toBe(0);
  expect(output).toMatch(/^i686\nMemTotal:\s+\d+ kB$/);
  await vm.powerOff();
});

// A failing test in the browser: its report gets the console and the inspector's snapshot too.
test("a failure in the browser attaches the inspector snapshot", async ({ page, vm }) => {
  test.fail();
  await vm.boot({ in: "browser", page, devices: [{ type: "rng", transport: "pci-modern" }] });
  expect((await vm.exec("echo in-the-page")).output).toBe("something else");
});
