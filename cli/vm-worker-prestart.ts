// Imported first by an entry that will run a VM: starts the VM's worker while the entry's other
// modules load (cli/vm-worker-start.ts).
import { prestartVmWorker } from "./vm-worker-start.ts";

prestartVmWorker();
