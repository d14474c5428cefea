// The VM worker's run loop, the same in a Node worker_thread and a browser Worker: run the
// core in slices sized by the next timer deadline, move console bytes through the shared
// rings, sleep in Atomics.wait while the guest halts, and obey the host's control word.
//
// The loop is synchronous as long as no device waits for host I/O. When one does (a guest
// FLUSH on an IndexedDB disk), the loop awaits between slices, and sleeps in a way the event
// loop can interrupt, so the store's callbacks run and the flush can complete.
import * as L from "../../core-wasm/build/layout.ts";
import { PcBoard } from "../board/pc.ts";
import { ByteRing } from "../host/byte-ring.ts";
import { JIT_THRESHOLD, type VirtioDeviceSpec, type VmConfig } from "./config.ts";
import type { BlockBackend } from "../host/block.ts";
import type { FsBackend } from "../p9/backend.ts";
import { ConsoleScriptRunner } from "./console-script.ts";
import { ConsoleSink } from "./console-sink.ts";
import { inflateInitrd } from "../host/initrd.ts";
import { BootError } from "../board/linux-boot.ts";
import { PanicWatch } from "./panic-watch.ts";
import { decompressKernel } from "../host/kernel-payload.ts";
import type { InspectSnapshot } from "../inspect/snapshot.ts";
import { BoardInspector } from "../inspect/board-inspector.ts";

/** The host → worker control word (an Int32Array over `VmChannels.control`). */
export const CTL_SEQ = 0; // bumped (and notified) by the host after any input or command
export const CTL_CMD = 1; // a CMD_* the worker takes and clears
// The host terminal's size, cols << 16 | rows (0: not known). The worker applies it to a
// virtio-console whenever it changes; one word so the pair never tears, and no CMD_* so a resize
// cannot overwrite (or be overwritten by) a pending reset.
export const CTL_WINSIZE = 2;
// Host → worker: run state, RUN_GO / RUN_PAUSE / RUN_STEP. A word of its own (not a CMD_*) so a
// pause is never lost to a reset written at the same time; the worker moves STEP to PAUSE when
// the step's event (a virtqueue notify or interrupt) has happened.
export const CTL_RUN = 3;
export const RUN_GO = 0;
export const RUN_PAUSE = 1;
export const RUN_STEP = 2;
/** Worker → host: instructions executed since power-on, a BigInt64 at this byte offset (words 4–5). */
export const CTL_INSTRET_BYTE = 16;
/** Host → worker: the virtio-balloon size asked for, in MiB (applied whenever it changes). */
export const CTL_BALLOON = 6;
export const CTL_WORDS = 7;
export const CMD_NONE = 0;
export const CMD_STOP = 1; // stop now (timeout, window closed): exit with reason "stopped"
export const CMD_RESET = 2; // reset button
// Post an inspector snapshot ({type: "inspect"}). The host writes it only over CMD_NONE
// (requestInspect), so it never replaces a stop or a reset; a STOP/RESET written over it costs
// one snapshot, which the host asks for again.
export const CMD_INSPECT = 3;
/** Register access logging stays on this long after the last CMD_INSPECT (the inspector closed). */
export const INSPECT_LINGER_MS = 2000;

export interface VmChannels {
  consoleOut: SharedArrayBuffer; // ByteRing: guest → host
  consoleIn: SharedArrayBuffer; // ByteRing: host → guest
  control: SharedArrayBuffer; // Int32Array(CTL_WORDS)
  /** ByteRing host → guest of virtio-input key events, KEY_RECORD_BYTES each (keyRecord()). */
  keys?: SharedArrayBuffer;
}

/** A key event for `VmChannels.keys`: Linux KEY_* code (le16), 1 = press / 0 = release, 0. */
export const KEY_RECORD_BYTES = 4;
export function keyRecord(code: number, down: boolean): Uint8Array {
  return new Uint8Array([code & 0xff, code >> 8, down ? 1 : 0, 0]);
}

/**
 * Why the VM ended: the guest powered off; --expect's text appeared (or the --cmd script ran);
 * the host stopped it; the guest kernel panicked; the guest rebooted with VmConfig.noReboot;
 * the kernel or initrd was refused before the guest ran (a BootError: damaged, too big for the
 * RAM); anything else went wrong.
 */
