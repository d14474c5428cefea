// The page: a terminal on the guest's console (the UART or a virtio-console), power controls,
// virtio device choices, the user's own images, and the VM in a Worker (vm-host.ts). The main
// thread never runs guest code.
import "./style.css";
import { READY_LINE } from "../devices/vm/config.ts";
import type { VirtioDeviceSpec, VmConfig } from "../devices/vm/config.ts";
import { parseBzImage } from "../devices/board/linux-boot.ts";
import { ConsoleTerminal } from "./terminal.ts";
import { Controls, writeSettings } from "./controls.ts";
import { PAGE_DEVICES, deviceSpecs, kernelCmdline, parseSettings, relayUrl, roleChoice, withRole, type Settings } from "./settings.ts";
import { deviceTypeWithRole } from "../devices/registry.ts";
import { defaultKernelName, loadDefaultGuest } from "./images.ts";
import { ImagePicker } from "./image-picker.ts";
import { ImageError, checkFits } from "./guest-files.ts";
import { RunStatus, exitStatus } from "./run-status.ts";
import { KEY_CODES } from "../devices/virtio/input-keys.ts";
import type { VmSession, VmExit } from "./vm-host.ts";
import { BrowserVm } from "../lib/browser/browser-vm.ts";
import { IsolationError, crossOriginIsolation } from "../lib/browser/isolation.ts";
import { DATA_DISK_IMAGE, PICKED_DISK_IMAGE, loadDataDiskBase } from "./data-disk.ts";
import { DiskPanel } from "./disk-panel.ts";
import "./inspector/inspector.css";
import { Inspector } from "./inspector/panel.ts";
import type { CompareRow } from "./inspector/compare.ts";
import type { InspectSnapshot } from "../devices/inspect/snapshot.ts";
import type { TransportKind } from "../devices/virtio/device.ts";
import { TabLink } from "./tab-link.ts";
import { PageNat } from "./page-nat.ts";
import { SharePanel } from "./share-panel.ts";
import { readIdbShare } from "./idb-share.ts";
import { withoutLinks } from "../devices/p9/memory-fs.ts";
import { StateError, readSnapshot } from "../devices/state/snapshot.ts";
import { StateStore, type SuspendMeta } from "./state-store.ts";
import { AutoSuspend } from "./auto-suspend.ts";
import { fetchBytes, readFile } from "./images.ts";
import { DEFAULT_GUEST, guestSpec, type GuestSpec } from "../devices/vm/guests.ts";
import { MANIFEST_SUFFIX } from "../devices/host/disk-manifest.ts";
import type { StreamProgress } from "../devices/host/streamed-disk.ts";
import { streamImage } from "./stream-disk.ts";

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
  /** Replace the shared folder (VM off) with these files; read it back as path → text. */
  setShare(files: Record<string, string>): Promise<void>;
  readShare(): Promise<Record<string, string>>;
  /** The settings the next power-on uses. */
  settings(): Settings;
  /** The terminal's size in character cells. */
  termSize(): { cols: number; rows: number };
  /** Suspend to browser storage (the Suspend button): resolves once saved and stopped. */
  suspend(): Promise<void>;
  /** Resume the machine in browser storage, or the given state files (a whole state, then
   *  increments over it); resolves once the worker runs it. */
  resume(files?: Uint8Array[]): Promise<void>;
  /** A whole state of the running machine (also stored as the suspended machine). */
  saveState(): Promise<Uint8Array>;
  /** The suspended machine's record (state-store.ts), or null. */
  stored(): Promise<SuspendMeta | null>;
  /** The streamed disks' progress this power-on, by image (stream:URL). */
  streamProgress(): Record<string, StreamProgress>;
  /** The virtio inspector: open it (beside the terminal or full page), take a snapshot, compare transports. */
  inspector: {
    open(mode?: "side" | "full" | "closed"): void;
    snapshot(): Promise<InspectSnapshot>;
    compare(transports?: TransportKind[], mib?: number): Promise<CompareRow[]>;
  };
}

declare global {
  interface Window {
    vireo?: VireoHook;
  }
}

