// Worker bootstrap: Node 20 does not apply the parent's `--import tsx` hooks inside a
// worker_thread, so register tsx here before loading the TypeScript entry. Only the sources start
// this file; the bundle starts its own dist-node/vm-worker.mjs (cli/vm-worker-url.ts).
import { register } from "tsx/esm/api";

register();
await import("./vm-worker.ts");