export type ExitReason = "poweroff" | "expect" | "stopped" | "panic" | "reboot" | "image" | "error";

/** How a panic was learned of: the pvpanic device, or the console line (the fallback). */
export type PanicVia = "pvpanic" | "console"; // not-a-device-name (how a panic was learned of)

/**
 * With pvpanic armed (its driver probed), the console's panic line waits this many guest
 * instructions for the device's report, then ends the run itself (a panic inside the panic path).
 */
export const PANIC_GRACE_INSTRUCTIONS = 50_000_000;

export interface VmStats {
  instructions: number;
  wallSeconds: number;
  mips: number;
  resets: number;
  [k: string]: unknown;
}

export type VmEvent =
  | { type: "exit"; reason: ExitReason; message?: string; stats: VmStats; panicVia?: PanicVia }
  | { type: "log"; message: string }
  /** A snapshot asked for by CMD_INSPECT, or sent when a step stopped (`stepped`) or a pause began. */
  | { type: "inspect"; snapshot: InspectSnapshot; stepped?: boolean };

/** Wake the worker after writing input or a command. */
export function kick(control: Int32Array, cmd = CMD_NONE): void {
  if (cmd !== CMD_NONE) Atomics.store(control, CTL_CMD, cmd);
  Atomics.add(control, CTL_SEQ, 1);
  Atomics.notify(control, CTL_SEQ);
}

/**
 * How long the host waits for the worker's exit after CMD_STOP before it terminates the worker.
 * The run loop reads the command word at least once per run slice (≤ 200,000 instructions, a
 * few ms) and a full console ring no longer holds it once a stop is asked, so only a hang in
 * the worker itself (a bug) can reach this.
 */
export const STOP_GRACE_MS = 2000;

/**
 * Host side: stop the VM. Resolves with the worker's exit event, or with a "stopped" exit of
 * our own after `graceMs` if the worker has not answered — then `terminate` has been called.
 */
export async function stopVm(
  control: Int32Array, exited: Promise<Extract<VmEvent, { type: "exit" }>>, terminate: () => unknown, graceMs = STOP_GRACE_MS,
): Promise<Extract<VmEvent, { type: "exit" }>> {
  kick(control, CMD_STOP);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), graceMs)));
  const e = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (e) return e;
  await terminate();
  return {
    type: "exit", reason: "stopped", message: `the VM worker did not stop within ${graceMs} ms; terminated`,
    stats: { instructions: Number(Atomics.load(instretSlot(control.buffer as SharedArrayBuffer), 0)), wallSeconds: 0, mips: 0, resets: 0 },
  };
}

/** Host side: the reset button. True when the worker took the request within graceMs; false
 *  when it did not — its run loop is stuck and will not (the host should terminate it). */
export async function resetVm(control: Int32Array, graceMs = STOP_GRACE_MS): Promise<boolean> {
  kick(control, CMD_RESET);
  await new Promise((r) => setTimeout(r, graceMs));
  return Atomics.load(control, CTL_CMD) !== CMD_RESET;
}

/** Host side: ask for a snapshot unless another command is pending (it is asked again later). */
export function requestInspect(control: Int32Array): boolean {
  if (Atomics.compareExchange(control, CTL_CMD, CMD_NONE, CMD_INSPECT) !== CMD_NONE) return false;
  kick(control);
  return true;
}

/** Host side: run, pause, or step to the next virtqueue notify/interrupt (RUN_*). */
export function setRunState(control: Int32Array, state: number): void {
  Atomics.store(control, CTL_RUN, state);
  kick(control);
}

/** Host side: publish a terminal size (then kick, so a halted guest sees it now). */
export function setWinsize(control: Int32Array, cols: number, rows: number): void {
  Atomics.store(control, CTL_WINSIZE, ((cols & 0xffff) << 16) | (rows & 0xffff));
}

/** The instruction count the worker last published (the page's status line reads it ~2×/s). */
export function instretSlot(control: SharedArrayBuffer): BigInt64Array {
  return new BigInt64Array(control, CTL_INSTRET_BYTE, 1);
}

/**
 * Deterministic clock: guest time a PAUSE (a spin-wait's cpu_relax) lets pass, at most, and
 * never past the next timer deadline. Linux's boot spins ~50 ms of guest time in APIC timer
 * checks and calibration; executed at 1 ns per instruction that is ~50 M instructions.
 */
