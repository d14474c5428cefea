// The page's settings and their URL form, so a link reproduces a setup. No DOM here: the parser
// is unit-tested in Node (tests/web/settings.test.ts).
//
//   ?mem=128          guest RAM in MiB (16–2000)
//   &disk=T|off       the data disk (virtio-blk) on transport T (default pci-modern)
//   &console=T|serial the guest console: the 16550 UART (ttyS0, default) or virtio-console on
//                     transport T (hvc0)
//   &rng=T|off        virtio-rng on transport T (default off)
//   &balloon=T|off    virtio-balloon on transport T (default off); the page sets its size live
//   &input=T|off      a virtio-input keyboard fed from the page's key presses (default off);
//                     T must offer VIRTIO_F_VERSION_1: pci-modern, pci-transitional or mmio-v2
//   &net=T|off        virtio-net on transport T (default off)
//   &netbackend=tab|host  where its frames go: "tab", one Ethernet segment with the guests of
//                     this origin's other tabs (BroadcastChannel, default); "host", the built-in
//                     host (DHCP, ping, a web page at 10.0.2.2)
//   &share=T|off      the shared folder (virtio-9p, tag "share") on transport T (default off)
//   &autoboot=1       power on when the page opens
//   &apic=1           the APIC board: local APIC, I/O APIC, MP table (boot bzImage-apic on it)
//   &irq=msix         every virtio-pci device offers MSI-X (default intx); or a list of the
//                     devices that do, by their parameter name: irq=disk,net
//   &jit=N|off        translate a block of guest code to WebAssembly after N runs (default
//                     JIT_THRESHOLD); off interprets everything — the CLI's --jit
//
// T is one of pci-legacy, pci-modern, pci-transitional, mmio-v1, mmio-v2 — the CLI's --device
// spelling. A bad value is reported and that setting falls back to its default.
import { DEFAULT_CMDLINE, JIT_THRESHOLD } from "../devices/vm/config.ts";
import type { VirtioDeviceSpec } from "../devices/vm/config.ts";
import { TRANSPORT_KINDS, type TransportKind } from "../devices/virtio/device.ts";
import type { NetLinkEnd } from "../devices/net/ring-backend.ts";

export type DeviceChoice = TransportKind | "off";
/** The 9p spec's `path` for the page's one shared folder (web/idb-share.ts opens it). */
export const SHARE_PATH = "idb:share";
export type ConsoleChoice = TransportKind | "serial";

export interface Settings {
  memMiB: number;
  autoboot: boolean;
  disk: DeviceChoice;
  console: ConsoleChoice;
  rng: DeviceChoice;
  balloon: DeviceChoice;
  input: DeviceChoice;
  net: DeviceChoice;
  netBackend: NetBackendChoice;
  /** The APIC board (VmConfig.apic). Absent: PIC only. */
  apic?: boolean;
  /** MSI-X on every virtio-pci device, or on those named (VirtioDeviceSpec.irq). Absent: INTx. */
  irq?: "msix" | readonly IrqDevice[];
  /** The shared folder; absent means off (kept optional so older settings objects stay valid). */
  share?: DeviceChoice;
  /** JIT threshold (VmConfig.jit), 0 = off. Absent: JIT_THRESHOLD. */
  jit?: number;
}

export type NetBackendChoice = "tab" | "host";
export const NET_BACKEND_CHOICES: readonly NetBackendChoice[] = ["tab", "host"];

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  memMiB: 128, autoboot: false, disk: "pci-modern", console: "serial", rng: "off", balloon: "off", input: "off", net: "off", netBackend: "tab",
};

/** The devices `irq=` can name (their URL parameter), and the spec type each is. */
export const IRQ_DEVICES = ["console", "disk", "rng", "balloon", "input", "share", "net"] as const;
export type IrqDevice = (typeof IRQ_DEVICES)[number];
const IRQ_DEVICE_OF: Record<VirtioDeviceSpec["type"], IrqDevice> = {
  console: "console", blk: "disk", rng: "rng", balloon: "balloon", input: "input", "9p": "share", net: "net",
};

export const DEVICE_CHOICES: readonly DeviceChoice[] = ["off", ...TRANSPORT_KINDS];
export const CONSOLE_CHOICES: readonly ConsoleChoice[] = ["serial", ...TRANSPORT_KINDS];
/** Linux's virtio-input driver refuses a device without VIRTIO_F_VERSION_1. */
export const INPUT_CHOICES: readonly DeviceChoice[] = ["off", "pci-modern", "pci-transitional", "mmio-v2"];

export interface ParsedSettings {
  settings: Settings;
  /** One line per rejected parameter, for the page to show. */
  errors: string[];
}

