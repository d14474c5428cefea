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
import type { StreamProgress } from "../host/streamed-disk.ts";
import type { InspectSnapshot } from "../inspect/snapshot.ts";
import type { BlockDeviceSpec, FsDeviceSpec } from "../virtio/device-type.ts";
import { CMD_INSPECT, CMD_RESET, CMD_SAVE, CMD_SAVE_WHOLE, CMD_STOP, CTL_CMD, ControlPort, INSPECT_LINGER_MS, instretSlot, kick } from "./control.ts";
import { VmDisks } from "./disks.ts";
import { macrotask, sleepWhileHalted } from "./halt.ts";
import { RunModeMachine } from "./run-mode.ts";
export * from "./control.ts";
export { WRITE_BACK_MS } from "./disks.ts";
import { BoardInspector } from "../inspect/board-inspector.ts";
import { StateError, checkImages, readSnapshotChain, restoreSnapshot, saveSnapshot, stateId, type StateImage } from "../state/snapshot.ts";

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
 * RAM); the machine was saved (VmConfig.saveState: a "state" event came first); the state to
 * resume was refused before anything ran (damaged, another build, another disk); anything else
 * went wrong.
 */
export type ExitReason = "poweroff" | "expect" | "stopped" | "panic" | "reboot" | "image" | "saved" | "state" | "error";

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
  /**
   * The saved machine (VmConfig.saveState, just before the "saved" exit, or CMD_SAVE*): `id` its
   * identity (stateId), `base` that of the state it is an increment over, null if whole.
   */
  | { type: "state"; bytes: Uint8Array; id: string; base: string | null }
  /** A CMD_SAVE* could not save (the machine runs on). */
  | { type: "save-failed"; message: string }
  /** A snapshot asked for by CMD_INSPECT, or sent when a step stopped (`stepped`) or a pause began. */
  | { type: "inspect"; snapshot: InspectSnapshot; stepped?: boolean }
  /** A streamed disk's progress (devices/host/streamed-disk.ts): what it fetched, what its cache had. */
  | { type: "stream"; image: string; progress: StreamProgress };

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

/**
 * Deterministic clock: guest time a PAUSE (a spin-wait's cpu_relax) lets pass, at most, and
 * never past the next timer deadline. Linux's boot spins ~50 ms of guest time in APIC timer
 * checks and calibration; executed at 1 ns per instruction that is ~50 M instructions.
 */
export const PAUSE_SKIP_NS = 10_000;

/** Event-loop turns a save waits, at most, for devices' host I/O to finish (quiescing). */
const QUIESCE_TURNS = 10_000;

/** Most instructions between looks at the host (input, commands, realtime timers). */
const SLICE = 200_000;

/** What only the host environment can provide (Node: files; page: IndexedDB). */
export interface VmHost {
  openBlock?: (spec: BlockDeviceSpec) => BlockBackend;
  /** The folder of a virtio-9p spec (opened anew by each board a reset builds). */
  openFs?: (spec: FsDeviceSpec) => FsBackend;
}

/**
 * Resolves when the VM has exited (the exit event is posted just before).
 *
 * The loop's states: running (slices of guest code between looks at the host), paused or
 * stepping (RunModeMachine, run-mode.ts: the host's CTL_RUN word), halted (the guest's HLT:
 * sleepWhileHalted, halt.ts), stopping (finish: the disks written back and closed, the exit
 * posted). Each turn: take the host's command (stop, reset, inspect), ask the run mode whether
 * to run, feed the host's input to the board, run one slice, then act on how it ended.
 */
