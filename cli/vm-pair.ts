// Two VMs in one Node process, their virtio-nets connected back to back (one Ethernet segment
// of two): each VM runs in its own worker thread, as `npm run boot` runs one, and the frames
// cross between the workers through a pair of shared frame rings (devices/net/ring-backend.ts).
// A frame written by one worker bumps the other's control word, so a halted peer wakes for it.
// Used by the headless network tests; every VM gets its console script and its own output.
import { Worker } from "node:worker_threads";
import { VM_WORKER_URL } from "./vm-worker-url.ts";
import { ByteRing } from "../devices/host/byte-ring.ts";
import { CTL_SEQ, CTL_WORDS, CMD_STOP, kick, type VmChannels, type VmEvent } from "../devices/vm/session.ts";
import type { VmConfig } from "../devices/vm/config.ts";
import { deviceTypeWithRole, type TransportName } from "../devices/registry.ts";
import { makeLink } from "../devices/net/ring-backend.ts";

export interface PairResult {
  /** Console output of each VM. */
  out: [string, string];
  exits: [Extract<VmEvent, { type: "exit" }>, Extract<VmEvent, { type: "exit" }>];
  logs: string[];
}

/** One VM's NIC: its transport and MAC. */
export interface NetEnd {
  transport: TransportName;
  mac?: string;
}

const NIC = deviceTypeWithRole("network")!;

/**
 * Boot `a` and `b` with a virtio-net each (on `transports[i]`, MAC `macs[i]`), linked back to
 * back. Resolves when both have exited; after `timeoutS` both are stopped.
 */
export async function bootPair(configs: [VmConfig, VmConfig], nets: [NetEnd, NetEnd], timeoutS: number): Promise<PairResult> {
  const controls = [0, 1].map(() => new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4)));
  const ends = makeLink();
  const logs: string[] = [];
  const vms = [0, 1].map((i) => {
    const peer = controls[1 - i]!;
    const link = { ...ends[i]!, wake: peer.buffer as SharedArrayBuffer, wakeIndex: CTL_SEQ };
    const config: VmConfig = { ...configs[i]!, devices: [...(configs[i]!.devices ?? []), { ...nets[i]!, type: NIC.name, backend: "link", link }] };
    const out = new ByteRing(1 << 20);
    const input = new ByteRing(1 << 12);
    const control = controls[i]!;
    const channels: VmChannels = { consoleOut: out.sab, consoleIn: input.sab, control: control.buffer as SharedArrayBuffer };
    const worker = new Worker(VM_WORKER_URL, { workerData: { config, channels } });
    const dec = new TextDecoder();
    let text = "";
    const drain = () => {
      const bytes = out.read();
      if (bytes.length > 0) {
        text += dec.decode(bytes, { stream: true });
        kick(control); // the worker may be waiting for ring space
      }
    };
    const timer = setInterval(drain, 20);
    const exit = new Promise<Extract<VmEvent, { type: "exit" }>>((resolve, reject) => {
      worker.on("message", (e: VmEvent) => {
        if (e.type === "exit") resolve(e);
        else if (e.type === "log") logs.push(`vm${i}: ${e.message}`);
      });
      worker.on("error", reject);
      worker.on("exit", (code) => reject(new Error(`VM worker ${i} exited unexpectedly (code ${code})`)));
    }).finally(() => {
      clearInterval(timer);
      drain();
      void worker.terminate();
    });
    return { exit, text: () => text, control };
  });
  const timer = setTimeout(() => vms.forEach((v) => kick(v.control, CMD_STOP)), timeoutS * 1000);
  try {
    const exits = await Promise.all(vms.map((v) => v.exit));
    return { out: [vms[0]!.text(), vms[1]!.text()], exits: exits as PairResult["exits"], logs };
  } finally {
    clearTimeout(timer);
  }
}