const parsed = parseSettings(location.search);
/** `?state=URL`: resume the state file there instead of booting. */
const stateUrl = new URLSearchParams(location.search).get("state");
let settings = parsed.settings;
let vm: VmSession | undefined;
let tabLink: TabLink | undefined;
/** netbackend=wisp: the page's NAT over the relay. */
let pageNat: PageNat | undefined;

/** Each power-on a new locally administered MAC, so the guests of two tabs never share one. */
function randomMac(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  b[0] = (b[0]! & 0xfc) | 0x02; // unicast, locally administered
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}
let lastExit: VmExit | undefined;
let state = "off";
const runStatus = new RunStatus();

const store = new StateStore();
/** The console output a stored record keeps, to show a resumed machine's screen again. */
const SCREEN_KEEP = 16 << 10;
const autoSuspend = new AutoSuspend(store, {
  session: () => vm,
  extra: () => {
    const t = term.transcript();
    const cut = t.length > SCREEN_KEEP ? t.indexOf("\n", t.length - SCREEN_KEEP) + 1 : 0;
    return { settings: location.search, screen: t.slice(cut) };
  },
  failed: (message) => term.note(`cannot save the machine (it will not resume after a reload): ${message}`),
});
/** The VM is being stopped by Suspend: its stored state stays. */
let suspending = false;

const controls = new Controls(settings, {
  powerOn: () => void powerOn().catch(report),
  reset: () => vm?.reset(() => void powerOn().catch(report)),
  powerOff: () => void vm?.stop(),
  // A save that fails leaves the machine running: say why.
  suspend: () => void suspend().catch((e) => controls.message(`Could not suspend the machine: ${(e as Error).message}`)),
  resume: () => void resume().catch(report),
  downloadState: () => void downloadState().catch((e) => controls.message(`Could not save the machine: ${(e as Error).message}`)),
  settingsChanged: (s) => {
    settings = s;
    writeSettings(settings);
    controls.show(settings);
  },
  balloon: (mib) => {
    balloonMiB = mib;
    vm?.setBalloon(mib);
  },
});
let balloonMiB = 0;
// The virtio-input keyboard gets the page's key presses (as codes, so Shift and the arrows
// arrive as keys), besides the terminal's bytes for the console.
const terminalEl = document.getElementById("terminal")!;
for (const [type, down] of [["keydown", true], ["keyup", false]] as const) {
  terminalEl.addEventListener(type, (e) => {
    const code = KEY_CODES[(e as KeyboardEvent).code];
    if (code !== undefined && roleChoice(settings, "keyboard") !== null && !(e as KeyboardEvent).repeat) vm?.sendKey(code, down);
  }, { capture: true });
}
const term = new ConsoleTerminal(
  document.getElementById("terminal")!,
  (bytes) => {
    vm?.send(bytes);
    autoSuspend.input();
  },
  (cols, rows) => vm?.resize(cols, rows),
);
const picker = new ImagePicker({
  progress: (label, loaded, total) => controls.showProgress(label, loaded, total),
  done: () => controls.endProgress(),
  accepted: (slot, image) => {
    let note = `using ${image.name} as the ${slot}${state === "running" ? " from the next power-on" : ""}`;
    if (slot === "disk" && roleChoice(settings, "disk") === null) {
      // A picked disk with no disk device would silently do nothing: plug one, on its default transport.
      const t = deviceTypeWithRole("disk")?.page?.default ?? null;
      settings = withRole(settings, "disk", t);
      controls.show(settings);
      writeSettings(settings);
      note += `; disk device turned on (${t})`;
    }
    controls.message(note, "info");
  },
  rejected: (message) => controls.message(message),
  cleared: () => controls.message("using the default guest", "info"),
  bundledKernel: () => defaultKernelName(settings.apic),
});
const diskPanel = new DiskPanel({ note: (m) => term.note(m) });
let diskBeforeCompare: string | null | undefined;
const inspector = new Inspector({
  session: () => vm,
  powerCycle: async (t) => {
    if (diskBeforeCompare === undefined) diskBeforeCompare = roleChoice(settings, "disk");
    if (vm?.alive) await vm.stop();
    await powerOn(withRole(settings, "disk", t));
  },
  powerOff: async () => void (vm?.alive && (await vm.stop())),
  restore: () => {
    if (diskBeforeCompare === undefined) return;
    settings = withRole(settings, "disk", diskBeforeCompare);
    diskBeforeCompare = null;
    controls.show(settings);
    writeSettings(settings);
  },
  transcript: () => term.transcript(),
  type: (text) => vm?.send(new TextEncoder().encode(text)),
  focusTerminal: () => term.focus(),
  natTable: () => (pageNat ? { via: pageNat.via, rows: pageNat.table(), counters: pageNat.stats() } : null),
}, document.getElementById("inspector-toggle") as HTMLButtonElement);
const sharePanel = new SharePanel((m) => term.note(m));

