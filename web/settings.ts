// The page's settings and their URL form, so a link reproduces a setup. No DOM here: the parser
// is unit-tested in Node (tests/web/settings.test.ts).
//
//   ?mem=128          guest RAM in MiB (16–2000)
//   &PARAM=T|OFF      one per device type the registry offers the page (devices/registry.ts,
//                     each type's `page`): disk (virtio-blk, the data disk, default pci-modern),
//                     console (serial = the 16550 UART on ttyS0, default; or virtio-console on
//                     hvc0), rng, balloon (its size set live), input (a keyboard fed from the
//                     page's key presses; only transports with VIRTIO_F_VERSION_1), share (the
//                     shared folder, virtio-9p), net; all off by default
//   &netbackend=tab|host|wisp  where the NIC's frames go: "tab", one Ethernet segment with the
//                     guests of this origin's other tabs (BroadcastChannel, default); "host", the
//                     built-in host (DHCP, ping, a web page at 10.0.2.2); "wisp", the built-in
//                     host as a NAT gateway to the real network through a Wisp relay; "fetch",
//                     the same NAT with no relay: plain HTTP to port 80 becomes fetch() (CORS
//                     permitting), nothing else gets out
//   &relay=URL        the Wisp relay (ws:// or wss://; implies netbackend=wisp); default the
//                     page's own wisp/ (which the dev server serves)
//   &autoboot=1       power on when the page opens
//   &apic=1|0         the board: 1, the APIC board (local APIC, I/O APIC, MP table; default),
//                     whose bundled guest is bzImage-apic; 0, the PIC-only board and bzImage
//   &irq=msix         every virtio-pci device offers MSI-X (default intx); or a list of the
//                     devices that do, by their parameter name: irq=disk,net
//   &guest=NAME       the guest (devices/vm/guests.ts): default (busybox, bundled) or debian
//                     (Debian 12, its root disk streamed from guest-images/debian/)
//   &stream=URL       the data disk streamed from the disk manifest at URL (IMAGE.manifest.json,
//                     npm run disk-manifest) instead of the bundled empty disk
//   &jit=N|off        translate a block of guest code to WebAssembly after N runs (default
//                     JIT_THRESHOLD); off interprets everything — the CLI's --jit
//
// T is one of pci-legacy, pci-modern, pci-transitional, mmio-v1, mmio-v2 — the CLI's --device
// spelling. A bad value is reported and that setting falls back to its default.
import { DEFAULT_CMDLINE, JIT_THRESHOLD } from "../devices/vm/config.ts";
import type { VirtioDeviceSpec } from "../devices/vm/config.ts";
import { DEVICE_TYPES, TRANSPORTS, pageDeviceTypes, deviceTypeWithRole, type DeviceRole, type DeviceType, type PageControl } from "../devices/registry.ts";
import { optionField } from "../devices/virtio/device-type.ts";
import type { NetLinkEnd } from "../devices/net/ring-backend.ts";
import { DEFAULT_GUEST, GUEST_NAMES } from "../devices/vm/guests.ts";

/** The 9p spec's `path` for the page's one shared folder (web/idb-share.ts opens it). */
export const SHARE_PATH = "idb:share";

export interface Settings {
  memMiB: number;
  autoboot: boolean;
  /**
   * Each device the page offers, by its URL parameter: its `off` choice or a transport name.
   * A device whose control is optional may be absent (off).
   */
  devices: Record<string, string>;
  netBackend: NetBackendChoice;
  /**
   * The APIC board (VmConfig.apic), the default: its local APIC timer lets an idle guest sleep
   * for seconds between ticks, where the PIT-only board's one-shot wakes it 36 times a second.
   */
  apic: boolean;
  /** MSI-X on every virtio-pci device, or on those named by parameter (VirtioDeviceSpec.irq). Absent: INTx. */
  irq?: "msix" | readonly string[];
  /** JIT threshold (VmConfig.jit), 0 = off. Absent: JIT_THRESHOLD. */
  jit?: number;
  /** The guest to boot, by name (devices/vm/guests.ts). */
  guest: string;
  /** The data disk's manifest URL when it is streamed; absent: the bundled disk. */
  stream?: string;
  /** netBackend "wisp": the relay's URL. Absent: the page's own wisp/ (relayUrl). */
  relay?: string;
}

