// The run/pause/step state machine (devices/vm/run-mode.ts) against a recording board and
// inspector: what each host run word (RUN_GO / RUN_PAUSE / RUN_STEP) does from each state, and
// that a step ends at the next virtqueue event with the host's word moved from STEP to PAUSE.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CTL_RUN, CTL_WORDS, ControlPort, RUN_GO, RUN_PAUSE, RUN_STEP } from "../../../devices/vm/control.ts";
import { RunModeMachine } from "../../../devices/vm/run-mode.ts";
import type { PcBoard } from "../../../devices/board/pc.ts";
import type { BoardInspector } from "../../../devices/inspect/board-inspector.ts";

function setup() {
  const calls: string[] = [];
  let hook: ((notify: boolean) => boolean) | null = null;
  const board = {
    clock: { pause: () => calls.push("clock.pause"), resume: () => calls.push("clock.resume") },
    requestStop: () => calls.push("requestStop"),
  } as unknown as PcBoard;
  const inspector = {
    watchEvents: (f: ((notify: boolean) => boolean) | null) => { hook = f; calls.push(f ? "watch" : "unwatch"); },
    releaseHeldKicks: () => calls.push("release"),
  } as unknown as BoardInspector;
  const sab = new SharedArrayBuffer(CTL_WORDS * 4);
  const port = new ControlPort(sab);
  const m = new RunModeMachine({ board: () => board, inspector: () => inspector, snapshot: (stepped) => calls.push(stepped ? "snapshot(stepped)" : "snapshot") }, port);
  const event = (notify: boolean) => hook!(notify);
  return { m, calls, port, event };
}

test("running → paused: one snapshot and the clock stopped; further looks wait; an inspect while paused snapshots", () => {
  const { m, calls } = setup();
  assert.equal(m.next(RUN_GO, false), "run");
  assert.equal(m.mode, "running");
  assert.equal(m.next(RUN_PAUSE, false), "wait");
  assert.equal(m.mode, "paused");
  assert.equal(m.next(RUN_PAUSE, false), "wait");
  assert.equal(m.next(RUN_PAUSE, true), "wait");
  assert.deepEqual(calls, ["clock.pause", "snapshot", "snapshot"]);
  calls.length = 0;
  assert.equal(m.next(RUN_GO, false), "run");
  assert.deepEqual(calls, ["clock.resume", "release"]);
  assert.equal(m.mode, "running");
});

test("a step from pause: the held notify is released, the next event stops the vCPU, and the loop pauses with a stepped snapshot", () => {
  const { m, calls, port, event } = setup();
  m.next(RUN_PAUSE, false);
  calls.length = 0;
  port.words[CTL_RUN] = RUN_STEP;
  assert.equal(m.next(RUN_STEP, false), "run");
  assert.equal(m.mode, "stepping");
  assert.deepEqual(calls, ["watch", "clock.resume", "release"]);
  calls.length = 0;
  assert.equal(event(true), true, "a notify is held");
  assert.equal(m.stepEnded, true);
  assert.deepEqual(calls, ["requestStop"]);
  calls.length = 0;
  assert.equal(m.next(RUN_STEP, false), "again");
  assert.deepEqual(calls, ["unwatch", "clock.pause", "snapshot(stepped)"]);
  assert.equal(port.words[CTL_RUN], RUN_PAUSE, "the host's STEP became PAUSE");
  assert.equal(m.mode, "paused");
  assert.equal(m.stepEnded, false);
});

test("the host changes its mind: a step cancelled by GO unwatches; an interrupt is not held", () => {
  const { m, calls, event } = setup();
  m.next(RUN_STEP, false);
  assert.equal(event(false), false, "an interrupt is not held");
  calls.length = 0;
  // The event came, but the host wrote GO meanwhile: the loop still pauses at the event first.
  assert.equal(m.next(RUN_GO, false), "again");
  assert.equal(m.mode, "paused");
  calls.length = 0;
  assert.equal(m.next(RUN_GO, false), "run");
  m.next(RUN_STEP, false);
  calls.length = 0;
  assert.equal(m.next(RUN_GO, false), "run");
  assert.deepEqual(calls, ["unwatch"]);
  assert.equal(m.mode, "running");
});