function setState(s: "off" | "loading" | "running" | "halted", detail?: string): void {
  state = s;
  controls.setState(s, detail);
  diskPanel.setPowerState(s);
  sharePanel.setPowerState(s);
}

function report(e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof ImageError) {
    // The user's choice of images or RAM: say so and stay ready for another try.
    controls.message(message);
    setState("off");
    return;
  }
  setState("halted", message);
  term.note(`error: ${message}`);
}

/** The guest chosen in the menu (`?guest=`), from the guest table. */
const chosenGuest = (): GuestSpec => guestSpec(settings.guest) ?? guestSpec(DEFAULT_GUEST)!;
/** A guest-images/ file's URL beside the page: the dev server serves them there, and so does a build made with them. */
const guestFileUrl = (file: string): string => new URL(`guest-images/${file}`, document.baseURI).href;

/** A guest of the table other than the bundled one: its kernel and initrd, fetched beside the page. */
async function tableGuestImages(g: GuestSpec): Promise<{ kernel: Uint8Array; initrd: Uint8Array }> {
  const load = async (file: string) => {
    try {
      const bytes = await fetchBytes(guestFileUrl(file), (loaded, total) => controls.showProgress(`loading ${file}`, loaded, total));
      // A host that answers every path with its index page (vite preview, many static hosts).
      if (/^\s*<(!doctype|html)/i.test(new TextDecoder().decode(bytes.subarray(0, 64)))) throw new Error(`cannot load ${file}: not there (the server sent a web page)`);
      return bytes;
    } catch (e) {
      throw new Error(`${g.label}: ${(e as Error).message}${g.build ? ` (not built here? ${g.build}, then npm run build -- or npm start)` : ""}`);
    }
  };
  return { kernel: await load(g.kernel), initrd: await load(g.initrd) };
}

/** What this power-on boots: picked images where there are any, else the chosen guest's. */
async function guestImages(memMiB: number): Promise<{ kernel: Uint8Array; initrd: Uint8Array }> {
  const { kernel, initrd } = picker.picked;
  const g = chosenGuest();
  const progress = (loaded: number, total: number) => controls.showProgress("loading guest images", loaded, total);
  const bundled = kernel && initrd ? undefined : g.name === DEFAULT_GUEST ? await loadDefaultGuest(settings.apic, progress) : await tableGuestImages(g);
  const images = { kernel: kernel?.bytes ?? bundled!.kernel, initrd: initrd?.bytes ?? bundled!.initrd };
  checkFits(kernel?.kernel ?? parseBzImage(images.kernel), images.initrd.length, memMiB);
  return images;
}

/** The blk device's image: a picked disk for this power-on, else a streamed one (`?stream=`), else the persistent data disk. */
function diskImageName(): string {
  if (picker.picked.disk) return PICKED_DISK_IMAGE;
  return settings.stream ? streamImage(settings.stream, location.href) : DATA_DISK_IMAGE;
}

/** Base bytes for the blk device (transferred to the worker, so always a fresh copy). */
async function diskImages(s: Settings): Promise<Record<string, Uint8Array>> {
  if (roleChoice(s, "disk") === null) return {};
  const picked = picker.picked.disk;
  if (picked) return { [PICKED_DISK_IMAGE]: picked.bytes.slice() };
  if (s.stream) return {}; // the worker fetches what the guest reads
  return { [DATA_DISK_IMAGE]: await loadDataDiskBase() };
}

