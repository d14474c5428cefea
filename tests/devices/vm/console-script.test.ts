import { test } from "node:test";
import assert from "node:assert/strict";
import { ConsoleScriptRunner } from "../../../devices/vm/console-script.ts";
import { READY_LINE } from "../../../devices/vm/config.ts";

test("commands are typed only at prompts after the ready line, then poweroff", () => {
  const s = new ConsoleScriptRunner({ cmds: ["echo a", "echo b"], ready: READY_LINE });
  assert.equal(s.observe("early boot vireo:/# "), null, "a prompt-like text before ready is ignored");
  assert.equal(s.observe(`${READY_LINE}\r\n`), null);
  assert.deepEqual(s.observe("vireo:/# "), { kind: "type", text: "echo a\n" });
  assert.equal(s.observe("echo a\r\n"), null, "the echo is not a prompt");
  assert.deepEqual(s.observe("a\r\nvireo:/# "), { kind: "type", text: "echo b\n" });
  assert.deepEqual(s.observe("echo b\r\nb\r\nvireo:/tmp# "), { kind: "type", text: "poweroff -f\n" });
  assert.equal(s.observe("vireo:/# "), null);
});

test("expect ends the script wherever the text appears, even split across writes", () => {
  const s = new ConsoleScriptRunner({ expect: "hello world", cmds: [], ready: READY_LINE });
  assert.equal(s.observe("xx hello wo"), null);
  assert.deepEqual(s.observe("rld yy"), { kind: "done", reason: "expect" });
  assert.equal(s.observe("hello world"), null);
});

test("no expect and no commands is an interactive session", () => {
  assert.equal(new ConsoleScriptRunner({ cmds: [], ready: READY_LINE }).idle, true);
});

test("a prompt followed by the line editor's cursor query is still a prompt", () => {
  const s = new ConsoleScriptRunner({ cmds: ["uname -m"], ready: READY_LINE });
  s.observe(`${READY_LINE}\r\n`);
  assert.deepEqual(s.observe("vireo:/# \x1b[6n"), { kind: "type", text: "uname -m\n" });
});

test("save: after the last command the script ends with 'save' at the prompt instead of typing poweroff", () => {
  const s = new ConsoleScriptRunner({ cmds: ["echo a"], ready: READY_LINE }, true);
  assert.equal(s.idle, false);
  assert.deepEqual(s.observe(`${READY_LINE}\nvireo:/# `), { kind: "type", text: "echo a\n" });
  assert.deepEqual(s.observe("a\nvireo:/# "), { kind: "done", reason: "save" });
  assert.equal(s.observe("vireo:/# "), null);
  // No commands: save at the first prompt.
  const bare = new ConsoleScriptRunner({ cmds: [], ready: READY_LINE }, true);
  assert.equal(bare.idle, false);
  assert.deepEqual(bare.observe(`${READY_LINE}\nvireo:/# `), { kind: "done", reason: "save" });
});

test("resumeAtPrompt: a machine saved at its prompt gets its first command at once, the rest at prompts", () => {
  const s = new ConsoleScriptRunner({ cmds: ["cat /tmp/x", "echo b"], ready: READY_LINE });
  assert.deepEqual(s.resumeAtPrompt(), { kind: "type", text: "cat /tmp/x\n" });
  assert.deepEqual(s.observe("vireo-42\nvireo:/# "), { kind: "type", text: "echo b\n" });
  assert.deepEqual(s.observe("b\nvireo:/# "), { kind: "type", text: "poweroff -f\n" });
  assert.equal(new ConsoleScriptRunner({ cmds: [], ready: READY_LINE }).resumeAtPrompt(), null, "interactive: nothing to type");
  assert.deepEqual(new ConsoleScriptRunner({ cmds: [], ready: READY_LINE }, true).resumeAtPrompt(), { kind: "done", reason: "save" });
});
