// The console as searchable text: what a terminal would show, whatever the batch boundaries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConsoleText, TRANSCRIPT_MAX, atPrompt, commandOutput, execLine, STATUS_RE, DEFAULT_PROMPT } from "../../../lib/common/console-text.ts";
import { DEVICE_TYPES } from "../../../devices/registry.ts";
import type { DeviceTypeName } from "../../../lib/common/options.ts";

const enc = (s: string) => new TextEncoder().encode(s);

test("escape sequences, CRLF and UTF-8 split across batches come out as one clean text", () => {
  const whole = "vireo:/# \x1b[6nls\r\nbin  \x1b[1;34metc\x1b[0m\r\nµs\r\n";
  const bytes = enc(whole);
  for (let cut = 1; cut < bytes.length; cut++) {
    const c = new ConsoleText();
    c.push(bytes.subarray(0, cut));
    c.push(bytes.subarray(cut));
    assert.equal(c.text, "vireo:/# ls\nbin  etc\nµs\n", `cut at ${cut}`);
  }
});

test("the transcript is bounded; offsets stay absolute", () => {
  const c = new ConsoleText();
  const line = "x".repeat(1023) + "\n";
  const n = Math.ceil(TRANSCRIPT_MAX / line.length) + 10;
  for (let i = 0; i < n; i++) c.push(enc(line));
  assert.ok(c.text.length <= TRANSCRIPT_MAX);
  assert.equal(c.end, n * line.length);
  assert.equal(c.from(c.end - 5), "xxxx\n");
});

test("a command's output is what follows its echo, up to the status; kernel lines left out", () => {
  const line = execLine("ls /x");
  const echo = line.replace(/\n$/, "\n");
  const after = `${echo}ls: /x: No such file\n[   12.345678] random: crng init done\n\x1e1\x1e\nvireo:/# `;
  const m = STATUS_RE.exec(after)!;
  assert.equal(m[1], "1");
  assert.equal(commandOutput(after, m.index, false), "ls: /x: No such file");
  assert.equal(commandOutput(after, m.index, true), "ls: /x: No such file\n[   12.345678] random: crng init done");
  // The echo never matches the status pattern: it holds the printf's format, not digits.
  assert.equal(STATUS_RE.exec(echo), null);
  assert.ok(atPrompt(after, DEFAULT_PROMPT));
  // printk knows nothing of the shell's line: its line follows the prompt directly.
  assert.ok(atPrompt("vireo:/# [    1.0] late kernel line\n", DEFAULT_PROMPT));
});

test("the public device type names are the registry's", () => {
  const names: DeviceTypeName[] = ["blk", "console", "rng", "balloon", "input", "net", "9p"];
  assert.deepEqual(DEVICE_TYPES.map((t) => t.name).sort(), [...names].sort());
});