function describe(s: Settings): string {
  const parts = [`${s.memMiB} MiB`];
  for (const t of PAGE_DEVICES()) {
    const c = s.devices[t.page.param] ?? t.page.off;
    const what = t.page.label.toLowerCase();
    if (c === t.page.off) {
      if (t.roles?.includes("terminal")) parts.push(`${c} ${what}`);
      continue;
    }
    const backend = s.netBackend === "tab" ? "tabs" : s.netBackend === "wisp" ? `NAT via the Wisp relay ${relayUrl(s, location.href)}`
      : s.netBackend === "fetch" ? "NAT via fetch(): HTTP to port 80 only, servers that allow this page's origin" : "built-in host";
    parts.push(`${what} ${c}${t.roles?.includes("network") ? ` (${backend})` : ""}`);
  }
  return parts.join(", ");
}

async function powerOn(options: Partial<Settings> = {}): Promise<void> {
  if (vm?.alive || state === "loading") return;
  settings = { ...settings, ...options };
  controls.show(settings);
  writeSettings(settings);
  setState("loading");
  hideResumeOffer();
  // A fresh machine replaces the suspended one (its own first save starts a new chain).
  await store.clear().catch(() => {});
  controls.setResumable(false);
  // A guest of the table brings its board, RAM, command line and root disk; the bundled one
  // takes the page's settings.
  const g = chosenGuest();
  const own = g.name !== DEFAULT_GUEST && !(picker.picked.kernel && picker.picked.initrd);
  const memMiB = own ? Math.max(settings.memMiB, g.memMiB) : settings.memMiB;
  const apic = own ? g.apic : settings.apic;
  const images = await guestImages(memMiB);
  await diskPanel.settled(); // a disk reset in progress finishes first
  const disks = await diskImages(settings);
  tabLink?.close();
  tabLink = roleChoice(settings, "network") !== null && settings.netBackend === "tab" ? new TabLink() : undefined;
  // The root disk first, so the kernel names it vda (root=/dev/vda); streamed, its writes kept in this browser.
  const diskType = deviceTypeWithRole("disk")!;
  const root: VirtioDeviceSpec[] = own && g.disk
    ? [{ type: diskType.name, transport: diskType.page!.default as TransportKind, image: streamImage(guestFileUrl(g.disk) + MANIFEST_SUFFIX, location.href), ...(apic ? { irq: "msix" as const } : {}) }]
    : [];
  streamed = {};
  pageNat?.close();
  const natBackend = roleChoice(settings, "network") !== null && (settings.netBackend === "wisp" || settings.netBackend === "fetch");
  pageNat = natBackend ? new PageNat(settings.netBackend === "wisp" ? relayUrl(settings, location.href) : null, (m) => term.note(m)) : undefined;
  if (natBackend && settings.netBackend === "fetch") {
    term.note("network through fetch(): only plain HTTP to port 80 reaches out, and only servers that allow this page's origin (CORS); a Wisp relay (?relay=wss://…) gives TCP and UDP");
  }
  const config: VmConfig = {
    kernel: images.kernel, // structured-cloned to the worker: the page's copies stay intact
    initrd: images.initrd,
    cmdline: own ? g.cmdline : kernelCmdline(settings),
    memMiB,
    clock: "realtime",
    script: { cmds: [], ready: own ? g.ready : READY_LINE },
    devices: [...root, ...deviceSpecs(settings, diskImageName(), { link: tabLink?.end ?? pageNat?.end, mac: randomMac() })],
    inspect: true, // the inspector may open any time: observe the transports from power-on
    apic,
    ...(own && g.acpi ? { acpi: true } : {}),
    ...(settings.jit !== undefined ? { jit: settings.jit } : {}),
  };
  term.clear();
  startSession(config, disks, describe(settings), null);
}

