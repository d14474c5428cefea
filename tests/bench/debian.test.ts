// The debian bench section's reading of systemd-analyze's summary (systemd 252's wording).
import { test } from "node:test";
import assert from "node:assert/strict";
import { systemdTimes } from "../../bench/debian.ts";

test("systemdTimes reads the total and the default target's userspace time, minutes included", () => {
  assert.deepEqual(systemdTimes("Startup finished in 27.497s (kernel) + 1min 30.656s (userspace) = 1min 58.154s \ngraphical.target reached after 1min 4.500s in userspace.\n"),
    { total: 118.154, multiUser: 64.5 });
  assert.deepEqual(systemdTimes("Startup finished in 1.2s (kernel) + 3.4s (initrd) + 10.5s (userspace) = 15.100s \nmulti-user.target reached after 950ms in userspace.\n"),
    { total: 15.1, multiUser: 0.95 });
  assert.equal(systemdTimes("Bootup is not yet finished (org.freedesktop.systemd1.Manager.FinishTimestampMonotonic=0).\n"), null);
});