export type NetBackendChoice = "tab" | "host" | "wisp" | "fetch";
export const NET_BACKEND_CHOICES: readonly NetBackendChoice[] = ["tab", "host", "wisp", "fetch"];

/** The relay a "wisp" NIC uses: `relay=`, or wisp/ beside the page (ws: or wss: as the page is http: or https:). */
export function relayUrl(s: Settings, page: string): string {
  if (s.relay) return s.relay;
  const u = new URL("wisp/", page);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.search = "";
  return u.href;
}

/** The page's device controls, in plugging order (virtio0, virtio1, …). */
export const PAGE_DEVICES = (): (DeviceType & { page: PageControl })[] => pageDeviceTypes();

/** The choices of a device's select: its `off`, then every transport it works on. */
export function deviceChoices(t: DeviceType & { page: PageControl }): string[] {
  return [t.page.off, ...TRANSPORTS.filter((x) => !t.transports || t.transports(x)).map((x) => x.name)];
}

export const defaultSettings = (): Settings => ({
  memMiB: 128, autoboot: false, netBackend: "tab", apic: true, guest: DEFAULT_GUEST,
  devices: Object.fromEntries(PAGE_DEVICES().filter((t) => !t.page.optional).map((t) => [t.page.param, t.page.default])),
});
export const DEFAULT_SETTINGS: Readonly<Settings> = defaultSettings();

/** The devices `irq=` can name: their URL parameters. */
export const irqDevices = (): string[] => PAGE_DEVICES().map((t) => t.page.param);

/** The setting of the device type that plays `role`, or null when it is off (or not offered). */
export function roleChoice(s: Settings, role: DeviceRole): string | null {
  const t = deviceTypeWithRole(role);
  if (!t?.page) return null;
  const v = s.devices[t.page.param] ?? t.page.off;
  return v === t.page.off ? null : v;
}

/** `s` with the device of `role` set to `choice` (a transport, or null for off). */
export function withRole(s: Settings, role: DeviceRole, choice: string | null): Settings {
  const t = deviceTypeWithRole(role);
  if (!t?.page) return s;
  return { ...s, devices: { ...s.devices, [t.page.param]: choice ?? t.page.off } };
}

export interface ParsedSettings {
  settings: Settings;
  /** One line per rejected parameter, for the page to show. */
  errors: string[];
}

