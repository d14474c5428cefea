// Boot the package's default guest headless and run one command in it.
import { Vm } from "vireo";

const vm = await Vm.start();
const { output, exitStatus } = await vm.exec("uname -m");
console.log(`uname -m: ${output} (exit status ${exitStatus})`);
await vm.powerOff();
if (output !== "i686" || exitStatus !== 0) process.exit(1);
