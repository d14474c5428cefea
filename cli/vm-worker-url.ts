// The VM worker's entry, relative to the module this line ends up in: from the sources that is
// cli/vm-worker.mjs (which registers tsx, then loads cli/vm-worker.ts); in the Node bundle this
// module is inlined into dist-node/*.mjs, so it is the bundled worker dist-node/vm-worker.mjs.
export const VM_WORKER_URL = new URL("./vm-worker.mjs", import.meta.url);
