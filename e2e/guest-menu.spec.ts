// The guest menu (web/controls.ts from the guest table, devices/vm/guests.ts): it lists every
// guest of the table, `?guest=NAME` picks one, and the default guest stays the default. A guest
// whose files are not built (Debian, in CI) fails its power-on with the command that builds it.
import { existsSync } from "node:fs";
import { test, expect } from "./fixtures.ts";
import { GUEST_SPECS } from "../devices/vm/guests.ts";

const distroBuilt = existsSync(new URL("../dist/guest-images/debian/vmlinuz", import.meta.url));

test("the guest menu offers the guest table's guests; ?guest= picks one; the default stays the default", async ({ vm, page }) => {
  await vm.open();
  const options = await page.locator("#guest option").evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]));
  expect(options).toEqual(GUEST_SPECS.map((g) => [g.name, g.label]));
  await expect(page.locator("#guest")).toHaveValue("default");
  expect(new URL(page.url()).searchParams.has("guest"), "the default is left out of the address").toBe(false);

  await vm.open({ query: "guest=debian" });
  await expect(page.locator("#guest")).toHaveValue("debian");
  await page.selectOption("#guest", "default");
  expect(new URL(page.url()).searchParams.has("guest")).toBe(false);
  await page.selectOption("#guest", "debian");
  expect(new URL(page.url()).searchParams.get("guest")).toBe("debian");
  if (!distroBuilt) {
    await page.evaluate(() => window.vireo!.boot().catch(() => {}));
    await expect(page.locator("#status")).toContainText("Debian 12 (systemd): cannot load");
    await expect(page.locator("#status")).toContainText("guest-images/build.sh --distro debian");
  }
});