export async function runVm(module: WebAssembly.Module, config: VmConfig, ch: VmChannels, post: (e: VmEvent) => void, host: VmHost = {}): Promise<void> {
  const out = new ByteRing(ch.consoleOut);
  const input = new ByteRing(ch.consoleIn);
  const keys = ch.keys && new ByteRing(ch.keys);
  const port = new ControlPort(ch.control);
  const script = new ConsoleScriptRunner(config.script, Boolean(config.saveState));
  const panicWatch = new PanicWatch();
  let panicLineAt = -1; // instructions when the console's panic line came with pvpanic armed
  let panicLine = false; // the console has shown the kernel's panic line
  const sink = new ConsoleSink(
    out, script,
    (ms) => port.wait(port.seq(), ms),
    () => port.stopAsked(),
    (text) => { if (panicWatch.observe(text) !== null) panicLine = true; },
  );
  const started = performance.now();
  let resets = 0;
  /** How long a restore and a save took (--stats: restoreSeconds, saveSeconds). */
  const stateTimes: { restoreSeconds?: number; saveSeconds?: number } = {};

  // Checked, and unpacked once, natively, rather than by the guest on every boot (host/initrd.ts,
  // host/kernel-payload.ts); the guest gets the packed images if the config asks for the real
  // thing. A damaged image ends the VM here, before any guest instruction.
  const ramBytes = config.memMiB << 20;
  let initrd: Uint8Array | undefined;
  let decompressed: ReturnType<typeof decompressKernel>;
  let unpacked = false;
  const unpackImages = () => {
    if (unpacked) return;
    const packed = config.initrd && inflateInitrd(config.initrd, ramBytes);
    const kernel = decompressKernel(config.kernel, ramBytes);
    initrd = config.guestDecompress ? config.initrd : packed;
    decompressed = config.guestDecompress ? undefined : kernel;
    unpacked = true;
  };
  const refused = (reason: ExitReason, message: string) => {
    // No board ran: the exit carries empty counters.
    post({ type: "exit", reason, message, stats: { instructions: 0, wallSeconds: (performance.now() - started) / 1000, mips: 0, resets: 0 } });
  };
  // A resumed machine has its kernel in RAM already: the images are checked against the state
  // (the same bytes it booted) and unpacked only if the guest reboots.
  let image: StateImage | null = null;
  /** The identity of the last state saved or loaded on this board: the next save's base. */
  let stateBase: string | null = null;
  try {
    if (config.restore) {
      const chain = [config.restore, ...(config.increments ?? [])];
      image = await readSnapshotChain(chain);
      await checkImages(image, config.kernel, config.initrd);
      stateBase = await stateId(chain[chain.length - 1]!);
    } else {
      unpackImages();
    }
  } catch (e) {
    if (e instanceof BootError) return refused("image", e.message);
    if (e instanceof StateError) return refused("state", e.message);
    throw e;
  }

  const log = (message: string) => post({ type: "log", message });
  const disks = new VmDisks(host.openBlock, log);
  const makeBoard = () => new PcBoard({
    module,
    ramBytes: config.memMiB << 20,
    clock: config.clock,
    onConsole: (b) => sink.byte(b),
    log,
    virtio: config.devices,
    openBlock: disks.openBlock,
    apic: config.apic ?? false,
    acpi: config.acpi ?? false,
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
  const mode: RunModeMachine = new RunModeMachine({
    board: () => board,
    inspector,
    snapshot: (stepped) => snapshot(stepped),
  }, port);
  const snapshot = (stepped?: boolean) => post({ type: "inspect", snapshot: inspector().snapshot(mode.isPaused), ...(stepped ? { stepped } : {}) });
  // Instructions and time keep counting across a reset, as the host sees them.
  let instretBefore = 0;
  const instructions = () => instretBefore + board.instret();

  const stats = (): VmStats => {
    const n = instructions();
    const wallSeconds = (performance.now() - started) / 1000;
    // startedAtMs: when the VM started, on the wall clock (the bench subtracts the host's start-up).
    return { instructions: n, wallSeconds, startedAtMs: Math.round(performance.timeOrigin + started), mips: n / wallSeconds / 1e6, resets, ...board.stats(), ...stateTimes };
  };
  // Stopping: whatever ended the VM, the disks are written back and closed before the exit.
  const finish = async (reason: ExitReason, message?: string, panicVia?: PanicVia) => {
    board.flushLog();
    await disks.close();
    post({ type: "exit", reason, message, stats: stats(), ...(panicVia ? { panicVia } : {}) });
  };

  /**
   * Save the machine, whole or as an increment over the last state saved or loaded on this
   * board (when there is one), and post it. First it is quiesced: a device waiting for host I/O
   * (a disk flush, a 9p request on an asynchronous folder) finishes it, between slices, as the
   * run loop would let it — a consistent cut has no request half done. An Error if it cannot.
   */
  const save = async (increment: boolean, atPrompt: boolean): Promise<void> => {
    for (let waited = 0; board.hostIo() || disks.writeBack; waited++) {
      if (waited > QUIESCE_TURNS) throw new Error("a device's host I/O did not finish");
      await macrotask();
      board.advance();
    }
    const t0 = performance.now();
    const base = increment && stateBase !== null ? stateBase : null;
    const bytes = await saveSnapshot(board, config, atPrompt, base ?? undefined);
    const id = stateBase = await stateId(bytes);
    stateTimes.saveSeconds = (performance.now() - t0) / 1000;
    post({ type: "state", bytes, id, base });
  };
  /** Save (VmConfig.saveState) and end ("saved"). */
  const saveAndFinish = async () => {
    if (config.saveState === "increment" && stateBase === null) return finish("error", "cannot save an increment: no state was loaded or saved");
    try {
      await save(config.saveState === "increment", true);
    } catch (e) {
      return finish("error", `cannot save the machine: ${(e as Error).message}`);
    }
    return finish("saved");
  };

  const boot = () => {
    unpackImages();
    return board.bootLinux({ kernel: config.kernel, decompressed, initrd, cmdline: config.cmdline });
  };
  // A reset puts every chip back in its power-on state too: build the board anew.
  let winsize = 0; // the size the current board's console was given
  let balloonAsked = 0; // the balloon size the current board was given (MiB)
  const reboot = () => {
    instretBefore += board.instret();
    resets++;
    stateBase = null; // the new board's RAM is not what the last state holds
    winsize = 0;
    balloonAsked = 0;
    board = makeBoard();
    if (config.inspect) inspector(); // observed from power-on, like the first board
    boot();
  };
  if (image) {
    // The board is built as power-on builds it; the firmware wires PCI interrupts (and assigns
    // BARs, which the PCI functions' loads then put where the guest had them); then every
    // component takes its saved state.
    const t0 = performance.now();
    try {
      board.firmware();
      await restoreSnapshot(board, image);
      stateTimes.restoreSeconds = (performance.now() - t0) / 1000;
    } catch (e) {
      if (!(e instanceof StateError)) throw e;
      board.flushLog();
      await disks.close();
      return refused("state", e.message);
    }
    // Saved at a prompt by a --cmd script: its first command is typed at once, as it would have
    // been had the machine never stopped.
    const ev = image.config.atPrompt ? script.resumeAtPrompt() : null;
    if (ev?.kind === "type") board.consoleInput(new TextEncoder().encode(ev.text));
    else if (ev?.kind === "done") return saveAndFinish();
  } else {
    try {
      boot();
    } catch (e) {
      return finish(e instanceof BootError ? "image" : "error", (e as Error).message);
    }
  }

  const deterministic = config.clock === "deterministic";
  const keysWaiting = () => keys !== undefined && keys.available() >= KEY_RECORD_BYTES;
  const halt = { get board() { return board; }, port, disks, deterministic, hostInputWaiting: () => input.available() > 0 || keysWaiting() };
  // Access logging (the inspector's "last accesses") is on while snapshots are being asked for.
  let inspectedAt = -Infinity;
  let logging = false;

  /** The host's input since the last slice: balloon target, terminal size, console bytes, keys. */
  const feedHost = () => {
    const balloonMiB = port.balloonMiB();
    if (balloonMiB !== balloonAsked) board.setBalloonMiB((balloonAsked = balloonMiB));
    const ws = port.winsize();
    if (ws !== winsize && ws !== 0) board.consoleResize(ws >>> 16, ws & 0xffff);
    winsize = ws;
    if (input.available() > 0) board.consoleInput(input.read());
    // Whole records only: the host writes each one in a single ByteRing.write.
    if (keys && keysWaiting()) {
      const r = keys.read(keys.available() - (keys.available() % KEY_RECORD_BYTES));
      for (let i = 0; i < r.length; i += KEY_RECORD_BYTES) board.inputKey(r[i]! | (r[i + 1]! << 8), r[i + 2] !== 0);
    }
  };

  for (;;) {
    const seq = port.seq();
    const cmd = port.takeCommand();
    if (cmd === CMD_STOP) return finish("stopped");
    if (cmd === CMD_RESET) {
      // The new board inherits the inspector's state: watching for a step, logging, paused time.
      reboot();
      mode.adoptBoard();
      if (logging) inspector().setAccessLogging(true);
    }
    if (cmd === CMD_INSPECT) {
      inspectedAt = performance.now();
      if (!logging) { logging = true; inspector().setAccessLogging(true); }
    } else if (logging && performance.now() - inspectedAt > INSPECT_LINGER_MS) {
      logging = false;
      inspector().setAccessLogging(false);
    }
    if (cmd === CMD_SAVE || cmd === CMD_SAVE_WHOLE) {
      // The host's save (the page's suspend): between slices, running or paused, the guest
      // wherever it is. Always answered, so the host never waits on a save for ever.
      try {
        await save(cmd === CMD_SAVE, false);
      } catch (e) {
        post({ type: "save-failed", message: (e as Error).message });
      }
    }
    const decision = mode.next(port.runState(), cmd === CMD_INSPECT);
    if (decision === "again") continue;
    if (decision === "wait") {
      // Paused: sleep until the host writes anything (a command, input, a run state).
      port.wait(seq, 1000);
      continue;
    }
    if (cmd === CMD_INSPECT) snapshot();
    feedHost();

    board.advance();
    if (mode.stepEnded) continue; // a device's interrupt from advance() ended the step: pause first
    // A device waits for host I/O: give the event loop a turn each slice until it settles.
    // The JIT's background compiles finish in the event loop too (core-wasm/jit/jit.ts).
    if (disks.writeBack || board.hostIo() || board.core.jit.tick()) await macrotask();
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
    port.publishInstret(instructions());

    for (const ev of sink.take()) {
      if (ev.kind === "done") return ev.reason === "save" ? saveAndFinish() : finish("expect");
      board.consoleInput(new TextEncoder().encode(ev.text));
    }
    // The console line is the fallback: with the pvpanic driver bound, its report follows.
    if (panicLine && panicLineAt < 0) {
      if (!board.pvpanic?.armed) return finish("panic", panicWatch.line!, "console"); // not-a-device-name (how a panic was learned of)
      panicLineAt = instructions();
    }
    if (board.panicEvents !== 0) return finish("panic", panicWatch.line ?? "guest kernel panicked (reported by pvpanic)", "pvpanic");
    if (panicLineAt >= 0 && instructions() - panicLineAt > PANIC_GRACE_INSTRUCTIONS) {
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
      case L.EXIT_HLT:
        await sleepWhileHalted(halt);
        break;
      case L.EXIT_POWEROFF:
        return finish("poweroff");
      case L.EXIT_SHUTDOWN:
      case L.EXIT_RESET:
        // A triple fault or a reset through the keyboard controller / port 0x92 reboots the
        // machine, as on real hardware — or, with noReboot (QEMU's -no-reboot), ends the VM.
        if (config.noReboot) return finish("reboot", exit === L.EXIT_SHUTDOWN ? "a triple fault" : "a reset request");
        log(exit === L.EXIT_SHUTDOWN ? "triple fault: resetting" : "guest requested a reset");
        reboot();
        break;
      default:
        return finish("error", `core returned unknown exit code ${exit}`);
    }
  }
}
