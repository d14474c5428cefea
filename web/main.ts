// The page: a terminal on the guest's serial console, power controls, and the VM in a Worker
// (vm-host.ts). The main thread never runs guest code.
import "./style.css";
import { DEFAULT_CMDLINE, READY_LINE } from "../devices/vm/config.ts";
import type { VmConfig } from "../devices/vm/config.ts";
import { ConsoleTerminal } from "./terminal.ts";
import { Controls, readSettings, writeSettings, type Settings } from "./controls.ts";
import { loadDefaultGuest } from "./images.ts";
import { VmSession, type VmExit } from "./vm-host.ts";
import { DATA_DISK_IMAGE, dataDiskSpec, loadDataDiskBase } from "./data-disk.ts";
import { DiskPanel } from "./disk-panel.ts";

/** The test hook (e2e/fixtures.ts): drive the page without scraping xterm's DOM. */
export interface VireoHook {
  /** Power on with these settings (merged over the URL's); resolves once the worker starts. */
  boot(options?: Partial<Settings>): Promise<void>;
  /** Everything the guest printed since the last power-on. */
  transcript(): string;
  /** Type text at the console, as keystrokes. */
  type(text: string): void;
  reset(): void;
  /** Stop the VM (the power-off button); resolves with the exit. */
  powerOff(): Promise<VmExit | undefined>;
  /** off | loading | running | halted */
  state(): string;
  /** The last exit (reason, stats), once the VM has stopped. */
  lastExit(): VmExit | undefined;
  /** Erase the data disk's saved changes (rejects while the VM is on). */
  resetDisk(): Promise<void>;
}

declare global {
  interface Window {
    vireo?: VireoHook;
  }
}

let settings = readSettings();
let vm: VmSession | undefined;
let lastExit: VmExit | undefined;
let state = "off";

const controls = new Controls(settings, {
  powerOn: () => void powerOn().catch(report),
  reset: () => vm?.reset(),
  powerOff: () => void vm?.stop(),
  settingsChanged: (s) => {
    settings = s;
    writeSettings(settings);
  },
});
const term = new ConsoleTerminal(document.getElementById("terminal")!, (bytes) => vm?.send(bytes));
const diskPanel = new DiskPanel({ note: (m) => term.note(m) });

function setState(s: "off" | "loading" | "running" | "halted", detail?: string): void {
  state = s;
  controls.setState(s, detail);
  diskPanel.setPowerState(s);
}

function report(e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  setState("halted", message);
  term.note(`error: ${message}`);
}

async function powerOn(options: Partial<Settings> = {}): Promise<void> {
  if (vm?.alive || state === "loading") return;
  settings = { ...settings, ...options };
  writeSettings(settings);
  setState("loading");
  const images = await loadDefaultGuest((loaded, total) => controls.showProgress(loaded, total));
  await diskPanel.settled(); // a disk reset in progress finishes first
  const dataDisk = await loadDataDiskBase();
  const config: VmConfig = {
    kernel: images.kernel, // structured-cloned to the worker: the cached images stay intact
    initrd: images.initrd,
    cmdline: DEFAULT_CMDLINE,
    memMiB: settings.memMiB,
    clock: "realtime",
    script: { cmds: [], ready: READY_LINE },
    devices: [dataDiskSpec("pci-modern")],
  };
  term.clear();
  lastExit = undefined;
  vm = new VmSession(config, {
    output: (bytes) => term.write(bytes),
    log: (message) => term.note(message),
    exit: (e) => {
      lastExit = e;
      const mips = `${e.stats.mips.toFixed(1)} MIPS over ${e.stats.wallSeconds.toFixed(1)} s`;
      if (e.reason === "error") {
        term.note(`VM error: ${e.message ?? "unknown"}`);
        setState("halted", `${e.message ?? "error"} (${mips})`);
      } else {
        term.note(e.reason === "poweroff" ? "the guest powered off" : "powered off");
        setState("off", mips);
      }
    },
  }, { [DATA_DISK_IMAGE]: dataDisk });
  setState("running", `${settings.memMiB} MiB`);
  term.focus();
}

function start(): void {
  if (!crossOriginIsolated || typeof SharedArrayBuffer === "undefined") {
    controls.fatal(
      "This page is not cross-origin isolated, so SharedArrayBuffer is unavailable and Vireo cannot run. " +
        "Serve it with COOP: same-origin and COEP: require-corp (npm start does).",
    );
    return;
  }
  window.vireo = {
    boot: (options) => powerOn(options),
    transcript: () => term.transcript(),
    type: (text) => vm?.send(new TextEncoder().encode(text)),
    reset: () => vm?.reset(),
    powerOff: async () => (vm ? vm.stop() : lastExit),
    state: () => state,
    lastExit: () => lastExit,
    resetDisk: () => diskPanel.reset(),
  };
  if (settings.autoboot) void powerOn().catch(report);
}

start();