export const PAUSE_SKIP_NS = 10_000;

/** Most instructions between looks at the host (input, commands, realtime timers). */
const SLICE = 200_000;
/** Least time between idle write-backs of a disk's unflushed writes (BlockBackend.writeBack). */
export const WRITE_BACK_MS = 500;

/** What only the host environment can provide (Node: files; page: IndexedDB). */
export interface VmHost {
  openBlock?: (spec: VirtioDeviceSpec) => BlockBackend;
  /** The folder of a virtio-9p spec (opened anew by each board a reset builds). */
  openFs?: (spec: VirtioDeviceSpec) => FsBackend;
}

/** Resolves when the VM has exited (the exit event is posted just before). */
export async function runVm(module: WebAssembly.Module, config: VmConfig, ch: VmChannels, post: (e: VmEvent) => void, host: VmHost = {}): Promise<void> {
  const out = new ByteRing(ch.consoleOut);
  const input = new ByteRing(ch.consoleIn);
  const keys = ch.keys && new ByteRing(ch.keys);
  const ctl = new Int32Array(ch.control);
  const instret = instretSlot(ch.control);
  const script = new ConsoleScriptRunner(config.script);
  const panicWatch = new PanicWatch();
  let panicLineAt = -1; // instructions when the console's panic line came with pvpanic armed
  let panicLine = false; // the console has shown the kernel's panic line
  const sink = new ConsoleSink(
    out, script,
    (ms) => void Atomics.wait(ctl, CTL_SEQ, Atomics.load(ctl, CTL_SEQ), ms),
    () => Atomics.load(ctl, CTL_CMD) === CMD_STOP,
    (text) => { if (panicWatch.observe(text) !== null) panicLine = true; },
  );
  const started = performance.now();
  let resets = 0;

  // Checked, and unpacked once, natively, rather than by the guest on every boot (host/initrd.ts,
  // host/kernel-payload.ts); the guest gets the packed images if the config asks for the real
  // thing. A damaged image ends the VM here, before any guest instruction.
  const ramBytes = config.memMiB << 20;
  let initrd: Uint8Array | undefined;
  let decompressed: ReturnType<typeof decompressKernel>;
  try {
    const unpacked = config.initrd && inflateInitrd(config.initrd, ramBytes);
    const kernel = decompressKernel(config.kernel, ramBytes);
    initrd = config.guestDecompress ? config.initrd : unpacked;
    decompressed = config.guestDecompress ? undefined : kernel;
  } catch (e) {
    if (!(e instanceof BootError)) throw e;
    // No board was built and nothing ran: the exit carries empty counters.
    post({ type: "exit", reason: "image", message: e.message, stats: { instructions: 0, wallSeconds: (performance.now() - started) / 1000, mips: 0, resets: 0 } });
    return;
  }

  // A disk outlives a reset, as on real hardware: each backend is opened once per VM, reused
  // by every board a reboot builds, and closed when the VM ends.
  const disks = new Map<VirtioDeviceSpec, BlockBackend>();
  const openBlock = host.openBlock && ((spec: VirtioDeviceSpec) => {
    let disk = disks.get(spec);
    if (!disk) disks.set(spec, (disk = host.openBlock!(spec)));
    return disk;
  });
  const makeBoard = () => new PcBoard({
    module,
    ramBytes: config.memMiB << 20,
    clock: config.clock,
    onConsole: (b) => sink.byte(b),
    log: (message) => post({ type: "log", message }),
    virtio: config.devices,
    openBlock,
    apic: config.apic ?? false,
    jit: config.jit ?? JIT_THRESHOLD,
    openFs: host.openFs,
    pvpanic: config.pvpanic ?? true,
  });
  let board = makeBoard();
  // The inspector's observers: on every board from power-on when the host says an inspector may
  // look (VmConfig.inspect: the page), else from the first snapshot or step (the status path then
  // starts there). Without one, the devices record nothing.
  let watcher: BoardInspector | null = config.inspect ? new BoardInspector(board) : null;
  let watched = board;
  const inspector = (): BoardInspector => {
    if (watcher === null || watched !== board) { watcher = new BoardInspector(board); watched = board; }
    return watcher;
  };
  // Instructions and time keep counting across a reset, as the host sees them.
  let instretBefore = 0;

  const stats = (): VmStats => {
    const instructions = instretBefore + board.instret();
    const wallSeconds = (performance.now() - started) / 1000;
    return { instructions, wallSeconds, mips: instructions / wallSeconds / 1e6, resets, ...board.stats() };
  };
  const finish = async (reason: ExitReason, message?: string, panicVia?: PanicVia) => {
    board.flushLog();
    // Stopping the VM writes back what the guest wrote but never flushed, as a disk does with
    // its write cache on a clean power-off; otherwise a power off would lose it.
    for (const [spec, disk] of disks) {
      try {
        await disk.flush();
      } catch (e) {
        post({ type: "log", message: `disk ${spec.image ?? spec.type}: could not save on power off: ${(e as Error)?.message ?? e}` });
      }
      disk.close?.();
    }
    post({ type: "exit", reason, message, stats: stats(), ...(panicVia ? { panicVia } : {}) });
  };

  const boot = () => board.bootLinux({ kernel: config.kernel, decompressed, initrd, cmdline: config.cmdline });
  // A reset puts every chip back in its power-on state too: build the board anew.
  let winsize = 0; // the size the current board's console was given
  let balloonAsked = 0; // the balloon size the current board was given (MiB)
  const reboot = () => {
    instretBefore += board.instret();
    resets++;
    winsize = 0;
    balloonAsked = 0;
    board = makeBoard();
    if (config.inspect) inspector(); // observed from power-on, like the first board
    boot();
  };
  try {
    boot();
  } catch (e) {
    return finish(e instanceof BootError ? "image" : "error", (e as Error).message);
  }

  // Idle write-back (realtime only: its timing would make a deterministic run vary).
  let writeBack: Promise<unknown> | null = null;
  let writeBackAt = 0;
  let writeBackFailed = false;
  const startWriteBack = () => {
    writeBackAt = performance.now() + WRITE_BACK_MS;
    const started: Promise<unknown>[] = [];
    for (const disk of disks.values()) {
      const p = disk.writeBack?.();
      if (p) started.push(p);
    }
    if (started.length === 0) return;
    const p: Promise<unknown> = Promise.all(started).then(
      () => void (writeBackFailed = false),
      (e: unknown) => {
        // Blocks stay dirty and are retried; say so once, not every WRITE_BACK_MS.
        if (!writeBackFailed) post({ type: "log", message: `disk write-back failed (retrying): ${(e as Error)?.message ?? e}` });
        writeBackFailed = true;
      },
    ).finally(() => void (writeBack === p && (writeBack = null)));
    writeBack = p;
  };

  const deterministic = config.clock === "deterministic";
  // The inspector (CMD_INSPECT) and step mode (CTL_RUN). Access logging is on while snapshots
  // are being asked for; a paused VM sleeps on the control word with guest time stopped.
  let inspectedAt = -Infinity;
  let logging = false;
  let paused = false;
  let stepping = false;
  let stepHit = false;
  // A step stops at the driver's notify with the notify held (the request sits in the
  // available ring, not yet taken), and the next step at the device's interrupt after it has
  // completed the request: the two halves of a request, one per step.
  const onStepEvent = (notify: boolean) => {
    stepHit = true;
    board.requestStop(); // the core returns after this trap: the guest sees nothing more
    return notify;
  };
  const snapshot = (stepped?: boolean) => post({ type: "inspect", snapshot: inspector().snapshot(paused), ...(stepped ? { stepped } : {}) });
  for (;;) {
    const seq = Atomics.load(ctl, CTL_SEQ);
    const cmd = Atomics.exchange(ctl, CTL_CMD, CMD_NONE);
    if (cmd === CMD_STOP) return finish("stopped");
    if (cmd === CMD_RESET) {
      // The new board inherits the inspector's state: watching for a step, logging, paused time.
      reboot();
      if (stepping) inspector().watchEvents(onStepEvent);
      if (logging) inspector().setAccessLogging(true);
      if (paused) board.clock.pause();
    }
    if (cmd === CMD_INSPECT) {
      inspectedAt = performance.now();
      if (!logging) { logging = true; inspector().setAccessLogging(true); }
    } else if (logging && performance.now() - inspectedAt > INSPECT_LINGER_MS) {
      logging = false;
      inspector().setAccessLogging(false);
    }
    const runState = Atomics.load(ctl, CTL_RUN);
    if (stepping && stepHit) {
      // The step's event happened: pause there and show it (unless the host changed its mind).
      stepping = stepHit = false;
      inspector().watchEvents(null);
      Atomics.compareExchange(ctl, CTL_RUN, RUN_STEP, RUN_PAUSE);
      paused = true;
      board.clock.pause();
      snapshot(true);
      continue;
    }
    if (runState === RUN_STEP && !stepping) {
      stepping = true;
      stepHit = false;
      inspector().watchEvents(onStepEvent);
    } else if (runState !== RUN_STEP && stepping) {
      stepping = false;
      inspector().watchEvents(null);
    }
    if (runState === RUN_PAUSE) {
      if (!paused) { paused = true; board.clock.pause(); snapshot(); }
      else if (cmd === CMD_INSPECT) snapshot();
      // Paused: no guest code, no timers; guest time stands still (clock.pause) so nothing
      // jumps on resume. Sleep until the host writes anything (a command, input, a run state).
      Atomics.wait(ctl, CTL_SEQ, seq, 1000);
      continue;
    }
    if (paused) {
      paused = false;
      board.clock.resume();
      inspector().releaseHeldKicks();
      if (stepHit) continue; // the held request completed and interrupted: that was the step
    }
    if (cmd === CMD_INSPECT) snapshot();
    const balloonMiB = Atomics.load(ctl, CTL_BALLOON);
    if (balloonMiB !== balloonAsked) board.setBalloonMiB((balloonAsked = balloonMiB));
    const ws = Atomics.load(ctl, CTL_WINSIZE);
    if (ws !== winsize && ws !== 0) board.consoleResize(ws >>> 16, ws & 0xffff);
    winsize = ws;
    if (input.available() > 0) board.consoleInput(input.read());
    // Whole records only: the host writes each one in a single ByteRing.write.
    if (keys && keys.available() >= KEY_RECORD_BYTES) {
      const r = keys.read(keys.available() - (keys.available() % KEY_RECORD_BYTES));
      for (let i = 0; i < r.length; i += KEY_RECORD_BYTES) board.inputKey(r[i]! | (r[i + 1]! << 8), r[i + 2] !== 0);
    }

    board.advance();
    if (stepHit) continue; // a device's interrupt from advance() ended the step: pause first
    // A device waits for host I/O: give the event loop a turn each slice until it settles.
    // The JIT's background compiles finish in the event loop too (core-wasm/jit/jit.ts).
    if (writeBack || board.hostIo() || board.core.jit.tick()) await macrotask();
    // Stop at the next timer deadline so the interrupt lands on time — in deterministic mode
    // at the same instruction on every run.
    const ahead = (board.nextDeadlineNs() - board.clock.nowNs()) / board.clock.nsPerInstruction();
    const budget = Math.max(1, Math.min(SLICE, Math.ceil(ahead)));
    let exit: number;
    try {
      exit = board.run(budget);
    } catch (e) {
      return finish("error", `emulator fault: ${(e as Error).message}`);
    }
    Atomics.store(instret, 0, BigInt(instretBefore + board.instret()));

    for (const ev of sink.take()) {
      if (ev.kind === "done") return finish("expect");
      board.consoleInput(new TextEncoder().encode(ev.text));
    }
    // The console line is the fallback: with the pvpanic driver bound, its report follows.
    if (panicLine && panicLineAt < 0) {
      if (!board.pvpanic?.armed) return finish("panic", panicWatch.line!, "console"); // not-a-device-name (how a panic was learned of)
      panicLineAt = instretBefore + board.instret();
    }
    if (board.panicEvents !== 0) return finish("panic", panicWatch.line ?? "guest kernel panicked (reported by pvpanic)", "pvpanic");
    if (panicLineAt >= 0 && instretBefore + board.instret() - panicLineAt > PANIC_GRACE_INSTRUCTIONS) {
      return finish("panic", panicWatch.line!, "console"); // not-a-device-name (how a panic was learned of)
    }

    switch (exit) {
      case L.EXIT_BUDGET:
      case L.EXIT_STOP: // step mode stopped the vCPU at a virtqueue event (board.requestStop)
        break;
      case L.EXIT_PAUSE:
        // Only with the deterministic clock (PcBoard sets RUN_PAUSE_EXIT): a spin-wait waits
        // for time, so give it time. Both the waited-for timer and the TSC read the same clock.
        board.clock.idleUntil(Math.min(board.nextDeadlineNs(), board.clock.nowNs() + PAUSE_SKIP_NS));
        break;
      case L.EXIT_HLT: {
        // An interrupt raised while the guest had IF=0 is still pending at `sti; hlt` (the HLT
        // runs in STI's shadow): it wakes the CPU at once, as on hardware. Sleeping until the
        // next timer deadline instead — none, on a tickless idle guest — strands the guest
        // until the next keystroke.
        if (board.interruptPending()) break;
        // Deterministic: jump time to the deadline. Realtime: guest time follows host time
        // while halted; sleep until the deadline or until the host kicks us (input, command).
        // With host I/O pending, the sleep must let the event loop run; deterministic time
        // then waits for the I/O instead of jumping ahead (the guest halts until it is done).
        // Read the wake word before looking for input: a kick after the look then ends the wait.
        const seq = Atomics.load(ctl, CTL_SEQ);
        const deadline = board.nextDeadlineNs();
        if (!deterministic && writeBack === null && disks.size > 0 && performance.now() >= writeBackAt) startWriteBack();
        const pendingIo = board.hostIo() ?? writeBack;
        if (pendingIo && deterministic) {
          await sleepAsync(ctl, Infinity, pendingIo);
          break;
        }
        board.clock.idleUntil(deadline);
        if (!deterministic || !Number.isFinite(deadline)) {
          const ms = Number.isFinite(deadline) ? (deadline - board.clock.nowNs()) / 1e6 : Infinity;
          if (ms > 0.05 && input.available() === 0 && !(keys && keys.available() >= KEY_RECORD_BYTES) && !board.hostInput()) {
            if (pendingIo) await sleepAsync(ctl, ms, pendingIo);
            else Atomics.wait(ctl, CTL_SEQ, seq, ms);
          }
        }
        break;
      }
      case L.EXIT_POWEROFF:
        return finish("poweroff");
      case L.EXIT_SHUTDOWN:
      case L.EXIT_RESET:
        // A triple fault or a reset through the keyboard controller / port 0x92 reboots the
        // machine, as on real hardware — or, with noReboot (QEMU's -no-reboot), ends the VM.
        if (config.noReboot) return finish("reboot", exit === L.EXIT_SHUTDOWN ? "a triple fault" : "a reset request");
        post({ type: "log", message: exit === L.EXIT_SHUTDOWN ? "triple fault: resetting" : "guest requested a reset" });
        reboot();
        break;
      default:
        return finish("error", `core returned unknown exit code ${exit}`);
    }
  }
}

