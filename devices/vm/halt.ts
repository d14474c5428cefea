// What the run loop does while the guest halts (HLT with nothing pending): guest time jumps to
// the next timer deadline (deterministic) or follows host time, sleeping until the deadline or
// until the host kicks the control word (input, a command). With host I/O pending (a disk
// flush, a write-back, a 9p call) the sleep lets the event loop run; deterministic time then
// waits for the I/O instead of jumping ahead (the guest halts until it is done).
import type { PcBoard } from "../board/pc.ts";
import { CTL_SEQ as CTL_SEQ_INDEX, type ControlPort } from "./control.ts";
import type { VmDisks } from "./disks.ts";

export interface HaltContext {
  board: PcBoard;
  port: ControlPort;
  disks: VmDisks;
  deterministic: boolean;
  /** Console bytes or key events from the host are waiting to be delivered. */
  hostInputWaiting: () => boolean;
}

export async function sleepWhileHalted(c: HaltContext): Promise<void> {
  const { board, port, disks, deterministic } = c;
  // An interrupt raised while the guest had IF=0 is still pending at `sti; hlt` (the HLT runs in
  // STI's shadow): it wakes the CPU at once, as on hardware. Sleeping until the next timer
  // deadline instead — none, on a tickless idle guest — strands the guest until the next keystroke.
  if (board.interruptPending()) return;
  // Read the wake word before looking for input: a kick after the look then ends the wait.
  const seq = port.seq();
  const deadline = board.nextDeadlineNs();
  if (!deterministic) disks.idle(performance.now());
  const pendingIo = board.hostIo() ?? disks.writeBack;
  if (pendingIo && deterministic) {
    await sleepAsync(port.words, Infinity, pendingIo);
    return;
  }
  board.clock.idleUntil(deadline);
  if (!deterministic || !Number.isFinite(deadline)) {
    const ms = Number.isFinite(deadline) ? (deadline - board.clock.nowNs()) / 1e6 : Infinity;
    if (ms > 0.05 && !c.hostInputWaiting() && !board.hostInput()) {
      if (pendingIo) await sleepAsync(port.words, ms, pendingIo);
      else port.wait(seq, ms);
    }
  }
}

/**
 * One turn of the event loop, so IndexedDB's callbacks (macrotasks) can run: setImmediate in
 * Node, a MessageChannel round trip in a browser (setTimeout would be clamped to 4 ms).
 */
export function macrotask(): Promise<void> {
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
export async function sleepAsync(ctl: Int32Array, ms: number, io: Promise<unknown>): Promise<void> {
  const waitAsync = typeof Atomics.waitAsync === "function";
  const bound = Math.min(ms, waitAsync ? 1000 : 10);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const racers: Promise<unknown>[] = [io.then(noop, noop), new Promise((r) => (timer = setTimeout(r, bound)))];
  if (waitAsync) {
    const w = Atomics.waitAsync(ctl, CTL_SEQ_INDEX, Atomics.load(ctl, CTL_SEQ_INDEX), bound);
    if (w.async) racers.push(w.value);
    else racers.push(Promise.resolve()); // the word already changed: input or a command is here
  }
  await Promise.race(racers);
  clearTimeout(timer);
}

function noop(): void {}
