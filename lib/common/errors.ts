// The errors the library throws, each for one kind of outcome a test wants to tell apart.

/** An option is wrong, or a kernel, initrd or state file was refused before anything ran. */
export class VmOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VmOptionsError";
  }
}

/** Why a VM ended (`VmExit.reason`). */
export type ExitReason =
  /** The guest powered off. */
  | "poweroff"
  /** `Vm.stop()` (or a timeout of the host's) stopped it. */
  | "stopped"
  /** The guest kernel panicked (see `VmExit.panicVia`). */
  | "panic"
  /** The guest rebooted, and `VmOptions.reboot` was not set. */
  | "reboot"
  /** The kernel or initrd was refused before the guest ran (damaged, too big for the RAM). */
  | "image"
  /** The state to resume was refused before anything ran (damaged, another build, another disk). */
  | "state"
  /** The emulator failed. */
  | "error";

/** Counters of a VM's run. */
export interface VmStats {
  /** Guest instructions executed. */
  instructions: number;
  /** Wall time since the VM started, in seconds. */
  wallSeconds: number;
  /** Guest instructions per wall-clock microsecond. */
  mips: number;
  /** Board resets (guest reboots with `VmOptions.reboot`). */
  resets: number;
  /** Per-device and per-component counters (virtio notifications, interrupts, …), by name. */
  [counter: string]: unknown;
}

/** How a VM ended. */
export interface VmExit {
  /** Why it ended. */
  reason: ExitReason;
  /** The panic line, the refusal, the failure: what a person reads first. */
  message?: string;
  /** For a panic: reported by the pvpanic device, or only seen as the kernel's console line. */
  panicVia?: "pvpanic" | "console";
  /** The run's counters at the end. */
  stats: VmStats;
}

/** The guest kernel panicked while the caller waited on it. */
export class GuestPanic extends Error {
  constructor(
    /** The kernel's `Kernel panic - not syncing: …` line. */
    readonly panicLine: string,
    /** The console output up to the panic. */
    readonly transcript: string,
  ) {
    super(`guest kernel panicked: ${panicLine}\n--- console transcript ---\n${transcript}`);
    this.name = "GuestPanic";
  }
}

/** The VM ended for another reason while the caller waited on it. */
export class VmStopped extends Error {
  constructor(
    /** How the VM ended. */
    readonly exit: VmExit,
    /** The console output up to the end. */
    readonly transcript: string,
    doing: string,
  ) {
    super(`the VM stopped (${exit.reason}${exit.message ? `: ${exit.message}` : ""}) while ${doing}`);
    this.name = "VmStopped";
  }
}

/** What the caller waited for did not come in time. */
export class VmTimeout extends Error {
  constructor(
    doing: string,
    timeoutMs: number,
    /** The console output so far (the VM runs on). */
    readonly transcript: string,
  ) {
    super(`timeout: ${timeoutMs} ms passed ${doing}\n--- console transcript (last 2000 characters) ---\n${transcript.slice(-2000)}`);
    this.name = "VmTimeout";
  }
}