/** Run `config` in a new worker; `resumed`: the stored record it resumes, if it does. */
function startSession(config: VmConfig, disks: Record<string, Uint8Array>, about: string, resumed: SuspendMeta | "file" | null): void {
  lastExit = undefined;
  inspector.powered();
  const nat = pageNat;
  // The library's BrowserVm runs it: the worker, the console into the terminal, log notes.
  const machine = BrowserVm.fromConfig(config, {
    terminal: term,
    disks,
    inspect: (snapshot, stepped) => inspector.onSnapshot(snapshot, stepped),
    output: () => autoSuspend.output(),
    stream: (image, progress) => showStream(image, progress),
    exit: (e) => {
      runStatus.stop();
      nat?.close(); // the relay's WebSocket goes with the machine
      inspector.stopped();
      autoSuspend.stopped();
      lastExit = e;
      if (resumed !== null && (e.reason === "state" || (e.reason === "error" && e.stats.instructions === 0))) {
        // An untrusted state refused (damaged, another build, another disk): say so, boot.
        controls.message(`Could not resume the saved machine: ${e.message ?? e.reason}. Booting the guest instead.`);
        void store.clear().catch(() => {});
        controls.setResumable(false);
        setState("off");
        void powerOn().catch(report);
        return;
      }
      const stayed = suspending;
      suspending = false;
      if (!stayed) {
        // Powered off, panicked, failed: nothing to resume where it left off.
        void store.clear().catch(() => {});
        controls.setResumable(false);
      }
      const mips = `${e.stats.mips.toFixed(1)} MIPS over ${e.stats.wallSeconds.toFixed(1)} s`;
      const status = stayed ? { note: "suspended: saved in this browser", state: "off" as const, text: "suspended (Resume continues it)" } : exitStatus(e, mips);
      term.note(status.note);
      setState(status.state, status.text);
    },
  });
  const session = machine.session;
  vm = session;
  autoSuspend.started(resumed === "file" ? null : resumed);
  if (tabLink) tabLink.wake = () => session.wake();
  if (pageNat) pageNat.wake = () => session.wake();
  session.resize(term.cols, term.rows);
  if (roleChoice(settings, "memory") !== null && balloonMiB > 0) session.setBalloon(balloonMiB);
  setState("running", about);
  runStatus.start(() => session.instructions(), (live) => {
    if (vm === session && state === "running") controls.setLive(live);
  });
  term.focus();
}

/**
 * Resume a saved machine: the one in browser storage, or `files` (a state opened from a file
 * or a URL: a whole state, then increments over it). The state says what the board is; the
 * worker checks everything in it again (untrusted) and refuses it with a message, after which
 * the page boots the guest instead.
 */
async function resume(files?: Uint8Array[]): Promise<void> {
  if (vm?.alive || state === "loading") return;
  setState("loading");
  hideResumeOffer();
  let meta: SuspendMeta | null = null;
  if (!files) {
    const got = await store.load((loaded, total) => controls.showProgress("loading the saved machine", loaded, total)).catch(() => null);
    if (!got) {
      controls.message("The saved machine is gone from this browser's storage. Booting the guest instead.");
      controls.setResumable(false);
      setState("off");
      return powerOn();
    }
    ({ meta, files } = got);
  } else {
    // A state from elsewhere replaces the suspended one once it saves.
    await store.clear().catch(() => {});
    controls.setResumable(false);
  }
  let saved;
  try {
    saved = readSnapshot(files[files.length - 1]!).config;
  } catch (e) {
    if (!(e instanceof StateError)) throw e;
    controls.message(`Could not resume the saved machine: ${e.message}. Booting the guest instead.`);
    await store.clear().catch(() => {});
    setState("off");
    return powerOn();
  }
  // The board is the state's: the settings follow it where the page has a control for it.
  settings = { ...settings, memMiB: saved.memMiB, apic: saved.apic };
  if (meta) settings = { ...parseSettings(meta.settings).settings, autoboot: settings.autoboot };
  controls.show(settings);
  writeSettings(settings);
  const { kernel, initrd } = picker.picked;
  const bundled = kernel && initrd ? undefined : await loadDefaultGuest(saved.apic, (loaded, total) => controls.showProgress("loading guest images", loaded, total));
  const disks: Record<string, Uint8Array> = {};
  for (const d of saved.devices) {
    if (d.image === DATA_DISK_IMAGE) disks[DATA_DISK_IMAGE] = await loadDataDiskBase();
    else if (d.image === PICKED_DISK_IMAGE && picker.picked.disk) disks[PICKED_DISK_IMAGE] = picker.picked.disk.bytes.slice();
  }
  await diskPanel.settled();
  const config: VmConfig = {
    kernel: kernel?.bytes ?? bundled!.kernel,
    initrd: initrd?.bytes ?? bundled!.initrd,
    cmdline: saved.cmdline,
    memMiB: saved.memMiB,
    clock: saved.clock,
    script: { cmds: [], ready: READY_LINE },
    devices: saved.devices,
    inspect: true,
    apic: saved.apic,
    guestDecompress: saved.guestDecompress,
    pvpanic: saved.pvpanic,
    ...(saved.jit !== null ? { jit: saved.jit } : {}),
    restore: files[0]!,
    ...(files.length > 1 ? { increments: files.slice(1) } : {}),
  };
  term.clear();
  if (meta?.screen) term.replay(meta.screen);
  tabLink?.close();
  tabLink = undefined;
  pageNat?.close();
  pageNat = undefined;
  startSession(config, disks, `resumed — ${describe(settings)}`, meta ?? "file");
}

