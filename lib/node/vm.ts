// The library's VM in Node: a guest machine in a worker thread (vm-thread.ts), driven from the
// test or script that made it through what every library VM does (common/vm-base.ts). NICs
// with backend=nat get their user-mode NAT on this thread, where the event loop its sockets
// need runs.
import { VmBase, failedExit, publicExit } from "../common/vm-base.ts";
import { VmOptionsError } from "../common/errors.ts";
import { vmConfig } from "./config.ts";
import type { VmOptions } from "../common/options.ts";
import { VmThread } from "./vm-thread.ts";
import type { VmConfig } from "../../devices/vm/config.ts";
import { NatError, startNats } from "../../cli/nat.ts";

/**
 * A virtual PC booting Linux, headless, in a Node worker thread.
 *
 * ```ts
 * import { Vm } from "vireo";
 * const vm = await Vm.start();                 // the package's own guest
 * const { output } = await vm.exec("uname -m"); // "i686"
 * await vm.powerOff();
 * ```
 */
export class Vm extends VmBase {
  private readonly config: VmConfig;
  private starting = false;

  /**
   * Check the options and read the files they name (nothing runs yet: `start()`). Throws a
   * VmOptionsError for a wrong option or a refused kernel, initrd or state.
   */
  constructor(options: VmOptions = {}) {
    super(options.prompt, options.state !== undefined);
    this.config = vmConfig(options);
  }

  /** Make a VM and start it: `new Vm(options)`, then `start()`. */
  static async start(options: VmOptions = {}): Promise<Vm> {
    const vm = new Vm(options);
    await vm.start();
    return vm;
  }

  /**
   * Power the machine on (or resume its state). Resolves at once: the guest boots meanwhile. A
   * NIC with `backend=nat` whose NAT cannot start (a forwarded port in use) rejects with a
   * VmOptionsError, before any guest instruction.
   */
  async start(): Promise<void> {
    if (this.starting) throw new Error("the VM has been started already");
    this.starting = true;
    let thread: VmThread | null = null;
    let nats;
    try {
      nats = await startNats(this.config.devices ?? [], () => thread?.wake(), (m) => this.emit("log", m));
    } catch (e) {
      this.starting = false;
      throw e instanceof NatError ? new VmOptionsError(e.message) : e;
    }
    thread = new VmThread({ ...this.config, devices: nats.devices }, {
      console: (bytes) => this.consoleBytes(bytes),
      log: (message) => this.emit("log", message),
      state: (bytes) => this.saved(bytes),
      saveFailed: (message) => this.saveFailed(message),
    });
    const exited = thread.exited.then(
      (e) => {
        const nat = nats.stats();
        return publicExit(e, Object.keys(nat).length ? { nat } : {});
      },
      failedExit,
    ).finally(() => nats.close());
    const t = thread;
    this.run({ write: (bytes) => t.write(bytes), requestSave: () => t.requestSave(), stop: () => void t.stop(), instructions: () => t.instructions() }, exited);
  }
}
