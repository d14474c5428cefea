// The canonical notify loop (vm-virtio's Queue example), in one place for every
// device type: disable kicks → pop → handle → push → re-enable and re-check, then publish once,
// so one used-index update and at most one interrupt cover the whole batch. Never "fix" a
// lost-kick hang by interrupting unconditionally: the re-check in enableNotifications is the fix.
import type { Chain, VirtioContext } from "./device.ts";

/** `handle` result: the chain completes later (an asynchronous backend); do not push it now. */
export const PARKED = -1;
/** `handle` result: the device asked for a reset; stop serving the queue, publish nothing. */
export const STOP = -2;

/**
 * Serve queue `q` until it is empty with kicks re-enabled. `handle` returns the number of bytes
 * written into the chain's writable buffers (pushed as the used length), PARKED or STOP.
 */
export function serveQueue(ctx: VirtioContext, q: number, handle: (chain: Chain) => number): void {
  const vq = ctx.queue(q);
  do {
    vq.disableNotifications();
    for (let c = vq.pop(); c; c = vq.pop()) {
      const written = handle(c);
      if (written === STOP) return;
      if (written !== PARKED) vq.push(c, written);
    }
  } while (vq.enableNotifications());
  ctx.publish(q);
}
