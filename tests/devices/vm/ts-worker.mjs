// worker_threads bootstrap for a TypeScript worker entry (workerData.entry): Node 20 does not
// apply the parent's `--import tsx` inside a worker, so register tsx here (as cli/vm-worker.mjs).
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

register();
await import(workerData.entry);