/** Save the machine in the browser and stop it (Resume, or the next visit, continues it). */
async function suspend(): Promise<void> {
  const session = vm;
  if (!session?.alive) return;
  controls.showProgress("saving the machine", 0, 0);
  try {
    const saved = await autoSuspend.save();
    if (!saved) throw new Error("the machine could not be saved");
    suspending = true;
    controls.setResumable(true);
    await session.stop();
  } finally {
    controls.endProgress();
  }
}

/** A whole state of the running machine, stored as the suspended one too. */
async function saveWhole(): Promise<Uint8Array> {
  controls.showProgress("saving the machine", 0, 0);
  try {
    const saved = await autoSuspend.save(true);
    if (!saved) throw new Error("the machine could not be saved");
    return saved.state.bytes;
  } finally {
    controls.endProgress();
  }
}

async function downloadState(): Promise<void> {
  const bytes = await saveWhole();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }));
  a.download = `vireo-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-")}.vmstate`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** Open a state from a dropped file or `?state=URL` (the running machine, if any, is stopped). */
async function openState(load: () => Promise<Uint8Array>): Promise<void> {
  if (vm?.alive) await vm.stop();
  let bytes: Uint8Array;
  try {
    bytes = await load();
  } catch (e) {
    controls.endProgress();
    controls.message(`Could not load the state: ${(e as Error).message}`);
    return;
  }
  controls.endProgress();
  await resume([bytes]);
}

/** The streamed disks' progress this power-on (the status bar shows it; the test hook reads it). */
let streamed: Record<string, StreamProgress> = {};
const streamStatus = document.getElementById("stream-status") as HTMLOutputElement;
function showStream(image: string, p: StreamProgress): void {
  streamed[image] = p;
  const all = Object.values(streamed);
  const sum = (f: (p: StreamProgress) => number) => all.reduce((n, q) => n + f(q), 0);
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  streamStatus.hidden = false;
  streamStatus.value = `disk: ${mib(sum((q) => q.fetchedBytes))} of ${mib(sum((q) => q.size))} MiB fetched, ${sum((q) => q.cacheHits)} chunks from the cache` +
    (sum((q) => q.failures) ? `, ${sum((q) => q.failures)} failed` : "");
}

const resumeOffer = document.getElementById("resume-offer")!;
function hideResumeOffer(): void {
  resumeOffer.hidden = true;
}
/** The next visit: "resume where you left off", the default (focused; `autoboot` takes it). */
function offerResume(meta: SuspendMeta): void {
  document.getElementById("resume-about")!.textContent = `A machine was suspended here ${new Date(meta.savedAt).toLocaleString()}.`;
  resumeOffer.hidden = false;
  const yes = document.getElementById("resume-yes") as HTMLButtonElement;
  yes.onclick = () => void resume().catch(report);
  (document.getElementById("resume-no") as HTMLButtonElement).onclick = () => {
    hideResumeOffer();
    void store.clear().then(() => controls.setResumable(false));
  };
  yes.focus();
}

