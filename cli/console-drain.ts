// The Node host's side of the console ring: hand each batch of guest output to `write` as soon
// as the worker puts it there (Atomics.waitAsync on the ring's tail: no polling), until stop().
// Shared by the CLI and the bench's VM process, so both cost an idle guest the same.
import type { ByteRing } from "../devices/host/byte-ring.ts";
import { kick } from "../devices/vm/session.ts";

export interface ConsoleDrain {
  /** Stop after the current batch; resolves when the loop has ended. */
  stop(): Promise<void>;
}

export function drainConsole(out: ByteRing, control: Int32Array, write: (bytes: Uint8Array) => void): ConsoleDrain {
  let draining = true;
  const loop = async () => {
    while (draining) {
      const bytes = out.read();
      if (bytes.length > 0) {
        write(bytes);
        kick(control); // the worker may be waiting for ring space
        continue;
      }
      const cell = out.waitCell;
      const w = Atomics.waitAsync(cell.array, cell.index, cell.value, 1000);
      // A pending waitAsync does not keep Node's event loop alive; the timer does, so the
      // process cannot drift to exit before the worker's exit message is handled. Output wakes
      // the wait at once; an idle guest costs this thread one wake-up a second.
      if (w.async) {
        let keepAlive: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([w.value, new Promise((r) => (keepAlive = setTimeout(r, 1100)))]);
        clearTimeout(keepAlive);
      }
    }
  };
  const done = loop();
  return {
    stop() {
      draining = false;
      const cell = out.waitCell;
      Atomics.notify(cell.array, cell.index); // wake the loop now rather than at its keep-alive
      return done;
    },
  };
}