export function parseSettings(search: string): ParsedSettings {
  const q = new URLSearchParams(search);
  const errors: string[] = [];
  const s: Settings = defaultSettings();

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
  // In registry order, so messages come in the order --help lists the types.
  for (const t of DEVICE_TYPES) {
    const p = t.page;
    if (!p || (p.optional && !q.has(p.param))) continue;
    s.devices[p.param] = choice(p.param, deviceChoices({ ...t, page: p }), p.optional ? p.off : (s.devices[p.param] ?? p.default));
  }
  s.netBackend = choice("netbackend", NET_BACKEND_CHOICES, s.netBackend);
  const relay = q.get("relay");
  if (relay !== null) {
    if (/^wss?:\/\/[^/]/.test(relay) && URL.canParse(relay)) {
      s.relay = relay;
      if (!q.has("netbackend")) s.netBackend = "wisp";
    } else {
      errors.push(`relay=${relay} is not a ws:// or wss:// URL; using the page's own wisp/`);
    }
  }
  s.apic = choice("apic", ["0", "1"], s.apic ? "1" : "0") === "1";
  const irq = q.get("irq");
  if (irq !== null && irq !== "intx") {
    const names = irq.split(",");
    const params = irqDevices();
    if (irq === "msix") s.irq = "msix";
    else if (names.every((n) => params.includes(n))) s.irq = names;
    else errors.push(`irq=${irq} is not intx, msix or a list of ${params.join(", ")}; using intx`);
  }
  s.guest = choice("guest", GUEST_NAMES, s.guest);
  const stream = q.get("stream");
  if (stream !== null) {
    if (/^(https?:\/\/|\/|\.)/.test(stream) && stream.endsWith(".manifest.json")) s.stream = stream;
    else errors.push(`stream=${stream} is not the URL of a disk manifest (IMAGE.manifest.json); using the bundled disk`);
  }
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
  for (const t of PAGE_DEVICES()) {
    const p = t.page;
    put(p.param, s.devices[p.param] ?? p.off, p.optional ? p.off : p.default);
  }
  put("netbackend", s.netBackend, DEFAULT_SETTINGS.netBackend);
  put("relay", s.relay ?? "", "");
  put("autoboot", s.autoboot ? "1" : "0", "0");
  put("apic", s.apic ? "1" : "0", DEFAULT_SETTINGS.apic ? "1" : "0");
  put("irq", typeof s.irq === "object" ? s.irq.join(",") : (s.irq ?? "intx"), "intx");
  put("guest", s.guest, DEFAULT_GUEST);
  if (s.stream) q.set("stream", s.stream);
  else q.delete("stream");
  put("jit", s.jit === undefined ? String(JIT_THRESHOLD) : s.jit === 0 ? "off" : String(s.jit), String(JIT_THRESHOLD));
  return q.toString();
}

/**
 * The virtio devices these settings plug, in the page's order (each type's `page.order`): the
 * board numbers them so (virtio0, virtio1, …; PCI slots from 1), the same order the CLI's
 * transport tests use. What the host supplies goes by role: the data disk's image, the shared
 * folder, the NIC's link and MAC (a tab link needs its rings: no NIC without them).
 */
export function deviceSpecs(s: Settings, diskImage: string, net?: { link?: NetLinkEnd; mac?: string }): VirtioDeviceSpec[] {
  const specs: VirtioDeviceSpec[] = [];
  for (const t of PAGE_DEVICES()) {
    const choice = s.devices[t.page.param] ?? t.page.off;
    if (choice === t.page.off) continue;
    const transport = TRANSPORTS.find((x) => x.name === choice)?.name;
    if (!transport) continue;
    const spec: VirtioDeviceSpec = { type: t.name, transport };
    const roles = t.roles ?? [];
    if (roles.includes("disk")) spec.image = diskImage;
    if (roles.includes("share")) {
      // The page's shared folder lives in IndexedDB (web/idb-share.ts), under the default tag.
      spec.path = SHARE_PATH;
      for (const o of t.options) if (o.default !== undefined && o.kind === "string") spec[optionField(o)] = o.default;
    }
    if (roles.includes("network")) {
      // tab, wisp and fetch: frame rings to the page (its tab link, or its NAT)
      if (s.netBackend !== "host" && !net?.link) continue;
      spec.backend = s.netBackend === "host" ? "host" : "link";
      if (s.netBackend !== "host") spec.link = net!.link;
      if (net?.mac) spec.mac = net.mac;
    }
    const named = Array.isArray(s.irq) && s.irq.includes(t.page.param);
    const msix = TRANSPORTS.find((x) => x.name === transport)?.msi === "msix";
    if (msix && (s.irq === "msix" || named)) spec.irq = "msix";
    specs.push(spec);
  }
  return specs;
}

/** The kernel command line: the default one, with the console on hvc0 for a virtio-console. */
export function kernelCmdline(s: Settings): string {
  return roleChoice(s, "terminal") === null ? DEFAULT_CMDLINE : DEFAULT_CMDLINE.replace("console=ttyS0", "console=hvc0");
}