/**
 * One turn of the event loop, so IndexedDB's callbacks (macrotasks) can run: setImmediate in
 * Node, a MessageChannel round trip in a browser (setTimeout would be clamped to 4 ms).
 */
function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  if (g.setImmediate) return new Promise((resolve) => g.setImmediate!(resolve));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    const port = ch.port1 as unknown as { onmessage: (() => void) | null; close(): void };
    port.onmessage = () => {
      port.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

/**
 * Atomics.wait that the event loop can interrupt: returns when `io` settles, the host kicks
 * the control word, or `ms` pass (bounded, so a missed wake-up costs little).
 */
async function sleepAsync(ctl: Int32Array, ms: number, io: Promise<unknown>): Promise<void> {
  const waitAsync = typeof Atomics.waitAsync === "function";
  const bound = Math.min(ms, waitAsync ? 1000 : 10);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const racers: Promise<unknown>[] = [io.then(noop, noop), new Promise((r) => (timer = setTimeout(r, bound)))];
  if (waitAsync) {
    const w = Atomics.waitAsync(ctl, CTL_SEQ, Atomics.load(ctl, CTL_SEQ), bound);
    if (w.async) racers.push(w.value);
    else racers.push(Promise.resolve()); // the word already changed: input or a command is here
  }
  await Promise.race(racers);
  clearTimeout(timer);
}

function noop(): void {}