export function parseSettings(search: string): ParsedSettings {
  const q = new URLSearchParams(search);
  const errors: string[] = [];
  const s: Settings = { ...DEFAULT_SETTINGS };

  const mem = q.get("mem");
  if (mem !== null) {
    const n = Number(mem);
    if (/^\d+$/.test(mem) && n >= 16 && n <= 2000) s.memMiB = n;
    else errors.push(`mem=${mem} is not a whole number of MiB from 16 to 2000; using ${s.memMiB}`);
  }
  const autoboot = q.get("autoboot");
  if (autoboot !== null) {
    if (autoboot === "1" || autoboot === "0") s.autoboot = autoboot === "1";
    else errors.push(`autoboot=${autoboot} must be 1 or 0; using 0`);
  }
  const choice = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const v = q.get(key);
    if (v === null) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    errors.push(`${key}=${v} is not one of ${allowed.join(", ")}; using ${fallback}`);
    return fallback;
  };
  s.disk = choice("disk", DEVICE_CHOICES, s.disk);
  s.console = choice("console", CONSOLE_CHOICES, s.console);
  s.rng = choice("rng", DEVICE_CHOICES, s.rng);
  s.balloon = choice("balloon", DEVICE_CHOICES, s.balloon);
  s.input = choice("input", INPUT_CHOICES, s.input);
  s.net = choice("net", DEVICE_CHOICES, s.net);
  s.netBackend = choice("netbackend", NET_BACKEND_CHOICES, s.netBackend);
  if (choice("apic", ["0", "1"], "0") === "1") s.apic = true;
  const irq = q.get("irq");
  if (irq !== null && irq !== "intx") {
    const names = irq.split(",");
    if (irq === "msix") s.irq = "msix";
    else if (names.every((n) => (IRQ_DEVICES as readonly string[]).includes(n))) s.irq = names as IrqDevice[];
    else errors.push(`irq=${irq} is not intx, msix or a list of ${IRQ_DEVICES.join(", ")}; using intx`);
  }
  if (q.has("share")) s.share = choice("share", DEVICE_CHOICES, "off");
  const jit = q.get("jit");
  if (jit !== null) {
    const n = jit === "off" ? 0 : Number(jit);
    if (jit === "off" || (/^\d+$/.test(jit) && n >= 1 && n <= 1e9)) s.jit = n;
    else errors.push(`jit=${jit} is not off or a whole number of runs; using ${JIT_THRESHOLD}`);
  }
  return { settings: s, errors };
}

/**
 * `search` with the settings written in; parameters the page does not own are kept. Defaults
 * are left out so a plain link stays short.
 */
export function settingsQuery(s: Settings, search = ""): string {
  const q = new URLSearchParams(search);
  q.set("mem", String(s.memMiB));
  const put = (key: string, value: string, def: string) => (value === def ? q.delete(key) : q.set(key, value));
  put("disk", s.disk, DEFAULT_SETTINGS.disk);
  put("console", s.console, DEFAULT_SETTINGS.console);
  put("rng", s.rng, DEFAULT_SETTINGS.rng);
  put("balloon", s.balloon, DEFAULT_SETTINGS.balloon);
  put("input", s.input, DEFAULT_SETTINGS.input);
  put("net", s.net, DEFAULT_SETTINGS.net);
  put("netbackend", s.netBackend, DEFAULT_SETTINGS.netBackend);
  put("share", s.share ?? "off", "off");
  put("autoboot", s.autoboot ? "1" : "0", "0");
  put("apic", s.apic ? "1" : "0", "0");
  put("irq", typeof s.irq === "object" ? s.irq.join(",") : (s.irq ?? "intx"), "intx");
  put("jit", s.jit === undefined ? String(JIT_THRESHOLD) : s.jit === 0 ? "off" : String(s.jit), String(JIT_THRESHOLD));
  return q.toString();
}

/**
 * The virtio devices these settings plug, console first: the board numbers them in this order
 * (virtio0, virtio1, …; PCI slots from 1), the same order the CLI's transport tests use.
 */
export function deviceSpecs(s: Settings, diskImage: string, net?: { link?: NetLinkEnd; mac?: string }): VirtioDeviceSpec[] {
  const specs: VirtioDeviceSpec[] = [];
  if (s.console !== "serial") specs.push({ type: "console", transport: s.console });
  if (s.disk !== "off") specs.push({ type: "blk", transport: s.disk, image: diskImage });
  if (s.rng !== "off") specs.push({ type: "rng", transport: s.rng });
  if (s.balloon !== "off") specs.push({ type: "balloon", transport: s.balloon });
  if (s.input !== "off") specs.push({ type: "input", transport: s.input });
  // The page's shared folder lives in IndexedDB (web/idb-share.ts); the guest mounts tag "share".
  if (s.share && s.share !== "off") specs.push({ type: "9p", transport: s.share, path: SHARE_PATH, tag: "share" });
  // Last, so adding a NIC leaves the other devices' numbering alone. A tab link needs its rings.
  if (s.net !== "off" && (s.netBackend === "host" || net?.link)) {
    const spec: VirtioDeviceSpec = { type: "net", transport: s.net, backend: s.netBackend === "host" ? "host" : "link" };
    if (s.netBackend === "tab") spec.link = net!.link;
    if (net?.mac) spec.mac = net.mac;
    specs.push(spec);
  }
  for (const d of specs) {
    const named = Array.isArray(s.irq) && s.irq.includes(IRQ_DEVICE_OF[d.type]);
    if (d.transport.startsWith("pci-") && (s.irq === "msix" || named)) d.irq = "msix";
  }
  return specs;
}

/** The kernel command line: the default one, with the console on hvc0 for a virtio-console. */
export function kernelCmdline(s: Settings): string {
  return s.console === "serial" ? DEFAULT_CMDLINE : DEFAULT_CMDLINE.replace("console=ttyS0", "console=hvc0");
}