async function start(): Promise<void> {
  if (!crossOriginIsolated || typeof SharedArrayBuffer === "undefined") controls.message("making the page cross-origin isolated (installing its service worker)…", "info");
  let isolation;
  try {
    isolation = await crossOriginIsolation();
  } catch (e) {
    controls.message("");
    controls.fatal(
      "This page is not cross-origin isolated, so SharedArrayBuffer is unavailable and Vireo cannot run: " +
        `${e instanceof IsolationError ? e.why : String(e)}. ` +
        "Serve it with COOP: same-origin and COEP: require-corp (npm start does), or over https so its service worker can add them.",
    );
    return;
  }
  if (isolation === "reloading") return;
  if (parsed.errors.length > 0) controls.message(`In the address: ${parsed.errors.join("; ")}.`);
  writeSettings(settings); // the address now says what will run
  window.vireo = {
    boot: (options) => powerOn(options).catch((e) => {
      report(e);
      throw e;
    }),
    transcript: () => term.transcript(),
    type: (text) => vm?.send(new TextEncoder().encode(text)),
    reset: () => vm?.reset(() => void powerOn().catch(report)),
    powerOff: async () => (vm ? vm.stop() : lastExit),
    state: () => state,
    lastExit: () => lastExit,
    resetDisk: () => diskPanel.reset(),
    setShare: (files) => sharePanel.replace(Object.entries(files).map(([p, text]) => (
      { path: p.split("/"), kind: "file", mode: 0o644, mtimeMs: Date.now(), data: new TextEncoder().encode(text) })), ""),
    readShare: async () => Object.fromEntries(withoutLinks(await readIdbShare()).filter((e) => e.kind === "file")
      .map((e) => [e.path.join("/"), new TextDecoder().decode(e.data)])),
    settings: () => settings,
    suspend: () => suspend(),
    resume: (files) => resume(files),
    saveState: () => saveWhole(),
    stored: () => store.meta(),
    streamProgress: () => streamed,
    termSize: () => ({ cols: term.cols, rows: term.rows }),
    inspector: {
      open: (mode = "side") => {
        inspector.setFull(mode === "full");
        inspector.setOpen(mode !== "closed");
      },
      snapshot: () => inspector.snapshotNow(),
      compare: (transports, mib) => inspector.runCompare(transports, mib),
    },
  };
  if (stateUrl) {
    // Once: a reload then resumes what this state became (the suspended machine), not the URL's.
    const q = new URLSearchParams(location.search);
    q.delete("state");
    history.replaceState(null, "", `${location.pathname}?${q}${location.hash}`);
    void openState(() => fetchBytes(stateUrl, (loaded, total) => controls.showProgress("loading the state", loaded, total))).catch(report);
    return;
  }
  const meta = await store.meta().catch(() => null);
  controls.setResumable(meta !== null);
  if (meta && settings.autoboot) void resume().catch(report);
  else if (meta) offerResume(meta);
  else if (settings.autoboot) void powerOn().catch(report);
}

// A state file (.vmstate) dropped on the page is resumed; other files go to the image slots
// (image-picker.ts). What is in it is checked by the worker, as any state.
document.body.addEventListener("drop", (ev) => {
  const files = [...(ev.dataTransfer?.files ?? [])];
  if (files.length !== 1) return;
  const f = files[0]!;
  if (!/\.vmstate$/i.test(f.name)) return;
  ev.preventDefault();
  ev.stopImmediatePropagation();
  document.body.classList.remove("dragging");
  void openState(() => readFile(f, (loaded, total) => controls.showProgress("loading the state", loaded, total))).catch(report);
}, { capture: true });
window.addEventListener("pagehide", () => autoSuspend.pagehide());

// A hidden page draws nothing: the terminal holds the guest's output, the cursor and the status
// line stop, the inspector stops asking for snapshots. The VM runs on in its worker.
// Hidden for a while, the machine is saved to browser storage (auto-suspend.ts).
document.addEventListener("visibilitychange", () => {
  const hidden = document.visibilityState === "hidden";
  term.setHidden(hidden);
  runStatus.setHidden(hidden);
  autoSuspend.visibility(hidden);
});
void start();
